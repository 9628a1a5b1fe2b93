// gearbox validate: replays a frequency trace against the selection policy and its baselines
// (simulated on a virtual clock, or in real time through a frequency controller) and writes
// Reports/<name>/summary.json and timeline.csv.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxHardware
import GearboxPolicy
import GearboxPortfolio
import GearboxProfiler

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Replay a frequency trace against the selection policy and baselines.",
        discussion: """
            Runs gearbox's VariantSelector and the static-accurate, static-fast and oracle baselines \
            on the same trace and seed, and writes Reports/<name>/summary.json and timeline.csv.

            --controller simulated (default) uses virtual time and draws each latency from the \
            table's distribution at the frequency in force: fast and exactly reproducible with --seed. \
            real (cpufreq) and emulated (cgroup CPU throttling) apply the trace in real time on a \
            pinned thread while --runner runs: portfolio (real inference through the portfolio's \
            variant runners, --portfolio DIR) or work (fixed CPU work per variant calibrated to the \
            table's top-frequency means, a labelled stand-in for inference).

            Example:
              gearbox validate --lut Tests/Fixtures/policy/synthetic-portfolio.lut.json \\
                --trace square:period=2s --objective 'p99<=8ms' --policy all --duration 20s --out Reports/square

            Traces: step, ramp, square:period=2s, sawtooth, random-walk:seed=7, governor-like:seed=3, \
            or a CSV path (time_ms,khz). Exit codes: 0 ok, 1 --check failed, the run failed or another \
            process is measuring under DVFS (real and emulated runs hold the machine-wide measuring \
            lock; --wait queues behind it), 2 bad input.
            """
    )

    @Option(help: "Lookup table (Profiles/<device>/<portfolio>.lut.json).")
    var lut: String

    @Option(help: "A generator spec (step, square:period=2s, random-walk:seed=7, …) or a trace CSV path.")
    var trace: String

    @Option(help: "Latency objective, e.g. p99<=8ms, p50<=2.5ms, mean<=1ms.")
    var objective: String

    @Option(help: "gearbox, static-accurate, static-fast, oracle, a comma list, or all.")
    var policy: String = "all"

    @Option(help: "simulated, emulated or real.")
    var controller: ControllerArgument = .simulated

    @Option(help: "How long to run (e.g. 20s); default: 20s for generators, the file's length for CSV traces. At most 24h; a simulated run also records at most 2,000,000 timeline rows per policy.")
    var duration: String?

    @Option(help: "Seed of the simulated latency draws.")
    var seed: UInt64 = 1

    @Option(help: "Output directory (default Reports/validate-<trace>).")
    var out: String?

    @Option(help: "Safety margin as a fraction of the target.")
    var margin: Double = 0.05

    @Option(name: .customLong("tail-step"), help: "Percentile objectives: step of gearbox's tail tracker (0 = off; 0.02 learns heavier tails than the table's).")
    var tailStep: Double = 0

    @Option(name: .customLong("memory-budget"), help: "Only use variants whose memoryBytes fit (bytes).")
    var memoryBudget: Int?

    @Option(help: "Trace column (DVFS domain) to replay.")
    var domain: Int = 0

    @Option(help: "Simulated only: inject a slow-down the table does not know, e.g. 1.3@10s or 1.3@10s-20s.")
    var slowdown: [String] = []

    @Option(help: "Real/emulated only: portfolio (real inference, needs --portfolio) or work (calibrated CPU-work stand-in).")
    var runner: RunnerArgument = .portfolio

    @Option(help: "Real/emulated with --runner portfolio: the portfolio directory the table was profiled from.")
    var portfolio: String?

    @Option(help: "Real/emulated: where the measuring thread runs (pu, core, kind:N, none).")
    var pin: PinningRequest = .pu

    @Option(name: .customLong("sample-window"), help: "Real/emulated: time one inference per timeline row (0), or the mean over back-to-back inferences filling this window (e.g. 32ms); auto: four throttle periods when emulated, else 0.")
    var sampleWindow: String = "auto"

    @Option(help: "Real/emulated: after each frequency change, run the chosen variant untimed for this long before timing rows again (0: time everything); auto: four throttle periods when emulated (the cgroup throttle's settling transient is not inference latency), else 0.")
    var settle: String = "auto"

    @Flag(help: "Emulated: measure every throttle step again instead of reusing the calibration saved beside the LUT.")
    var recalibrate = false

    @Flag(help: "Exit 1 when gearbox's violation rate exceeds 1%.")
    var check = false

    @Flag(help: "Print summary.json to stdout instead of the table.")
    var json = false

    @OptionGroup var lock: MeasuringLockOptions

    func run() throws {
        let objective = try LatencyObjective(parsing: self.objective)
        let policies = try ValidationPolicy.list(parsing: policy)
        let source = controller.source
        let table = try LookupTable.read(from: lut)
        let levels = table.frequenciesKHz.isEmpty
            ? Array(Set(table.variants.flatMap { $0.latency.keys.compactMap { Int($0) } })).sorted() : table.frequenciesKHz
        let requestedMs = try duration.map { try DurationText.milliseconds($0, setting: "--duration") }
        if let ms = requestedMs, ms <= 0 { throw PolicyError.badSetting(name: "--duration", reason: "must be positive") }
        if let ms = requestedMs { try FrequencyTrace.checkDuration(ms, setting: "--duration") }
        let frequencyTrace = try TraceArgument.load(trace, levelsKHz: levels, durationMs: requestedMs ?? 20_000)
        let durationMs = requestedMs ?? frequencyTrace.durationMs
        let selectorConfiguration = VariantSelector.Configuration(safetyMargin: margin, memoryBudgetBytes: memoryBudget, tailStep: tailStep)
        let outDirectory = out ?? "Reports/validate-" + PolicyCLI.slug(TraceArgument.isFile(trace) ? URL(fileURLWithPath: trace).deletingPathExtension().lastPathComponent : trace)

        let report: ValidationReport
        switch source {
        case .simulated, .predicted:
            let slowdowns = try slowdown.map { try Slowdown(parsing: $0) }
            // The simulator draws no latency below half a cell's p50 (LatencyDistribution's floor).
            let fastestNs = table.variants.flatMap { $0.latency.values.map(\.p50Ns) }.min().map { $0 / 2 } ?? 1
            try Timeline.checkRowBudget(durationMs: durationMs, fastestLatencyNs: fastestNs)
            report = try Validator.simulate(
                table: table, tableName: lut, trace: frequencyTrace, traceName: trace, objective: objective, policies: policies,
                options: .init(seed: seed, durationMs: durationMs, domain: domain, slowdowns: slowdowns, selector: selectorConfiguration))
        case .emulated, .real:
            guard slowdown.isEmpty else {
                throw PolicyError.badSetting(name: "--slowdown", reason: "only the simulated controller can inject slow-downs")
            }
            report = try runRealTime(
                source: source, table: table, trace: frequencyTrace, objective: objective, policies: policies,
                durationMs: durationMs, selector: selectorConfiguration)
        }

        try report.write(to: outDirectory)
        if json {
            let data = try JSONFile.encoder().encode(report.summary)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("validate \(lut): trace \(trace), objective \(objective), controller \(report.summary.controller)"
                + (report.summary.controller == .simulated ? " (virtual time, seed \(seed))" : "")
                + ", \(DurationText.format(ns: durationMs * 1e6))")
            print(report.table())
            for note in report.summary.notes { print("note: \(note)") }
            for p in ValidationPolicy.allCases {
                if let note = report.summary.policies[p.rawValue]?.note { print("\(p.rawValue): \(note)") }
            }
            print("wrote \(outDirectory)/summary.json and \(outDirectory)/timeline.csv")
        }
        if check, let failure = try report.check(maxViolationRate: 0.01) {
            throw CommandError.failure(failure)
        }
    }
}

