// GearboxPolicy/Validator: runs the chosen policies on one trace (simulated or in real time),
// assembles summary.json and timeline.csv, and writes them atomically into Reports/<name>/.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxProfiler
import GearboxRuntime

/// The outcome of `gearbox validate`: the summary and every policy's timeline.
public struct ValidationReport: Sendable {
    public var summary: ValidationSummary
    public var runs: [PolicyRun]

    /// Writes `summary.json` and `timeline.csv` into `directory` (created if missing), each atomically.
    /// Writes both files as one batch: a failure (a full disk) leaves neither half of a new run.
    public func write(to directory: String) throws {
        let summaryPath = directory + "/summary.json"
        let summaryData: Data
        do { summaryData = try JSONFile.encoder().encode(summary) + Data("\n".utf8) } catch {
            throw FileFormatError.cannotWrite(path: summaryPath, reason: "encoding failed: \(error)")
        }
        try AtomicFile.write([
            (path: directory + "/timeline.csv", data: Data(Timeline.csv(runs).utf8)),
            (path: summaryPath, data: summaryData),
        ])
    }

    /// The per-policy figures as an aligned text table, policies in a fixed order.
    public func table() -> String {
        func fixed(_ value: Double?, _ digits: Int) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "-" }
        var header = ["policy", "inferences", "violations", "accuracy", "switches", "switch ms", "p50 ms", "p99 ms", "regret", "latency CV"]
        let energy = summary.energySource != nil
        if energy { header.append("mJ/inf") }
        var rows = [header]
        for policy in ValidationPolicy.allCases {
            guard let r = summary.policies[policy.rawValue] else { continue }
            rows.append([
                policy.rawValue, String(r.inferences), fixed(r.violationRate * 100, 2) + "%", fixed(r.meanAccuracy, 4),
                String(r.switches), fixed(r.switchTimeNs.milliseconds, 2), fixed(r.p50Ns.milliseconds, 3), fixed(r.p99Ns.milliseconds, 3),
                fixed(r.regretVsOracle, 4), fixed(r.latencyCVAcrossFrequencies, 3),
            ] + (energy ? [fixed(r.energyPerInferenceJ.map { $0 * 1e3 }, 4)] : []))
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// A one-line failure when gearbox's violation rate exceeds `maxViolationRate`, else nil.
    /// - Throws: ``PolicyError/badSetting(name:reason:)`` when the gearbox policy was not run.
    public func check(maxViolationRate: Double = 0.01) throws -> String? {
        guard let gearbox = summary.policies[ValidationPolicy.gearbox.rawValue] else {
            throw PolicyError.badSetting(name: "--check", reason: "needs the gearbox policy (use --policy gearbox or all)")
        }
        guard gearbox.violationRate > maxViolationRate else { return nil }
        return "check failed: gearbox violated \(summary.objective) on \(String(format: "%.2f", gearbox.violationRate * 100))% of inferences (limit \(String(format: "%.2f", maxViolationRate * 100))%)"
    }
}

/// Runs validations and assembles their reports.
public enum Validator {
    /// How the simulator draws latencies, written into every simulated summary.
    public static let simulationMethod =
        "simulated: virtual time, back-to-back inferences; each latency is drawn from the variant's table distribution at the frequency in force "
        + "(quantile function piecewise linear in -ln(1-u) through p50/p90/p99/p99.9, i.e. exponential tails, lower half fitted to the cell mean; "
        + "stddev used only when percentiles are degenerate), work rescaled when the frequency changes mid-inference"

    /// Runs `policies` on a virtual clock. The oracle always runs (it is the regret reference) but
    /// appears in the summary only when asked for.
    public static func simulate(
        table: LookupTable, tableName: String, trace: FrequencyTrace, traceName: String, objective: LatencyObjective,
        policies: [ValidationPolicy], options: SimulatedValidation.Options
    ) throws -> ValidationReport {
        let simulation = try SimulatedValidation(table: table, trace: trace, objective: objective, options: options, tableName: tableName)
        let runs = policies.map { simulation.run($0) }
        let oracleRun = runs.first { $0.policy == .oracle } ?? simulation.run(.oracle)
        var notes = [simulationMethod, "seed \(options.seed)"]
        notes += simulation.reference.notes
        notes += traceNotes(trace, durationMs: options.durationMs)
        if !options.slowdowns.isEmpty {
            notes.append("injected slow-downs: " + options.slowdowns.map { "×\(DurationText.compact($0.factor)) from \(DurationText.compact($0.startMs)) ms" + ($0.endMs.isFinite ? " to \(DurationText.compact($0.endMs)) ms" : "") }.joined(separator: ", "))
        }
        if !policies.contains(.oracle) { notes.append("regretVsOracle is measured against an oracle run on the same trace and seed (not listed)") }
        return assemble(
            runs: runs, oracle: oracleRun, table: table, tableName: tableName, trace: trace, traceName: traceName,
            objective: objective, controller: .simulated, seed: options.seed, durationMs: options.durationMs,
            domain: options.domain, notes: notes, energy: options.energy ?? EnergyEstimate(table: table))
    }

