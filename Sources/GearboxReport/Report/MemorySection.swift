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
        let sumOfVariants = engine.reduce(0, +)
        var categories = variants.map(\.name)
        var colors = variants.map { color(ofVariant: $0.name) }
        var engineValues: [Double?] = engine
        var rssValues = rss, peakValues = peak
        if let resident = lut.residentPortfolioBytes {
            categories.append("resident (all \(variants.count))")
            colors.append(Palette.target)
            engineValues.append(Double(resident)); rssValues.append(nil); peakValues.append(nil)
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
        rows.append([TableCell("sum of all variants", emphasis: .strong), "", "", TableCell(Formatting.bytes(sumOfVariants), emphasis: .strong), "", ""])
        if let resident = lut.residentPortfolioBytes {
            let saving = sumOfVariants > 0 ? Double(resident) / sumOfVariants : 1
            rows.append([TableCell("resident portfolio", emphasis: .strong), "", "",
                         TableCell(Formatting.bytes(Double(resident)) + " (\(Formatting.ratio(saving)) of the sum)", emphasis: .strong), "", ""])
        }
        blocks.append(.table(ReportTable(
            caption: "Memory per variant",
            header: ["Variant", "Format", "Parameters", "Engine bytes", "RSS growth", "Peak RSS growth"],
            rows: rows, numericColumns: [2, 3, 4, 5])))
        if lut.residentPortfolioBytes == nil {
            blocks.append(.note("The table does not record the resident portfolio's memory (all variants loaded at once)."))
        }
        return ReportSection(id: "memory", title: "Memory", blocks: blocks)
    }
}
