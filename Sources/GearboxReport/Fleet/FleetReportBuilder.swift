// GearboxReport/Fleet/FleetReportBuilder: one portfolio across every device in the results
// store — latency (and energy) against frequency per device on shared axes, the variant the
// policy picks per device and frequency, the lowest frequency each device meets the objective
// at, run-to-run drift of a device (LUTComparison, as `lut compare`), and failed runs.

import Foundation
import GearboxCore
import GearboxPolicy
import GearboxProfiler
import GearboxRuntime
import GearboxStore

/// What a fleet report is built from.
public struct FleetInputs: Sendable {
    public var portfolio: String
    /// Every stored run of the portfolio, oldest first.
    public var runs: [StoredRun]
    public var failures: [StoreListing.Failure]
    /// The objective given (`--objective`); nil = suggested from the first device's latest run.
    public var objective: LatencyObjective?
    /// The store's location, for the header.
    public var store: String

    public init(portfolio: String, runs: [StoredRun], failures: [StoreListing.Failure], objective: LatencyObjective?, store: String) {
        self.portfolio = portfolio; self.runs = runs; self.failures = failures; self.objective = objective; self.store = store
    }

    /// Reads the portfolio's runs and the failures from `store`.
    /// - Throws: `ReportError`-style input error when the store has no run of the portfolio.
    public static func load(from store: ResultsStore, portfolio: String, objective: LatencyObjective?) throws -> FleetInputs {
        let runs = try store.runs(portfolio: portfolio)
        guard !runs.isEmpty else { throw FleetReportError.noRuns(portfolio: portfolio, store: store.backend.locationDescription) }
        return FleetInputs(portfolio: portfolio, runs: runs, failures: try store.failures(), objective: objective,
                           store: store.backend.locationDescription)
    }
}

public enum FleetReportError: Error, Equatable, CustomStringConvertible, ClassifiedError {
    case noRuns(portfolio: String, store: String)
    case noObjective(portfolio: String)

    public var description: String {
        switch self {
        case let .noRuns(portfolio, store):
            return "store \(store): no run of portfolio '\(portfolio)'; push its lookup tables first (gearbox store push …) or check the name with gearbox store list"
        case let .noObjective(portfolio):
            return "portfolio '\(portfolio)': no measured cells to suggest an objective from; give --objective, e.g. 'p99<=8ms'"
        }
    }

    public var exitStatus: ExitStatus { .inputError }
}

/// Builds the fleet report's document.
public struct FleetReportBuilder {
    /// One device: its runs, oldest first; the latest is the one charted and chosen from.
    struct Device {
        var name: String
        var runs: [StoredRun]
        var latest: LookupTable { runs[runs.count - 1].table }
    }

    public static let sectionIDs = ["devices", "latency", "energy", "choice", "lowest-frequency", "drift", "failures"]

    let inputs: FleetInputs
    let devices: [Device]
    let objective: LatencyObjective
    let objectiveWasSuggested: Bool
    /// Variant name → colour, the same on every device's chart.
    let variantColors: [String: Color]

    public init(inputs: FleetInputs) throws {
        self.inputs = inputs
        let grouped = Dictionary(grouping: inputs.runs, by: { $0.table.device })
        devices = grouped.keys.sorted().map { Device(name: $0, runs: grouped[$0] ?? []) }
        if let given = inputs.objective {
            objective = given
            objectiveWasSuggested = false
        } else if let suggested = devices.lazy.compactMap({ LatencyObjective.suggestedP99(for: $0.latest) }).first {
            objective = suggested
            objectiveWasSuggested = true
        } else {
            throw FleetReportError.noObjective(portfolio: inputs.portfolio)
        }
        var colors: [String: Color] = [:]
        for run in inputs.runs {
            for variant in run.table.variants where colors[variant.name] == nil {
                colors[variant.name] = Palette.series(colors.count)
            }
        }
        variantColors = colors
    }

    public func build() -> ReportDocument {
        let controllers = Set(devices.map { $0.latest.controller.rawValue }).sorted()
        return ReportDocument(
            title: "Fleet report: \(inputs.portfolio)",
            subtitle: "\(devices.count) device\(devices.count == 1 ? "" : "s"), \(inputs.runs.count) run\(inputs.runs.count == 1 ? "" : "s") from the results store",
            controllerBadge: controllers.joined(separator: " + "),
            headline: [
                Fact("Portfolio", inputs.portfolio), Fact("Devices", devices.map(\.name).joined(separator: ", ")),
                Fact("Objective", objective.description + (objectiveWasSuggested ? " (suggested)" : "")),
                Fact("Store", inputs.store),
            ],
            provenanceNotes: [],
            sections: [
                devicesSection(), latencySection(), energySection(), choiceSection(), lowestFrequencySection(),
                driftSection(), failuresSection(),
            ])
    }

