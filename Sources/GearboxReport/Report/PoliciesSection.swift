// GearboxReport/Report/PoliciesSection: the validation's per-policy results side by side, with
// the best value in each column highlighted and the run's settings and notes.

import GearboxCore
import GearboxPolicy

extension ReportBuilder {
    func policiesSection() -> ReportSection {
        guard let validation = inputs.validation else {
            return ReportSection(id: "policies", title: "Policy summary", blocks: [
                .note("No validation given: pass --validation Reports/<run> (written by gearbox validate) for the per-policy summary."),
            ])
        }
        let summary = validation.summary
        var blocks: [ReportBlock] = [.facts([
            Fact("Trace", summary.trace),
            Fact("Objective", summary.objective),
            Fact("Frequency control", Self.describe(summary.controller)),
            Fact("Duration", Formatting.duration(Nanoseconds(milliseconds: summary.durationMs))),
            Fact("Seed", summary.seed.map { "\($0)" } ?? "none"),
            Fact("Lookup table", summary.lut),
            Fact("Provenance", ProvenanceLine.text(summary.provenance)),
        ])]
        let names = Self.orderedPolicies(Array(summary.policies.keys))
        let results = names.compactMap { name in summary.policies[name].map { (name, $0) } }
        guard !results.isEmpty else {
            blocks.append(.note("The summary lists no policies."))
            return ReportSection(id: "policies", title: "Policy summary", blocks: blocks)
        }
        // Best per column: lowest violation rate / latency / regret / CV, highest accuracy.
        func best(_ values: [Double?], lowest: Bool) -> Double? {
            let present = values.compactMap { $0 }.filter(\.isFinite)
            return lowest ? present.min() : present.max()
        }
        let bestViolation = best(results.map { $0.1.violationRate }, lowest: true)
        let bestAccuracy = best(results.map { $0.1.meanAccuracy }, lowest: false)
        let bestP99 = best(results.map { $0.1.p99Ns.value }, lowest: true)
        let bestCV = best(results.map { $0.1.latencyCVAcrossFrequencies }, lowest: true)
        func mark(_ value: Double?, _ bestValue: Double?, _ text: String) -> TableCell {
            guard let value else { return TableCell("n/a", emphasis: .muted) }
            return TableCell(text, emphasis: value == bestValue && results.count > 1 ? .good : .none)
        }
        blocks.append(.table(ReportTable(
            caption: "Per-policy results over the whole trace (best in each column highlighted)",
            header: ["Policy", "Violations", "Mean accuracy", "p50", "p99", "Switches", "Switch time", "Regret vs oracle", "Latency CV over f", "Inferences"],
            rows: results.map { name, result in
                [TableCell(name, emphasis: name == "gearbox" ? .strong : .none),
                 mark(result.violationRate, bestViolation, Formatting.percent(result.violationRate)),
                 mark(result.meanAccuracy, bestAccuracy, result.meanAccuracy.map { Formatting.fixed($0 * 100, decimals: 2) + "%" } ?? ""),
                 TableCell(Formatting.duration(result.p50Ns)),
                 mark(result.p99Ns.value, bestP99, Formatting.duration(result.p99Ns)),
                 TableCell("\(result.switches)"),
                 TableCell(Formatting.duration(result.switchTimeNs)),
                 result.regretVsOracle.map { TableCell(Formatting.fixed($0, decimals: 4)) } ?? TableCell("n/a", emphasis: .muted),
                 mark(result.latencyCVAcrossFrequencies, bestCV, result.latencyCVAcrossFrequencies.map { Formatting.fixed($0, decimals: 3) } ?? ""),
                 TableCell(Formatting.count(Double(result.inferences)))]
            },
            numericColumns: Set(1...9))))

        let chart = BarChart(
            id: "policy-violations", title: "Violation rate per policy", categories: results.map(\.0),
            series: [BarSeries(name: "violation rate", color: Palette.violation, values: results.map { $0.1.violationRate })],
            format: .percent, axisTitle: "Share of inferences over the target", width: 1000)
        blocks.append(.figure(ReportFigure(id: "policy-violations", title: chart.title, chart: chart,
                                           source: Self.sourceLabel(summary.controller), provenance: ProvenanceLine.text(summary.provenance))))

        let segmented = results.filter { $0.1.segmentViolationRates?.isEmpty == false }
        if !segmented.isEmpty {
            let segments = Set(segmented.flatMap { $0.1.segmentViolationRates?.keys.compactMap { Int($0) } ?? [] }).sorted()
            blocks.append(.table(ReportTable(
                caption: "Violation rate per trace segment",
                header: ["Policy"] + segments.map { "segment \($0)" },
                rows: segmented.map { name, result in
                    [TableCell(name)] + segments.map { segment in
                        result.segmentViolationRates?[String(segment)].map { TableCell(Formatting.percent($0), emphasis: $0 > 0.05 ? .bad : .none) } ?? TableCell("–", emphasis: .muted)
                    }
                },
                numericColumns: Set(1...max(1, segments.count)))))
        }
        let notes = summary.notes + results.compactMap { name, result in result.note.map { "\(name): \($0)" } }
        if !notes.isEmpty { blocks.append(.bullets(title: "Notes from the validation", items: notes)) }
        return ReportSection(id: "policies", title: "Policy summary", blocks: blocks)
    }
}
