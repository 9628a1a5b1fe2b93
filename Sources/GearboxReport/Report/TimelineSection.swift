// GearboxReport/Report/TimelineSection: a validation run over time: the frequency trace, then per
// policy the variant it chose and its latency against the target with violations marked.
// Long timelines are bucketed (min–max band, mean line) and the page says so.

import GearboxCore
import GearboxPolicy

extension ReportBuilder {
    /// Policies in a reading order: Gearbox's own first, then the oracle and the baselines.
    static func orderedPolicies(_ names: [String]) -> [String] {
        let preferred = ["gearbox", "oracle", "static-accurate", "static-fast"]
        let unique = Array(Set(names))
        return preferred.filter { unique.contains($0) } + unique.filter { !preferred.contains($0) }.sorted()
    }

    func timelineSection() -> ReportSection {
        guard let validation = inputs.validation else {
            return ReportSection(id: "timeline", title: "Policy timeline", blocks: [
                .note("No validation given: run gearbox validate, then pass --validation Reports/<run> to draw the policy's behaviour over a frequency trace."),
            ])
        }
        var blocks: [ReportBlock] = validation.notes.map { .note($0) }
        guard let timeline = validation.timeline, !timeline.rows.isEmpty else {
            if validation.timeline != nil { blocks.append(.note("The timeline is empty: the validation recorded no inferences.")) }
            return ReportSection(id: "timeline", title: "Policy timeline", blocks: blocks)
        }
        let summary = validation.summary
        let objective = LatencyObjective(parsing: summary.objective)
        let source = "Source: " + Self.describe(summary.controller)
        let provenance = ProvenanceLine.text(summary.provenance)
        let policies = Self.orderedPolicies(timeline.policies)
        let summaries = policies.map { TimelineSummary(rows: timeline.rows(of: $0), maxBuckets: timelineBuckets) }
        let start = summaries.map(\.startMs).min() ?? 0
        let end = summaries.map(\.endMs).max() ?? 1
        let inSeconds = end - start > 5_000
        let timeTitle = inSeconds ? "Time (s)" : "Time (ms)"
        func t(_ ms: Double) -> Double { inSeconds ? ms / 1000 : ms }
        let timeAxis = Axis(timeTitle, lower: t(start), upper: t(end), targetTickCount: 8)

        if objective == nil {
            blocks.append(.note("The objective '\(summary.objective)' names no latency bound this report can read, so no target line is drawn; violations are marked as the validator recorded them."))
        }
        if let first = summaries.first {
            var points = first.frequencySteps.map { Point(x: t($0.timeMs), y: Self.mhz($0.kHz)) }
            if let last = first.frequencySteps.last { points.append(Point(x: t(end), y: Self.mhz(last.kHz))) }
            let chart = XYChart(
                id: "timeline-frequency", title: "CPU frequency over the trace \(summary.trace)",
                x: timeAxis, y: Axis("Frequency (MHz)", includesZero: true, targetTickCount: 4),
                marks: [.line(points: points, color: Palette.frequency, width: 2, stepped: true)],
                footnote: "\(source) · trace \(summary.trace) · \(provenance)", width: 1000, height: 190)
            blocks.append(.figure(ReportFigure(id: "timeline-frequency", title: "Frequency trace", svg: chart.svg(), source: source, provenance: provenance)))
        }

        let maxLatency = summaries.flatMap { $0.buckets.map(\.maxNs) }.max() ?? 1
        let minLatency = summaries.flatMap { $0.buckets.map(\.minNs) }.filter { $0 > 0 }.min() ?? 1
        let targetNs = objective?.limitNs
        let logY = maxLatency / max(minLatency, 1) > 30
        if let downsampled = summaries.first(where: \.downsampled) {
            blocks.append(.paragraph("Each policy ran \(downsampled.inferences) inferences; the latency charts group them into \(timelineBuckets) time buckets: the band spans each bucket's fastest to slowest inference, the line is its mean, and every bucket holding a violation carries a red cross at its worst violating latency. Variant and frequency changes are drawn exactly."))
        }
        for (policy, reduced) in zip(policies, summaries) {
            var marks: [Mark] = []
            let mids = reduced.buckets.map { t(($0.startMs + $0.endMs) / 2) }
            if reduced.downsampled {
                marks.append(.band(x: mids, lower: reduced.buckets.map { Self.ms($0.minNs) }, upper: reduced.buckets.map { Self.ms($0.maxNs) }, color: Palette.series(0), opacity: 0.2))
            }
            marks.append(.line(points: zip(mids, reduced.buckets).map { Point(x: $0, y: Self.ms($1.meanNs)) }, color: Palette.series(0), width: 1.4))
            if let targetNs, let objective {
                marks.append(.horizontalRule(y: Self.ms(targetNs), color: Palette.target, dash: .dashed,
                                             label: "target \(objective.statistic) ≤ \(Formatting.duration(ns: targetNs))"))
            }
            let violating = reduced.buckets.filter { $0.violations > 0 }
            if !violating.isEmpty {
                marks.append(.points(
                    points: violating.map { Point(x: t(($0.startMs + $0.endMs) / 2), y: Self.ms($0.worstViolationNs ?? $0.maxNs)) },
                    color: Palette.violation, shape: .cross, size: 7,
                    tooltips: violating.map { "\($0.violations) violation\($0.violations == 1 ? "" : "s") between \(Formatting.fixed(t($0.startMs), decimals: 2)) and \(Formatting.fixed(t($0.endMs), decimals: 2)) \(inSeconds ? "s" : "ms"); worst \(Formatting.duration(ns: $0.worstViolationNs ?? $0.maxNs))" }))
            }
            let rate = reduced.inferences > 0 ? Double(reduced.violations) / Double(reduced.inferences) : 0
            var legend = [LegendEntry(reduced.downsampled ? "mean latency" : "latency", color: Palette.series(0), symbol: .line(.solid))]
            if reduced.downsampled { legend.append(LegendEntry("min–max per bucket", color: Palette.series(0), symbol: .band)) }
            if targetNs != nil { legend.append(LegendEntry("target", color: Palette.target, symbol: .line(.dashed))) }
            legend.append(LegendEntry("violation (\(Formatting.percent(rate)))", color: Palette.violation, symbol: .marker(.cross)))
            let upper = max(Self.ms(maxLatency), Self.ms(targetNs ?? 0) * 1.15)
            let latencyChart = XYChart(
                id: "timeline-latency-\(policy)", title: "\(policy): latency against the target",
                x: timeAxis,
                y: Axis(logY ? "Latency (ms, log)" : "Latency (ms)", kind: logY ? .logarithmic : .linear,
                        lower: logY ? nil : 0, upper: logY ? nil : NiceTicks(covering: 0, upper, targetCount: 4).upper, targetTickCount: 4),
                marks: marks, legend: legend, footnote: "\(source) · \(provenance)", width: 1000, height: 230)

            let used = lut.variants.map(\.name).filter { name in reduced.variantRuns.contains { $0.value == name } }
                + Array(Set(reduced.variantRuns.map(\.value)).subtracting(lut.variants.map(\.name))).sorted()
            let spans = reduced.variantRuns.compactMap { run -> Span? in
                guard let row = used.firstIndex(of: run.value) else { return nil }
                return Span(x0: t(run.startMs), x1: t(run.endMs), y0: Double(row) - 0.36, y1: Double(row) + 0.36,
                            color: color(ofVariant: run.value),
                            tooltip: "\(run.value) from \(Formatting.fixed(t(run.startMs), decimals: 2)) to \(Formatting.fixed(t(run.endMs), decimals: 2)) \(inSeconds ? "s" : "ms")")
            }
            let variantChart = XYChart(
                id: "timeline-variant-\(policy)", title: "\(policy): variant chosen over time",
                x: timeAxis, y: Axis("Variant", labels: .categories(used)),
                marks: [.spans(spans)], legend: [], footnote: nil, width: 1000, height: Double(74 + 26 * max(used.count, 1)))
            blocks.append(.figure(ReportFigure(
                id: "timeline-\(policy)", title: "\(policy): \(reduced.switches) switch\(reduced.switches == 1 ? "" : "es"), \(reduced.violations) of \(reduced.inferences) inferences over the target",
                charts: [variantChart.svg(), latencyChart.svg()],
                source: source, provenance: provenance)))
        }
        return ReportSection(id: "timeline", title: "Policy timeline", blocks: blocks)
    }
}
