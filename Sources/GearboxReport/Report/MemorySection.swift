// GearboxReport/Report/MemorySection: what each variant costs in memory (engine accounting and
// measured RSS growth) and what the whole resident portfolio costs.

import GearboxProfiler

extension ReportBuilder {
    func memorySection() -> ReportSection {
        var blocks: [ReportBlock] = []
        let variants = lut.variants
        let engine = variants.map { Double($0.memory?.engineBytes ?? $0.memoryBytes) }
        let rss = variants.map { $0.memory?.rssDeltaBytes.map(Double.init) }
        let peak = variants.map { $0.memory?.peakRSSDeltaBytes.map(Double.init) }
        let portfolio = lut.portfolioMemory
        let sumOfVariants = portfolio.map { Double($0.sumSeparateEngineBytes) } ?? engine.reduce(0, +)
        let residentEngine = portfolio.map { Double($0.allResidentEngineBytes) } ?? lut.residentPortfolioBytes.map(Double.init)
        let residentRSS = portfolio?.allResidentRSSDeltaBytes.map(Double.init)
        var categories = variants.map(\.name)
        var colors = variants.map { color(ofVariant: $0.name) }
        var engineValues: [Double?] = engine
        var rssValues = rss, peakValues = peak
        if let residentEngine {
            categories.append("resident (all \(variants.count))")
            colors.append(Palette.target)
            engineValues.append(residentEngine); rssValues.append(residentRSS); peakValues.append(nil)
        }
        var series = [BarSeries(name: "engine bytes", color: Palette.series(0), values: engineValues)]
        if rss.contains(where: { $0 != nil }) { series.append(BarSeries(name: "RSS growth", color: Palette.series(4), values: rssValues)) }
        if peak.contains(where: { $0 != nil }) { series.append(BarSeries(name: "peak RSS growth", color: Palette.series(8), values: peakValues)) }
        let chart = BarChart(
            id: "memory", title: "Memory per variant and for the resident portfolio", categories: categories,
            categoryColors: colors, series: series, format: .bytes, axisTitle: "Memory", width: 1000)
        blocks.append(.figure(ReportFigure(
            id: "memory", title: chart.title, chart: chart, source: "engine accounting; RSS measured (real process memory)", provenance: provenanceLabel,
            caption: "Engine bytes are what the engine allocates for weights and workspace; RSS growth is what the process's resident set grew by when the variant was loaded (measured, includes allocator overhead).")))

        var rows: [[TableCell]] = variants.indices.map { index in
            [variantCell(variants[index].name), TableCell(variants[index].format),
             TableCell(Formatting.count(Double(variants[index].params))),
             TableCell(Formatting.bytes(engine[index])),
             rss[index].map { TableCell(Formatting.bytes($0)) } ?? TableCell("not measured", emphasis: .muted),
             peak[index].map { TableCell(Formatting.bytes($0)) } ?? TableCell("not measured", emphasis: .muted)]
        }
        let sumRSS = portfolio?.sumSeparateRSSDeltaBytes.map(Double.init)
        rows.append([TableCell("sum of all variants", emphasis: .strong), "", "", TableCell(Formatting.bytes(sumOfVariants), emphasis: .strong),
                     sumRSS.map { TableCell(Formatting.bytes($0), emphasis: .strong) } ?? "", ""])
        if let residentEngine {
            let share = sumOfVariants > 0 ? residentEngine / sumOfVariants : 1
            rows.append([TableCell("resident portfolio", emphasis: .strong), "", "",
                         TableCell(Formatting.bytes(residentEngine) + " (\(Formatting.ratio(share)) of the sum)", emphasis: .strong),
                         residentRSS.map { TableCell(Formatting.bytes($0), emphasis: .strong) } ?? "", ""])
        }
        // Columns nothing was measured for are left out (and said so) rather than filled with "not measured".
        var header = ["Variant", "Format", "Parameters", "Engine bytes", "RSS growth", "Peak RSS growth"]
        var dropped: [Int] = []
        if !rss.contains(where: { $0 != nil }) && residentRSS == nil && sumRSS == nil { dropped.append(4) }
        if !peak.contains(where: { $0 != nil }) { dropped.append(5) }
        for column in dropped.sorted(by: >) {
            header.remove(at: column)
            rows = rows.map { row in var row = row; if row.indices.contains(column) { row.remove(at: column) }; return row }
        }
        blocks.append(.table(ReportTable(
            caption: "Memory per variant", header: header, rows: rows, numericColumns: Set(2..<header.count))))
        if !dropped.isEmpty {
            blocks.append(.note("Process memory (RSS) was not measured for this table (e.g. --skip-memory or a simulated run); only the engine's own accounting is shown."))
        }
        if residentEngine == nil {
            blocks.append(.note("The table does not record the resident portfolio's memory (all variants loaded at once)."))
        }
        return ReportSection(id: "memory", title: "Memory", blocks: blocks)
    }
}