extension ValidateCommand {
    /// Builds the controller and runner the flags ask for and runs the policies in real time.
    private func runRealTime(
        source: MeasurementSource, table: LookupTable, trace frequencyTrace: FrequencyTrace, objective: LatencyObjective,
        policies: [ValidationPolicy], durationMs: Double, selector: VariantSelector.Configuration
    ) throws -> ValidationReport {
        let pinning = pin
        // Held until the last policy ran: nothing else may measure under DVFS meanwhile.
        let measuring = try lock.hold(for: source)
        defer { measuring?.release() }
        let controller: FrequencyController
        var calibrate: () throws -> Void = {}
        var notes: [String] = []
        var saveCalibration: () -> Void = {}
        var windowNs: Int64 = 0
        var settleNs: Int64 = 0
        if settle != "auto" && settle != "0" {
            let ms = try DurationText.milliseconds(settle, setting: "--settle")
            try FrequencyTrace.checkDuration(ms, setting: "--settle")
            settleNs = Int64(ms * 1e6)
            if settleNs < 0 { throw PolicyError.badSetting(name: "--settle", reason: "must be auto, 0 or a positive duration") }
        }
        if sampleWindow != "auto" && sampleWindow != "0" {
            let ms = try DurationText.milliseconds(sampleWindow, setting: "--sample-window")
            try FrequencyTrace.checkDuration(ms, setting: "--sample-window")
            windowNs = Int64(ms * 1e6)
            if windowNs < 0 { throw PolicyError.badSetting(name: "--sample-window", reason: "must be auto, 0 or a positive duration") }
        }
        if source == .emulated {
            let top = table.frequenciesKHz.max() ?? frequencyTrace.distinctKHz(domain: domain).last ?? 1
            let emulated = try EmulatedFrequencyController(options: .init(maxKHz: top, gridKHz: table.frequenciesKHz))
            let steps = frequencyTrace.distinctKHz(domain: domain).map(Frequency.init(kHz:))
            // Calibrated once per machine (saved beside the LUT by profile or an earlier validate),
            // then shared by every policy and every trace step of this run.
            let calibrationPath = EmulatedCalibrationFile.path(besideLookupTable: lut)
            notes.append(recalibrate ? "emulated DVFS: every step calibrated again (--recalibrate)" : emulated.reuseCalibrations(from: calibrationPath))
            if !json { print(notes[notes.count - 1]) }
            calibrate = { _ = try emulated.calibrate(steps) }
            if sampleWindow == "auto" {
                windowNs = Int64(steps.map { emulated.averagingWindowNs(forKHz: $0.kHz) }.max() ?? 0)
            }
            if settle == "auto" {
                settleNs = Int64(steps.map { emulated.averagingWindowNs(forKHz: $0.kHz) }.max() ?? 0)
            }
            saveCalibration = { try? emulated.saveCalibrations(to: calibrationPath, deviceID: table.device) }
            controller = emulated
        } else {
            controller = try RealFrequencyController()
        }
        let inference: InferenceRunner
        var before: () throws -> Void = {}
        switch runner {
        case .work:
            let work = CalibratedWorkRunner(table: table)
            before = { work.calibrate() }
            inference = work
            notes.append("runner: calibrated CPU work per variant (SpinWorkload, unthrottled time = the table's mean at its top frequency), a stand-in for inference: latencies show the controller's effect, not the engine's")
        case .portfolio:
            guard let portfolio else {
                throw PolicyError.badSetting(name: "--portfolio", reason: "--runner portfolio needs the portfolio directory the table was profiled from")
            }
            let backend = EngineBackend(threads: table.threads ?? 1)
            let runners = try VariantRunnerSet(
                table: table, tableName: lut, portfolio: Portfolio.open(directory: portfolio), backend: backend)
            inference = runners
            notes.append("runner: real inference, \(backend.name) backend with \(backend.threads) thread(s), variants from \(portfolio)")
        }
        let validation = RealTimeValidation(
            table: table, trace: frequencyTrace, objective: objective, controller: controller, runner: inference,
            traceDomain: domain, controllerDomain: 0, configuration: selector, tableName: lut, sampleWindowNs: windowNs,
            settleNs: settleNs)
        if !json { print("running \(policies.map(\.rawValue).joined(separator: ", ")) in real time, \(DurationText.format(ns: durationMs * 1e6)) each, \(source) controller") }
        defer { saveCalibration() }
        return try Validator.runRealTime(
            validation, tableName: lut, traceName: trace, policies: policies, durationMs: durationMs, pinning: pinning,
            beforeEnrolling: before, afterEnrolling: calibrate, notes: notes,
            progress: { policy in if !json { print("  \(policy.rawValue)…") } })
    }
}

/// Helpers shared by the policy commands (validate, trace).
enum PolicyCLI {
    /// A file-name-safe form of a trace spec: `square:period=2s` → `square-period-2s`.
    static func slug(_ text: String) -> String {
        let mapped = text.lowercased().map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "-" }
        return String(mapped).split(separator: "-").joined(separator: "-")
    }
}
