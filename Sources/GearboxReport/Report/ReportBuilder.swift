// GearboxReport/Report/ReportBuilder: turns report inputs into a `ReportDocument`: the header and
// the shared vocabulary of every section (variant colours, source labels, chosen frequencies).
// Each section is built in its own file as an extension.

import GearboxCore
import GearboxProfiler

/// Builds the report document from its inputs. Deterministic: the same inputs give the same bytes.
public struct ReportBuilder: Sendable {
    public var inputs: ReportInputs
    /// How many frequencies get an accuracy–latency panel (spread across the grid, ends included).
    public var paretoPanelCount: Int
    /// At most this many latency buckets per timeline chart; longer timelines are downsampled.
    public var timelineBuckets: Int

    public init(inputs: ReportInputs, paretoPanelCount: Int = 3, timelineBuckets: Int = 480) {
        self.inputs = inputs; self.paretoPanelCount = max(1, paretoPanelCount); self.timelineBuckets = max(10, timelineBuckets)
    }

    var lut: LookupTable { inputs.lut }

    /// The report.
    public func build() -> ReportDocument {
        let commit = lut.provenance.gitCommit == "unknown" ? "unknown" : String(lut.provenance.gitCommit.prefix(10))
        var headline = [
            Fact("Device", lut.device),
            Fact("Portfolio", lut.portfolio),
            Fact("Variants", "\(lut.variants.count)"),
            Fact("Frequencies", "\(lut.allFrequenciesKHz.count)"),
            Fact("Profiled", ProvenanceLine.day(lut.provenance.date)),
            Fact("Commit", commit),
        ]
        if let validation = inputs.validation { headline.append(Fact("Objective", validation.summary.objective)) }
        return ReportDocument(
            title: "Gearbox report: \(lut.portfolio) on \(lut.device)",
            subtitle: "Latency, accuracy, switching and memory of \(lut.variants.count) pruned variants under DVFS",
            controllerBadge: lut.controller.rawValue,
            headline: headline,
            provenanceNotes: provenanceNotes,
            // Energy and temperature appear only when the table or the validation has them.
            sections: [deviceSection(), latencySection(), paretoSection(), energySection(), switchCostSection(), memorySection(),
                       countersSection(), timelineSection(), temperatureSection(), policiesSection()].compactMap { $0 })
    }

    /// Notes from the inputs' provenance (LUT, validation, device), each once, in that order.
    var provenanceNotes: [String] {
        var notes: [String] = []
        let all = lut.provenance.notes + (inputs.validation?.summary.provenance.notes ?? []) + (inputs.device?.provenance?.notes ?? [])
        for note in all where !notes.contains(note) { notes.append(note) }
        return notes
    }

    // MARK: Shared vocabulary

    /// Each variant's colour, by its position in the table; the same in every chart and table.
    func color(ofVariant name: String) -> Color {
        if let index = lut.variants.firstIndex(where: { $0.name == name }) { return Palette.series(index) }
        // Variants only the timeline names get colours after the table's, in name order.
        let extra = extraVariantNames
        return Palette.series(lut.variants.count + (extra.firstIndex(of: name) ?? 0))
    }

    var extraVariantNames: [String] {
        guard let timeline = inputs.validation?.timeline else { return [] }
        let known = Set(lut.variants.map(\.name))
        return Set(timeline.rows.map(\.variant)).subtracting(known).sorted()
    }

    /// A swatch-bearing table cell naming a variant.
    func variantCell(_ name: String) -> TableCell { TableCell(name, swatch: color(ofVariant: name)) }

    /// How a figure's numbers were obtained, in words.
    static func describe(_ source: MeasurementSource) -> String {
        switch source {
        case .real: return "real (measured under cpufreq DVFS)"
        case .emulated: return "emulated (measured under cgroup CPU throttling standing in for frequency)"
        case .simulated: return "simulated (virtual clock; no real time passed)"
        case .predicted: return "predicted (fitted model t = a + b/f; not measured)"
        }
    }

    /// A figure's source in a few words: "emulated (cgroup CPU throttling)".
    static func sourceLabel(_ source: MeasurementSource) -> String {
        switch source {
        case .real: return "real (cpufreq DVFS)"
        case .emulated: return "emulated (cgroup CPU throttling)"
        case .simulated: return "simulated (virtual clock)"
        case .predicted: return "predicted (fitted model)"
        }
    }

    /// The source label of figures drawn from the LUT's measured cells, plus predicted ones if any.
    var latencySourceLabel: String {
        let predicted = lut.variants.contains { $0.latency.values.contains { $0.source == .predicted } }
        let sources = Set(lut.variants.flatMap { $0.latency.values.map(\.source) }).subtracting([.predicted])
        var parts = MeasurementSource.allCases.filter { sources.contains($0) }.map { Self.sourceLabel($0) }
        if parts.isEmpty { parts = [Self.sourceLabel(lut.controller)] }
        if predicted { parts.append("some cells predicted by the fitted model (hollow markers)") }
        return parts.joined(separator: "; ")
    }

    var provenanceLabel: String { lut.provenanceLine }

    /// The frequencies given an accuracy–latency panel: evenly spread, lowest and highest included.
    var selectedFrequenciesKHz: [Int] {
        let all = lut.allFrequenciesKHz
        guard all.count > paretoPanelCount else { return all }
        if paretoPanelCount == 1 { return [all[all.count - 1]] }
        var picked: [Int] = []
        for step in 0..<paretoPanelCount {
            let index = Int((Double(step) * Double(all.count - 1) / Double(paretoPanelCount - 1)).rounded())
            if !picked.contains(all[index]) { picked.append(all[index]) }
        }
        return picked
    }

    static func ms(_ ns: Double) -> Double { ns / 1e6 }
    static func ms(_ span: Nanoseconds) -> Double { span.milliseconds }
    static func mhz(_ kHz: Int) -> Double { Double(kHz) / 1000 }
}
