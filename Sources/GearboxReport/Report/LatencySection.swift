// GearboxReport/Report/LatencySection: latency against frequency for every variant: the p50
// line, the p50–p99 band, the fitted model dashed, predicted cells hollow; and the same numbers
// as tables.

import GearboxCore
import GearboxProfiler

extension ReportBuilder {
    func latencySection() -> ReportSection {
        var blocks: [ReportBlock] = []
        var marks: [Mark] = []
        var legend: [LegendEntry] = []
        let frequencies = lut.allFrequenciesKHz
        let allP50 = lut.variants.flatMap { $0.latency.values.map(\.p50Ns) }.filter { $0 > 0 }
        let allP99 = lut.variants.flatMap { $0.latency.values.map(\.p99Ns) }.filter { $0 > 0 }
        let spread = (allP99.max() ?? 1) / max(allP50.min() ?? 1, 1)
        let logY = spread > 12

        for variant in lut.variants {
            let color = color(ofVariant: variant.name)
            let cells = variant.cellsByFrequency
            guard !cells.isEmpty else { continue }
            let xs = cells.map { Self.mhz($0.kHz) }
            marks.append(.band(x: xs, lower: cells.map { Self.ms($0.cell.p50Ns) }, upper: cells.map { Self.ms($0.cell.p99Ns) }, color: color, opacity: 0.13))
        }
        for variant in lut.variants {
            let color = color(ofVariant: variant.name)
            let cells = variant.cellsByFrequency
            if let model = variant.model, let low = frequencies.first, let high = frequencies.last, high > low {
                let samples = (0...48).map { step -> Point in
                    let kHz = Double(low) + Double(high - low) * Double(step) / 48
                    return Point(x: kHz / 1000, y: Self.ms(model.aNs.value + model.bNsKHz / kHz))
                }
                marks.append(.line(points: samples, color: color, width: 1.4, dash: .dashed))
            }
            guard !cells.isEmpty else { continue }
            marks.append(.line(points: cells.map { Point(x: Self.mhz($0.kHz), y: Self.ms($0.cell.p50Ns)) }, color: color, width: 2.2))
            for predicted in [false, true] {
                let chosen = cells.filter { ($0.cell.source == .predicted) == predicted }
                guard !chosen.isEmpty else { continue }
                marks.append(.points(
                    points: chosen.map { Point(x: Self.mhz($0.kHz), y: Self.ms($0.cell.p50Ns)) }, color: color,
                    shape: predicted ? .ring : .circle, size: predicted ? 8 : 7,
                    tooltips: chosen.map { tooltip(variant.name, $0.kHz, $0.cell) }))
            }
            legend.append(LegendEntry(variant.name, color: color, symbol: .line(.solid)))
        }
        let hasModel = lut.variants.contains { $0.model != nil }
        let hasPredicted = lut.variants.contains { $0.latency.values.contains { $0.source == .predicted } }
        legend.append(LegendEntry("p50 to p99 (shaded)", color: Palette.mutedInk, symbol: .band))
        if hasModel { legend.append(LegendEntry("fitted t = a + b/f", color: Palette.mutedInk, symbol: .line(.dashed))) }
        legend.append(LegendEntry("measured p50", color: Palette.mutedInk, symbol: .marker(.circle)))
        if hasPredicted { legend.append(LegendEntry("predicted p50", color: Palette.mutedInk, symbol: .marker(.ring))) }

        let chart = XYChart(
            id: "latency-vs-frequency", title: "Latency against frequency, per variant",
            x: Axis("Frequency (MHz)"),
            y: Axis(logY ? "Latency (ms, log scale)" : "Latency (ms)", kind: logY ? .logarithmic : .linear, includesZero: !logY),
            marks: marks, legend: legend, width: 1000, height: 430)
        blocks.append(.figure(ReportFigure(
            id: "latency-vs-frequency", title: chart.title, chart: chart, source: latencySourceLabel, provenance: provenanceLabel,
            caption: "Lines join the p50 of each cell; the shaded band runs from p50 to p99 (the table records p50, p90 and p99, no lower percentile). "
                + (hasModel ? "Dashed curves are each variant's fitted t = a + b/f. " : "")
                + (hasPredicted ? "Hollow markers are predicted by that model, not measured." : ""))))

        blocks.append(.table(ReportTable(
            caption: "p50 · p99 latency in ms per frequency (†: predicted, not measured; ~: flagged noisy)",
            header: ["Variant"] + frequencies.map { Formatting.frequency(kHz: $0) },
            rows: lut.variants.map { variant in
                [variantCell(variant.name)] + frequencies.map { kHz in
                    guard let cell = variant.cell(atKHz: kHz) else { return TableCell("–", emphasis: .muted) }
                    let marker = (cell.source == .predicted ? "†" : "") + (cell.noisy == true ? "~" : "")
                    let text = Formatting.significant(Self.ms(cell.p50Ns)) + " · " + Formatting.significant(Self.ms(cell.p99Ns)) + marker
                    return TableCell(text, emphasis: cell.source == .predicted ? .muted : .none)
                }
            },
            numericColumns: Set(1...max(1, frequencies.count)))))

        if hasModel {
            blocks.append(.table(ReportTable(
                caption: "Fitted frequency model t(f) = a + b/f per variant (LOO: leave-one-frequency-out error)",
                header: ["Variant", "a (frequency-independent)", "b/f at top frequency", "R²", "LOO MAPE"],
                rows: lut.variants.map { variant in
                    guard let model = variant.model else {
                        return [variantCell(variant.name), TableCell("no model", emphasis: .muted), "–", "–", "–"]
                    }
                    let top = Double(frequencies.last ?? 1)
                    let mape = model.looMape
                    return [variantCell(variant.name), TableCell(Formatting.duration(model.aNs)),
                            TableCell(Formatting.duration(Nanoseconds(model.bNsKHz / top))), TableCell(Formatting.fixed(model.r2, decimals: 4)),
                            TableCell(Formatting.percent(mape), emphasis: mape > 0.1 ? .bad : .none)]
                },
                numericColumns: [1, 2, 3, 4])))
        }

        let noisy = lut.variants.flatMap { variant in variant.cellsByFrequency.filter { $0.cell.noisy == true }.map { "\(variant.name) at \(Formatting.frequency(kHz: $0.kHz))" } }
        if !noisy.isEmpty {
            // A long list reads as noise itself: past a dozen, give the count and the first few.
            let total = lut.variants.reduce(0) { $0 + $1.cellsByFrequency.count }
            let listed = noisy.count > 12 ? noisy.prefix(6).joined(separator: ", ") + ", … (\(noisy.count) of \(total) cells)" : noisy.joined(separator: ", ")
            blocks.append(.note("Noisy cells (the sampler flagged unstable timing): " + listed + "."))
        }
        if let method = lut.method {
            blocks.append(.facts(methodFacts(method)))
        } else {
            let stopRules = Dictionary(grouping: lut.variants.flatMap { $0.latency.values.filter { $0.source != .predicted }.compactMap(\.stopRule) }, by: { $0 })
            if !stopRules.isEmpty {
                let text = stopRules.keys.sorted().map { "\(stopRules[$0]?.count ?? 0) by \($0)" }.joined(separator: ", ")
                blocks.append(.paragraph("Measured cells ended: \(text)."))
            }
        }
        return ReportSection(id: "latency", title: "Latency vs frequency", blocks: blocks)
    }