    // MARK: Sections

    func devicesSection() -> ReportSection {
        let rows: [[TableCell]] = devices.map { device in
            let table = device.latest
            let cells = table.variants.reduce(0) { $0 + $1.latency.count }
            let energy = table.variants.reduce(0) { $0 + $1.latency.values.filter { $0.energyPerInferenceJ != nil }.count }
            return [TableCell(device.name, emphasis: .strong), TableCell("\(device.runs.count)"),
                    TableCell(ReportBuilder.sourceLabel(table.controller) + Self.boardNote(table.provenance.board)),
                    TableCell(ProvenanceLine.day(table.provenance.date)),
                    TableCell(String(table.provenance.gitCommit.prefix(10))), TableCell("\(cells)"),
                    TableCell(energy > 0 ? "\(energy) cells" : "not measured", emphasis: energy > 0 ? .none : .muted)]
        }
        return ReportSection(id: "devices", title: "Devices", blocks: [
            .paragraph("Each device's latest run of \(inputs.portfolio) is charted and chosen from; earlier runs of the same device appear under Drift."),
            .table(ReportTable(caption: "Devices in the store with a run of \(inputs.portfolio)",
                               header: ["Device", "Runs", "Controller", "Latest run", "Commit", "Cells", "Energy"],
                               rows: rows, numericColumns: [1, 5])),
        ])
    }

    func latencySection() -> ReportSection {
        let charts = sharedAxisCharts(id: "latency", title: "latency", unit: "Latency (ms)") { cell in cell.p50Ns.milliseconds }
        return ReportSection(id: "latency", title: "Latency vs frequency per device", blocks: charts.map { .figure($0) } + [
            .paragraph("Every device's chart has the same axes, so heights compare across boards. Lines join each variant's p50; hollow markers are predicted, not measured."),
        ])
    }

    func energySection() -> ReportSection {
        let measured = devices.filter { device in device.latest.variants.contains { $0.latency.values.contains { $0.energyPerInferenceJ != nil } } }
        guard !measured.isEmpty else {
            return ReportSection(id: "energy", title: "Energy vs frequency per device", blocks: [
                .note("No device measured energy (none has a power or energy sensor Gearbox reads): no energy figures."),
            ])
        }
        let charts = sharedAxisCharts(id: "energy", title: "energy per inference", unit: "Energy per inference (mJ)", devices: measured) { cell in
            cell.energyPerInferenceJ.map { $0 * 1e3 }
        }
        var blocks = charts.map { ReportBlock.figure($0) }
        let missing = devices.filter { device in !measured.contains { $0.name == device.name } }.map(\.name)
        if !missing.isEmpty { blocks.append(.note("No energy measured on: \(missing.joined(separator: ", ")).")) }
        return ReportSection(id: "energy", title: "Energy vs frequency per device", blocks: blocks)
    }

    func choiceSection() -> ReportSection {
        let frequencies = Set(devices.flatMap { $0.latest.allFrequenciesKHz }).sorted()
        var notes: [String] = []
        let rows: [[TableCell]] = devices.map { device in
            guard let choices = choices(on: device, notes: &notes) else {
                return [TableCell(device.name, emphasis: .strong)] + frequencies.map { _ in TableCell("–", emphasis: .muted) }
            }
            return [TableCell(device.name, emphasis: .strong)] + frequencies.map { kHz in
                guard let choice = choices[kHz] else { return TableCell("–", emphasis: .muted) }
                return TableCell(choice.variant + " · " + Formatting.duration(choice.predictedNs),
                                 emphasis: choice.meets ? .good : .bad, swatch: variantColors[choice.variant])
            }
        }
        var blocks: [ReportBlock] = [
            .paragraph("The variant Gearbox's policy picks at each frequency for \(objective)"
                + (objectiveWasSuggested ? " (suggested from \(devices.first?.name ?? "the first device")'s table; pass --objective to set it)" : "")
                + ", with the latency it predicts from that device's table. Red: no variant meets the objective there (the fastest is run)."),
            .table(ReportTable(caption: "Chosen variant per device and frequency",
                               header: ["Device"] + frequencies.map { Formatting.frequency(kHz: $0) }, rows: rows,
                               numericColumns: [])),
        ]
        for note in notes { blocks.append(.note(note)) }
        return ReportSection(id: "choice", title: "Chosen variant per device and frequency", blocks: blocks)
    }

