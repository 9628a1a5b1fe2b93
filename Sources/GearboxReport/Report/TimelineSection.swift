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

    /// The time axis unit: seconds for runs longer than five seconds.
    struct TimeUnit {
        var inSeconds: Bool
        func value(_ ms: Double) -> Double { inSeconds ? ms / 1000 : ms }
        var symbol: String { inSeconds ? "s" : "ms" }
        func range(_ startMs: Double, _ endMs: Double) -> String {
            "\(Formatting.fixed(value(startMs), decimals: 2))–\(Formatting.fixed(value(endMs), decimals: 2)) \(symbol)"
        }
    }

    /// Variants a policy used, in the table's order (unknown names last, sorted).
    func variantsUsed(in reduced: TimelineSummary) -> [String] {
        let used = Set(reduced.variantRuns.map(\.value))
        let known = lut.variants.map(\.name)
        return known.filter { used.contains($0) } + used.subtracting(known).sorted()
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
        let objective = try? LatencyObjective(parsing: summary.objective)
        let source = Self.sourceLabel(summary.controller)
        let provenance = ProvenanceLine.text(summary.provenance)
        let policies = Self.orderedPolicies(timeline.policies)
        let summaries = policies.map { TimelineSummary(rows: timeline.rows(of: $0), maxBuckets: timelineBuckets) }
        let start = summaries.map(\.startMs).min() ?? 0
        let end = summaries.map(\.endMs).max() ?? 1
        let unit = TimeUnit(inSeconds: end - start > 5_000)
        let timeAxis = Axis(unit.inSeconds ? "Time (s)" : "Time (ms)", lower: unit.value(start), upper: unit.value(end), targetTickCount: 8)

        // Every timeline chart shares one plot frame so their time axes line up.
        let used = summaries.map { variantsUsed(in: $0) }
        var plotLeft = 70.0
        for names in used {
            let probe = XYChart(id: "probe", title: "", x: timeAxis, y: Axis("", labels: .categories(names)), marks: [])
            plotLeft = max(plotLeft, probe.fittedPlotLeft)
        }
        let legendWidth = LegendLayout.width

        if objective == nil {
            blocks.append(.note("The objective '\(summary.objective)' names no latency bound this report can read, so no target line is drawn; violations are marked as the validator recorded them."))
        }
        if let first = summaries.first {
            var points = first.frequencySteps.map { Point(x: unit.value($0.timeMs), y: Self.mhz($0.kHz)) }
            if let last = first.frequencySteps.last { points.append(Point(x: unit.value(end), y: Self.mhz(last.kHz))) }
            let chart = XYChart(
                id: "timeline-frequency", title: "CPU frequency over the trace \(summary.trace)",
                x: timeAxis, y: Axis("Frequency (MHz)", includesZero: true, targetTickCount: 4),
                marks: [.line(points: points, color: Palette.frequency, width: 2, stepped: true)],
                legend: [LegendEntry("frequency", color: Palette.frequency, symbol: .line(.solid))],
                width: 1000, height: 190, plotLeft: plotLeft, legendWidth: legendWidth)
            blocks.append(.figure(ReportFigure(id: "timeline-frequency", title: "Frequency trace \(summary.trace)", chart: chart,
                                               source: source, provenance: provenance)))
        }

        let latencyAxis = sharedLatencyAxis(summaries, targetNs: objective?.targetNs.value)
        let bucketed = zip(policies, summaries).filter { $0.1.downsampled }
        if !bucketed.isEmpty {
            let which = bucketed.count == policies.count ? "Every policy's latency chart groups its inferences"
                : "The latency charts of " + bucketed.map { "\($0.0) (\(Formatting.count(Double($0.1.inferences))) inferences)" }.joined(separator: ", ") + " group their inferences"
            blocks.append(.paragraph("\(which) into \(timelineBuckets) time buckets: the band spans each bucket's fastest to slowest inference, the line is its mean, and every bucket holding a violation carries a red cross at its worst violating latency. Variant and frequency changes are drawn exactly."))
        }
        for (index, policy) in policies.enumerated() {
            let reduced = summaries[index]
            let latencyChart = XYChart(
                id: "timeline-latency-\(policy)", title: "\(policy): latency against the target",
                x: timeAxis, y: latencyAxis, marks: latencyMarks(reduced, objective: objective, unit: unit),
                legend: latencyLegend(reduced, hasTarget: objective != nil), width: 1000, height: 230,
                plotLeft: plotLeft, legendWidth: legendWidth)
            let names = used[index]
            var spans: [Span] = []
            for run in reduced.variantRuns {
                guard let row = names.firstIndex(of: run.value) else { continue }
                let tooltip = "\(run.value), \(unit.range(run.startMs, run.endMs))"
                spans.append(Span(x0: unit.value(run.startMs), x1: unit.value(run.endMs), y0: Double(row) - 0.36,
                                  y1: Double(row) + 0.36, color: color(ofVariant: run.value), tooltip: tooltip))
            }
            let variantChart = XYChart(
                id: "timeline-variant-\(policy)", title: "\(policy): variant chosen over time",
                x: timeAxis, y: Axis("Variant", labels: .categories(names)),
                marks: [.spans(spans)], width: 1000, height: Double(74 + 24 * max(names.count, 1)),
                plotLeft: plotLeft, legendWidth: legendWidth)
            let switches = reduced.switches == 1 ? "1 switch" : "\(reduced.switches) switches"
            let title = "\(policy): \(switches), \(reduced.violations) of \(reduced.inferences) inferences over the target"
            blocks.append(.figure(ReportFigure(id: "timeline-\(policy)", title: title, charts: [variantChart, latencyChart],
                                               source: source, provenance: provenance)))
        }
        return ReportSection(id: "timeline", title: "Policy timeline", blocks: blocks)
    }

    /// One latency axis for every policy, so their charts compare at a glance; log when the
    /// latencies span more than 30×.
    func sharedLatencyAxis(_ summaries: [TimelineSummary], targetNs: Double?) -> Axis {
        let maxLatency = summaries.flatMap { $0.buckets.map(\.maxNs) }.max() ?? 1
        let minLatency = summaries.flatMap { $0.buckets.map(\.minNs) }.filter { $0 > 0 }.min() ?? 1
        let upperMs = max(Self.ms(maxLatency), Self.ms(targetNs ?? 0) * 1.15)
        if maxLatency / max(minLatency, 1) > 30 {
            let ticks = NiceTicks.logarithmic(covering: Self.ms(minLatency), upperMs)
            return Axis("Latency (ms, log)", kind: .logarithmic, lower: ticks.first, upper: ticks.last)
        }
        return Axis("Latency (ms)", lower: 0, upper: NiceTicks(covering: 0, upperMs, targetCount: 4).upper, targetTickCount: 4)
    }

    func latencyMarks(_ reduced: TimelineSummary, objective: LatencyObjective?, unit: TimeUnit) -> [Mark] {
        var marks: [Mark] = []
        let mids = reduced.buckets.map { unit.value(($0.startMs + $0.endMs) / 2) }
        if reduced.downsampled {
            marks.append(.band(x: mids, lower: reduced.buckets.map { Self.ms($0.minNs) }, upper: reduced.buckets.map { Self.ms($0.maxNs) },
                               color: Palette.series(0), opacity: 0.2))
        }
        let means = zip(mids, reduced.buckets).map { Point(x: $0.0, y: Self.ms($0.1.meanNs)) }
        marks.append(.line(points: means, color: Palette.series(0), width: 1.4))
        if let objective {
            marks.append(.horizontalRule(y: Self.ms(objective.targetNs), color: Palette.target, dash: .dashed,
                                         label: "target \(objective.statisticName) ≤ \(Formatting.duration(objective.targetNs))"))
        }
        let violating = reduced.buckets.filter { $0.violations > 0 }
        if !violating.isEmpty {
            var points: [Point] = []
            var tooltips: [String] = []
            for bucket in violating {
                let worst = bucket.worstViolationNs ?? bucket.maxNs
                points.append(Point(x: unit.value((bucket.startMs + bucket.endMs) / 2), y: Self.ms(worst)))
                let count = bucket.violations == 1 ? "1 violation" : "\(bucket.violations) violations"
                tooltips.append("\(count), \(unit.range(bucket.startMs, bucket.endMs)); worst \(Formatting.duration(worst))")
            }
            marks.append(.points(points: points, color: Palette.violation, shape: .cross, size: 7, tooltips: tooltips))
        }
        return marks
    }

    func latencyLegend(_ reduced: TimelineSummary, hasTarget: Bool) -> [LegendEntry] {
        let rate = reduced.inferences > 0 ? Double(reduced.violations) / Double(reduced.inferences) : 0
        var legend = [LegendEntry(reduced.downsampled ? "mean latency" : "latency", color: Palette.series(0), symbol: .line(.solid))]
        if reduced.downsampled { legend.append(LegendEntry("min–max per bucket", color: Palette.series(0), symbol: .band)) }
        if hasTarget { legend.append(LegendEntry("target", color: Palette.target, symbol: .line(.dashed))) }
        legend.append(LegendEntry("violation (\(Formatting.percent(rate)))", color: Palette.violation, symbol: .marker(.cross)))
        return legend
    }
}
