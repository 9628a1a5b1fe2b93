// GearboxReport/Report/SwitchCostSection: the cost of switching from one variant to another,
// cold (page cache dropped) and warm, as two heatmaps and two tables.

import GearboxCore
import GearboxProfiler

extension ReportBuilder {
    func switchCostSection() -> ReportSection {
        var blocks: [ReportBlock] = []
        let names = lut.variants.map(\.name)
        let hasAny = lut.switchCostNs.values.contains { $0.values.contains { $0.cold != nil || $0.warm != nil } }
        guard hasAny else {
            blocks.append(.note("The table has no switch costs (profile with the switch-cost meter enabled to fill them)."))
            return ReportSection(id: "switch-cost", title: "Switch cost", blocks: blocks)
        }
        let warmCache = lut.switchCostNs.values.contains { $0.values.contains { $0.coldCache == "warm-cache" } }
        // The heatmaps chart plain numbers of ns.
        func matrix(_ pick: (LookupTable.SwitchCost) -> Nanoseconds?) -> [[Double?]] {
            names.map { from in names.map { to in lut.switchCostNs[from]?[to].flatMap(pick)?.value } }
        }
        let cold = matrix(\.cold), warm = matrix(\.warm)
        let source = Self.sourceLabel(lut.controller)
        let coldTitle = warmCache ? "Cold switch (page cache NOT dropped)" : "Cold switch (page cache dropped)"
        // Up to eight variants the two maps sit side by side; more get the page's full width each.
        let sideBySide = names.count <= 8
        let figures = [("cold", coldTitle, cold), ("warm", "Warm switch (variant resident)", warm)].map { kind, title, values in
            let heatmap = Heatmap(
                id: "switch-\(kind)", title: title, rowLabels: names, columnLabels: names, values: values,
                format: .durationNs, rowAxisTitle: "from", columnAxisTitle: "to", width: sideBySide ? 540 : 1000)
            return ReportFigure(id: "switch-\(kind)", title: title, chart: heatmap, source: source, provenance: provenanceLabel)
        }
        if sideBySide { blocks.append(.figureRow(figures)) } else { blocks += figures.map { .figure($0) } }
        if warmCache {
            blocks.append(.note("Cold switches were measured with a warm page cache (dropping caches was not permitted), so they understate a true cold start."))
        }
        blocks.append(.paragraph("Each cell is the time to make the column's variant ready to run after the row's variant was in use. Grey cells were not measured; the colour scale is per heatmap."))
        for (kind, values) in [("Cold", cold), ("Warm", warm)] {
            blocks.append(.table(ReportTable(
                caption: "\(kind) switch cost (row: from, column: to)",
                header: ["from \\ to"] + names,
                rows: names.indices.map { row in
                    [variantCell(names[row])] + names.indices.map { column in
                        values[row][column].map { TableCell(Formatting.duration(Nanoseconds($0))) } ?? TableCell("–", emphasis: .muted)
                    }
                },
                numericColumns: Set(1...max(1, names.count)), collapsed: !sideBySide)))
        }
        let maskRows: [[TableCell]] = names.flatMap { from in
            names.compactMap { to -> [TableCell]? in
                guard let cost = lut.switchCostNs[from]?[to], let mask = cost.maskSwitch else { return nil }
                return [variantCell(from), variantCell(to), TableCell(Formatting.duration(mask)),
                        cost.warm.map { TableCell(Formatting.duration($0)) } ?? TableCell("–", emphasis: .muted)]
            }
        }
        if !maskRows.isEmpty {
            blocks.append(.table(ReportTable(
                caption: "Mask switches between variants sharing one set of weights (no weights copied)",
                header: ["From", "To", "Mask switch alone", "Warm switch"], rows: maskRows, numericColumns: [2, 3])))
        }
        return ReportSection(id: "switch-cost", title: "Switch cost", blocks: blocks)
    }
}