    func lowestFrequencySection() -> ReportSection {
        var notes: [String] = []
        var best: (device: String, kHz: Int)?
        var rows: [[TableCell]] = []
        for device in devices {
            guard let choices = choices(on: device, notes: &notes) else { continue }
            let meeting = choices.filter(\.value.meets).keys.sorted()
            let lowest = device.latest.allFrequenciesKHz.first
            if let first = meeting.first, best.map({ first < $0.kHz }) ?? true { best = (device.name, first) }
            let atLowest = lowest.flatMap { choices[$0] }
            rows.append([
                TableCell(device.name, emphasis: .strong),
                TableCell(meeting.first.map { Formatting.frequency(kHz: $0) } ?? "never", emphasis: meeting.isEmpty ? .bad : .none),
                TableCell(meeting.first.flatMap { choices[$0]?.variant } ?? "–", swatch: meeting.first.flatMap { choices[$0].flatMap { variantColors[$0.variant] } }),
                TableCell(lowest.map { Formatting.frequency(kHz: $0) } ?? "–"),
                TableCell(atLowest.map { $0.meets ? "yes (\($0.variant))" : "no" } ?? "–", emphasis: atLowest?.meets == true ? .good : .bad),
            ])
        }
        var blocks: [ReportBlock] = []
        if let best {
            blocks.append(.paragraph("\(best.device) meets \(objective) at the lowest frequency of the fleet: \(Formatting.frequency(kHz: best.kHz))."))
        } else {
            blocks.append(.note("No device meets \(objective) at any frequency."))
        }
        blocks.append(.table(ReportTable(
            caption: "Lowest frequency at which each device meets \(objective)",
            header: ["Device", "Lowest meeting frequency", "Variant there", "Device's lowest frequency", "Meets at its lowest"],
            rows: rows)))
        return ReportSection(id: "lowest-frequency", title: "Lowest frequency meeting the objective", blocks: blocks)
    }

    func driftSection() -> ReportSection {
        var rows: [[TableCell]] = []
        var blocks: [ReportBlock] = []
        for device in devices where device.runs.count > 1 {
            for (before, after) in zip(device.runs, device.runs.dropFirst()) {
                guard let comparison = try? LUTComparison(
                    baseline: before.table, baselinePath: "run " + before.id.prefix(12),
                    candidate: after.table, candidatePath: "run " + after.id.prefix(12)) else { continue }
                let summary = comparison.summary
                let worst = comparison.cells.filter { $0.verdict != .predicted }.max { abs(log($0.ratio)) < abs(log($1.ratio)) }
                rows.append([
                    TableCell(device.name, emphasis: .strong),
                    TableCell(ProvenanceLine.day(before.table.provenance.date) + " → " + ProvenanceLine.day(after.table.provenance.date)),
                    TableCell("\(summary.commonCells)"),
                    TableCell(summary.geometricMeanRatio.map { Formatting.ratio($0) } ?? "–"),
                    TableCell("\(summary.faster) / \(summary.slower) / \(summary.noSignificantChange)"),
                    TableCell(worst.map { "\($0.variant) @ \(Formatting.frequency(kHz: $0.kHz)): \(Formatting.ratio($0.ratio))" } ?? "–",
                              emphasis: worst.map { abs($0.ratio - 1) > 0.1 ? .bad : .none } ?? .muted),
                ])
            }
        }
        if rows.isEmpty {
            blocks.append(.paragraph("No device has more than one run of \(inputs.portfolio): no drift to show."))
        } else {
            blocks.append(.paragraph("Consecutive runs of the same device compared cell by cell as gearbox lut compare does: p50 ratio later/earlier (< 1: faster); a change counts only where the p50 ± CI intervals do not overlap."))
            blocks.append(.table(ReportTable(
                caption: "Run-to-run drift per device",
                header: ["Device", "Runs", "Common cells", "Geometric mean ratio", "Faster / slower / no significant change", "Largest change"],
                rows: rows, numericColumns: [2, 3])))
        }
        return ReportSection(id: "drift", title: "Drift between runs of a device", blocks: blocks)
    }