    /// Runs `policies` one after another in real time on one measuring OS thread: pinned per
    /// `pinning` (nil: left where it is), `beforeEnrolling` (e.g. calibrating a work runner at
    /// full speed), enrolled with the controller, `afterEnrolling` (e.g. calibrating the emulated
    /// steps), then the runs. The controller is restored on every exit path.
    public static func runRealTime(
        _ validation: RealTimeValidation, tableName: String, traceName: String, policies: [ValidationPolicy], durationMs: Double,
        pinning: PinningRequest? = .pu, binder: ThreadBinder = HwlocThreadBinder(),
        beforeEnrolling: @escaping () throws -> Void = {}, afterEnrolling: @escaping () throws -> Void = {},
        notes extraNotes: [String] = [], energy: EnergyEstimate? = nil, progress: @escaping (ValidationPolicy) -> Void = { _ in }
    ) throws -> ValidationReport {
        let controller = validation.controller
        // SIGINT/SIGTERM: lift the throttle / put cpufreq back even while a calibration holds the
        // controller's lock, then exit; nothing of this run has been written yet.
        let guardSignals = RestoreOnSignal(
            restoring: [controller],
            afterRestore: "gearbox: the real-time validation was interrupted before writing its summary; run the same command again to redo it")
        defer { guardSignals.cancel() }
        let (runs, placement) = try MeasuringThread.run { () throws -> ([PolicyRun], Placement?) in
            defer { try? controller.restore() }
            let placement = try pinning.map { try binder.bindCurrentThread($0) }
            try beforeEnrolling()
            do { try controller.enrollCurrentThread() } catch {
                throw PolicyError.runFailed(reason: "cannot enroll the inference thread with the \(controller.source) controller: \(error)")
            }
            try afterEnrolling()
            var runs: [PolicyRun] = []
            for policy in policies {
                progress(policy)
                runs.append(try validation.run(policy, durationMs: durationMs))
            }
            return (runs, placement)
        }
        var notes = [
            "\(controller.source): the trace applied in real time by the \(controller.source) frequency controller; every inference and switch timed on the monotonic clock",
            "policies run one after another on the same trace, each for \(DurationText.format(Nanoseconds(milliseconds: durationMs)))",
            "measuring thread: " + (placement?.note ?? "not pinned"),
        ] + extraNotes
        notes += traceNotes(validation.trace, durationMs: durationMs)
        if !policies.contains(.oracle) { notes.append("regretVsOracle needs the oracle run (--policy all)") }
        return assemble(
            runs: runs, oracle: runs.first { $0.policy == .oracle }, table: validation.table, tableName: tableName,
            trace: validation.trace, traceName: traceName, objective: validation.objective,
            controller: controller.source, seed: nil, durationMs: durationMs, domain: validation.traceDomain, notes: notes,
            energy: energy ?? EnergyEstimate(table: validation.table))
    }

    static func traceNotes(_ trace: FrequencyTrace, durationMs: Double) -> [String] {
        var notes = ["trace \(trace.name): \(trace.source == .real ? "recorded (real)" : "generated (simulated)"), \(trace.segments().count) segments of constant frequency"]
        if durationMs > trace.durationMs {
            notes.append("the run (\(DurationText.compact(durationMs)) ms) is longer than the trace (\(DurationText.compact(trace.durationMs)) ms): its last frequency holds")
        }
        return notes
    }

    static func assemble(
        runs: [PolicyRun], oracle: PolicyRun?, table: LookupTable, tableName: String, trace: FrequencyTrace, traceName: String,
        objective: LatencyObjective, controller: MeasurementSource, seed: UInt64?, durationMs: Double, domain: Int, notes: [String],
        energy: EnergyEstimate? = nil
    ) -> ValidationReport {
        let oracleAccuracy = oracle.flatMap { ValidationMetrics.meanAccuracy(of: $0) }
        let tableIndex = Dictionary(table.variants.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var notes = notes
        let runs = runs.map { run -> PolicyRun in
            var run = energy?.annotate(run, tableIndex: tableIndex) ?? run
            if trace.hasTemperature {
                for i in run.rows.indices { run.rows[i].temperatureC = trace.temperatureC(atMs: run.rows[i].timeMs) }
            }
            return run
        }
        if let energy { notes.append(energy.note) }
        if trace.hasTemperature {
            notes.append("temperature_c: the trace's temp_c at each row's start (\(trace.source == .real ? "recorded" : "simulated"), not this run's own heating)")
        }
        var results: [String: ValidationSummary.PolicyResult] = [:]
        for run in runs {
            var result = ValidationMetrics.result(of: run, trace: trace, domain: domain, oracleAccuracy: oracleAccuracy)
            result.energyPerInferenceJ = run.energyPerInferenceJ
            results[run.policy.rawValue] = result
        }
        var provenanceNotes = ["lookup table \(tableName) (device \(table.device), portfolio \(table.portfolio), measured \(table.controller.rawValue))"]
        if table.controller != controller {
            provenanceNotes.append("the table was measured \(table.controller.rawValue); this validation is \(controller.rawValue)")
        }
        let summary = ValidationSummary(
            lut: tableName, trace: traceName, objective: objective.description, controller: controller, seed: seed,
            durationMs: durationMs,
            provenance: Provenance(deviceID: table.device, controller: controller, notes: provenanceNotes, board: table.provenance.board),
            policies: results, notes: notes, energySource: energy?.source)
        return ValidationReport(summary: summary, runs: runs)
    }
}
