// GearboxReport/Report/ParetoSection: accuracy against latency at a few frequencies, with the
// Pareto front drawn; when accuracy is unknown it says so and ranks by MACs instead.

import GearboxCore
import GearboxProfiler

extension ReportBuilder {
    /// What the y axis of the accuracy panels measures.
    enum QualityMeasure { case accuracy, macs }

    var qualityMeasure: QualityMeasure {
        lut.variants.contains { $0.accuracy != nil } ? .accuracy : .macs
    }

    func quality(of variant: LookupTable.Variant) -> Double? {
        switch qualityMeasure {
        case .accuracy: return variant.accuracy.map { $0 * 100 }
        case .macs: return Double(variant.macs) / 1e6
        }
    }

    /// Linear from zero, or log when the latencies span more than 20×.
    func latencyAxis(_ latenciesMs: [Double]) -> Axis {
        let positive = latenciesMs.filter { $0 > 0 }
        if let low = positive.min(), let high = positive.max(), high / low > 20 {
            return Axis("p50 latency (ms, log)", kind: .logarithmic, targetTickCount: 5)
        }
        return Axis("p50 latency (ms)", includesZero: true, targetTickCount: 5)
    }

    func paretoSection() -> ReportSection {
        var blocks: [ReportBlock] = []
        let measure = qualityMeasure
        let withoutAccuracy = lut.variants.filter { $0.accuracy == nil }.map(\.name)
        switch measure {
        case .macs:
            blocks.append(.note("No variant in the table has a measured accuracy, so the vertical axis shows MACs (multiply-accumulates per inference) as a stand-in for capacity. It is not accuracy: evaluate the variants (gearbox portfolio build) to plot real accuracy."))
        case .accuracy where !withoutAccuracy.isEmpty:
            blocks.append(.note("Accuracy unknown for \(withoutAccuracy.joined(separator: ", ")); \(withoutAccuracy.count == 1 ? "it is" : "they are") left out of these panels."))
        default: break
        }

        let frequencies = selectedFrequenciesKHz
        var figures: [ReportFigure] = []
        var rows: [[TableCell]] = []
        let yTitle = measure == .accuracy ? "Top-1 accuracy (%)" : "MACs per inference (millions)"
        let qualities = lut.variants.compactMap { quality(of: $0) }
        let yLow = qualities.min() ?? 0, yHigh = qualities.max() ?? 1
        let yPad = max((yHigh - yLow) * 0.08, measure == .accuracy ? 0.2 : 0.05)
        // Portfolios spanning orders of magnitude read on log axes; otherwise everything piles up at 0.
        let logY = measure == .macs && yLow > 0 && yHigh / yLow > 20
        let yAxis = logY ? Axis(yTitle + ", log", kind: .logarithmic, targetTickCount: 5)
            : Axis(yTitle, lower: yLow - yPad, upper: yHigh + yPad, targetTickCount: 5)
        for kHz in frequencies {
            var points: [Point] = []
            var names: [String] = []
            var predicted: [Bool] = []
            var cells: [LookupTable.LatencyCell] = []
            for variant in lut.variants {
                guard let cell = variant.cell(atKHz: kHz), let q = quality(of: variant) else { continue }
                points.append(Point(x: Self.ms(cell.p50Ns), y: q)); names.append(variant.name)
                predicted.append(cell.source == .predicted); cells.append(cell)
            }
            let front = ParetoFront.indices(of: points)
            var marks: [Mark] = []
            if front.count > 1 {
                marks.append(.line(points: front.map { points[$0] }, color: Palette.target, width: 1.6, dash: .solid, stepped: true))
            }
            for index in points.indices {
                let color = color(ofVariant: names[index])
                let onFront = front.contains(index)
                let label = "\(names[index]) @ \(Formatting.frequency(kHz: kHz)): p50 \(Formatting.duration(cells[index].p50Ns)), "
                    + (measure == .accuracy ? "accuracy \(Formatting.fixed(points[index].y, decimals: 2))%" : "\(Formatting.significant(points[index].y)) M MACs")
                    + (onFront ? " · on the Pareto front" : " · dominated") + (predicted[index] ? " · latency predicted" : "")
                marks.append(.points(points: [points[index]], color: color, shape: predicted[index] ? .ring : (onFront ? .diamond : .circle),
                                     size: onFront ? 11 : 8, tooltips: [label]))
            }
            marks.append(.labels(points: front.map { points[$0] }, texts: front.map { names[$0] }, color: Palette.ink))
            let anyPredicted = predicted.contains(true)
            let source = anyPredicted ? latencySourceLabel : Self.sourceLabel(lut.controller)
            let chart = XYChart(
                id: "pareto-\(kHz)", title: "Accuracy against p50 latency at \(Formatting.frequency(kHz: kHz))",
                x: latencyAxis(points.map(\.x)), y: yAxis,
                marks: marks, width: 360, height: 330)
            figures.append(ReportFigure(id: "pareto-\(kHz)", title: "At \(Formatting.frequency(kHz: kHz))", chart: chart, source: source, provenance: provenanceLabel))
            let dominated = points.indices.filter { !front.contains($0) }.map { names[$0] }
            rows.append([
                TableCell(Formatting.frequency(kHz: kHz)),
                TableCell(front.map { names[$0] }.joined(separator: " → ")),
                TableCell(dominated.isEmpty ? "none" : dominated.joined(separator: ", "), emphasis: .muted),
            ])
        }
        blocks.append(.figureRow(figures))
        blocks.append(.paragraph("Diamonds (labelled) are on the Pareto front: no other variant is both faster and \(measure == .accuracy ? "more accurate" : "larger"). The grey step line joins the front from fastest to \(measure == .accuracy ? "most accurate" : "largest"); round markers are dominated. Colours are the variants' colours throughout the report."))
        blocks.append(.table(ReportTable(
            caption: "Pareto front per frequency (fastest first)",
            header: ["Frequency", "On the front", "Dominated"],
            rows: rows)))
        blocks.append(.table(ReportTable(
            caption: "Variants",
            header: ["Variant", "Format", "Accuracy", "Parameters", "MACs"],
            rows: lut.variants.map { variant in
                [variantCell(variant.name), TableCell(variant.format),
                 variant.accuracy.map { TableCell(Formatting.fixed($0 * 100, decimals: 2) + "%") } ?? TableCell("unknown", emphasis: .muted),
                 TableCell(Formatting.count(Double(variant.params))), TableCell(Formatting.count(Double(variant.macs)))]
            },
            numericColumns: [2, 3, 4])))
        return ReportSection(id: "pareto", title: "Accuracy vs latency", blocks: blocks)
    }
}