    func tooltip(_ name: String, _ kHz: Int, _ cell: LookupTable.LatencyCell) -> String {
        var text = "\(name) @ \(Formatting.frequency(kHz: kHz)): p50 \(Formatting.duration(cell.p50Ns)) ± \(Formatting.duration(cell.ciHalfWidthNs))"
        text += ", p90 \(Formatting.duration(cell.p90Ns)), p99 \(Formatting.duration(cell.p99Ns)); \(cell.samples) samples, \(cell.source.rawValue)"
        if let ratio = cell.speedRatio { text += ", speed \(Formatting.fixed(ratio, decimals: 3)) of max" }
        if let cv = cell.cv { text += ", CV \(Formatting.fixed(cv, decimals: 3))" }
        if cell.retried == true { text += ", retried (noisy first attempt)" }
        return text
    }

    /// How the table was measured, as label–value pairs.
    func methodFacts(_ method: LookupTable.Method) -> [Fact] {
        var facts = [
            Fact("Clock", "\(method.clock) · resolution \(Formatting.duration(method.clockResolutionNs)) · read \(Formatting.duration(method.clockReadCostNs))"),
            Fact("Stop rule", method.stopRule),
            Fact("Cells ended by", method.stopRuleCounts.keys.sorted().map { "\($0) \(method.stopRuleCounts[$0] ?? 0)" }.joined(separator: " · ")),
            Fact("Noisy cells", "\(method.noisyCells) over CV \(Formatting.fixed(method.noisyCV, decimals: 2)), \(method.retriedCells) retried"),
            Fact("Frequency order", method.frequencyOrderKHz.map { Formatting.frequency(kHz: $0) }.joined(separator: " → ")),
            Fact("Placement", method.placement),
            Fact("Backend", method.backend),
            Fact("Seed", "\(method.seed)"),
        ]
        if method.resumes > 0 { facts.append(Fact("Resumed", "\(method.resumes) time\(method.resumes == 1 ? "" : "s") from a checkpoint")) }
        if !method.predictedKHz.isEmpty {
            facts.append(Fact("Predicted, not measured, at", method.predictedKHz.map { Formatting.frequency(kHz: $0) }.joined(separator: ", ")))
        }
        return facts
    }
}
