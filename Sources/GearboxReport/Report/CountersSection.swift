// GearboxReport/Report/CountersSection: performance counters per inference, only those that were
// actually counted; unsupported ones are listed with their reason, never shown as zero.

import GearboxProfiler

extension ReportBuilder {
    func countersSection() -> ReportSection {
        var blocks: [ReportBlock] = []
        var counted = Set<String>(), derived = Set<String>()
        var unsupported: [String: String] = [:]
        for variant in lut.variants {
            for cell in variant.counters.values {
                counted.formUnion(cell.values.keys); derived.formUnion(cell.derived.keys)
                for (name, reason) in cell.unsupported where unsupported[name] == nil { unsupported[name] = reason }
            }
        }
        for name in counted { unsupported[name] = nil }
        let columns = counted.sorted() + derived.sorted()
        if !unsupported.isEmpty {
            // Grouped by reason, so a missing PMU reads as one clause.
            let reasons = Dictionary(grouping: unsupported.keys.sorted(), by: { unsupported[$0] ?? "unsupported" })
            let list = reasons.keys.sorted().map { reason in "\((reasons[reason] ?? []).joined(separator: ", ")) (\(reason))" }.joined(separator: "; ")
            blocks.append(.note("Not counted on this device, so not shown: \(list)."))
        }
        guard !columns.isEmpty else {
            blocks.append(.note("No counter was counted for any variant."))
            return ReportSection(id: "counters", title: "Counters", blocks: blocks)
        }
        func value(_ cell: LookupTable.CounterCell, _ name: String) -> TableCell {
            if let v = cell.values[name] ?? cell.derived[name] { return TableCell(Formatting.count(v)) }
            return TableCell("–", emphasis: .muted)
        }
        // The main table uses each variant's highest counted frequency; the full one lists all.
        let main: [[TableCell]] = lut.variants.compactMap { variant in
            let keyed = variant.counters.compactMap { key, cell in Int(key).map { ($0, cell) } }.sorted { $0.0 < $1.0 }
            guard let (kHz, cell) = keyed.last else { return nil }
            return [variantCell(variant.name), TableCell(Formatting.frequency(kHz: kHz))] + columns.map { value(cell, $0) }
        }
        blocks.append(.table(ReportTable(
            caption: "Counters per inference at each variant's highest profiled frequency (\(lut.controller.rawValue) run)",
            header: ["Variant", "Frequency"] + columns, rows: main, numericColumns: Set(1..<(columns.count + 2)))))
        let all: [[TableCell]] = lut.variants.flatMap { variant in
            variant.counters.compactMap { key, cell in Int(key).map { ($0, cell) } }.sorted { $0.0 < $1.0 }.map { kHz, cell in
                [variantCell(variant.name), TableCell(Formatting.frequency(kHz: kHz))] + columns.map { value(cell, $0) }
            }
        }
        if all.count > main.count {
            blocks.append(.table(ReportTable(
                caption: "Counters per inference at every frequency", header: ["Variant", "Frequency"] + columns, rows: all,
                numericColumns: Set(1..<(columns.count + 2)), collapsed: true)))
        }
        return ReportSection(id: "counters", title: "Counters", blocks: blocks)
    }
}