    func failuresSection() -> ReportSection {
        guard !inputs.failures.isEmpty else {
            return ReportSection(id: "failures", title: "Failed runs", blocks: [.paragraph("No failed run is recorded in the store.")])
        }
        return ReportSection(id: "failures", title: "Failed runs", blocks: [
            .table(ReportTable(
                caption: "Failed steps recorded in the store (gearbox store fail), oldest first",
                header: ["Board", "Step", "Reason", "When"],
                rows: inputs.failures.map {
                    [TableCell($0.board, emphasis: .strong), TableCell($0.step), TableCell($0.reason, emphasis: .bad),
                     TableCell(ProvenanceLine.day($0.date))]
                })),
        ])
    }

    // MARK: Helpers

    /// ", inside board model st-u8500" for a run measured inside a board model (its figures are the model's).
    static func boardNote(_ board: BoardLabel?) -> String {
        guard let board else { return "" }
        return board.model ? ", inside board model \(board.name)" : ", board \(board.name)"
    }

    struct Choice { var variant: String; var predictedNs: Nanoseconds; var meets: Bool }

    /// The policy's pick at each of the device's frequencies (a fresh selector per frequency, so
    /// no history or hysteresis colours it); nil, with a note, when no selector can be built.
    func choices(on device: Device, notes: inout [String]) -> [Int: Choice]? {
        let table = device.latest
        var result: [Int: Choice] = [:]
        for kHz in table.allFrequenciesKHz {
            let selector: VariantSelector
            do {
                selector = try VariantSelector(table: table, objective: objective, tableName: "\(device.name)'s table")
            } catch {
                let note = "\(device.name): \(error)"
                if !notes.contains(note) { notes.append(note) }
                return nil
            }
            let decision = selector.decide(frequencyKHz: kHz, atNs: 0)
            result[kHz] = Choice(variant: selector.variants[decision.variantIndex].name, predictedNs: decision.predictedNs,
                                 meets: decision.meetsObjective)
        }
        return result
    }

    /// One chart per device of `value` against frequency, all with the same x and y ranges.
    func sharedAxisCharts(
        id: String, title: String, unit: String, devices chosen: [Device]? = nil,
        value: (LookupTable.LatencyCell) -> Double?
    ) -> [ReportFigure] {
        let shown = chosen ?? devices
        let xs = shown.flatMap { $0.latest.allFrequenciesKHz.map { Double($0) / 1000 } }
        let ys = shown.flatMap { $0.latest.variants.flatMap { $0.latency.values.compactMap(value) } }.filter { $0 > 0 }
        let logY = (ys.max() ?? 1) / max(ys.min() ?? 1, 1e-12) > 12
        let xAxis = Axis("Frequency (MHz)", lower: xs.min(), upper: xs.max())
        let yAxis = Axis(logY ? unit.replacingOccurrences(of: ")", with: ", log scale)") : unit,
                         kind: logY ? .logarithmic : .linear, lower: logY ? ys.min() : 0, upper: ys.max(), includesZero: !logY)
        return shown.map { device in
            let table = device.latest
            var marks: [Mark] = []
            var legend: [LegendEntry] = []
            for variant in table.variants {
                let color = variantColors[variant.name] ?? Palette.mutedInk
                let cells = variant.cellsByFrequency.compactMap { entry in value(entry.cell).map { (entry.kHz, entry.cell, $0) } }
                guard !cells.isEmpty else { continue }
                marks.append(.line(points: cells.map { Point(x: Double($0.0) / 1000, y: $0.2) }, color: color, width: 2))
                for predicted in [false, true] {
                    let chosen = cells.filter { ($0.1.source == .predicted) == predicted }
                    guard !chosen.isEmpty else { continue }
                    marks.append(.points(points: chosen.map { Point(x: Double($0.0) / 1000, y: $0.2) }, color: color,
                                         shape: predicted ? .ring : .circle, size: 7,
                                         tooltips: chosen.map { "\(variant.name) @ \(Formatting.frequency(kHz: $0.0)): \(Formatting.significant($0.2))" }))
                }
                legend.append(LegendEntry(variant.name, color: color, symbol: .line(.solid)))
            }
            let chart = XYChart(id: "\(id)-\(device.name)", title: "\(device.name): \(title) against frequency",
                                x: xAxis, y: yAxis, marks: marks, legend: legend, width: 900, height: 340)
            let predicted = table.variants.contains { $0.latency.values.contains { $0.source == .predicted } }
            let source = ReportBuilder.sourceLabel(table.controller) + (predicted ? "; some cells predicted (hollow markers)" : "")
            return ReportFigure(id: "\(id)-\(device.name)", title: chart.title, chart: chart, source: source,
                                provenance: table.provenanceLine)
        }
    }
}
