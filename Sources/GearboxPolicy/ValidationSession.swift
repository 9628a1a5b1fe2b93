// GearboxPolicy/ValidationSession: turns what `gearbox validate` was asked (table, trace,
// objective, policies, controller, runner, timing) into a ready run and runs it: simulated on a
// virtual clock, or in real time through a frequency controller and an inference runner built by
// `RealTimeValidationSession`. The CLI only parses, holds the measuring lock and prints.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxPortfolio
import GearboxProfiler
import GearboxRuntime

/// What runs while the trace plays in real time.
public enum RealTimeRunnerKind: String, Sendable, CaseIterable {
    /// Real inference through the portfolio's variant runners.
    case portfolio
    /// Fixed CPU work per variant, calibrated to the table: a labelled stand-in for inference.
    case work
}

/// A real-time timing setting (`--sample-window`, `--settle`): derived from the controller, or a
/// fixed span.
public enum RealTimeTiming: Equatable, Sendable {
    /// Four throttle periods under emulated DVFS, else 0.
    case auto
    case nanoseconds(Nanoseconds)

    /// `auto`, `0` or a duration such as `32ms`; `setting` names the flag in errors.
    public init(parsing text: String, setting: String) throws {
        switch text {
        case "auto": self = .auto
        case "0": self = .nanoseconds(.zero)
        default:
            let ms = try DurationText.milliseconds(text, setting: setting)
            try FrequencyTrace.checkDuration(ms, setting: setting)
            let span = Nanoseconds(Int64(ms * 1e6))
            if span < .zero { throw PolicyError.badSetting(name: setting, reason: "must be auto, 0 or a positive duration") }
            self = .nanoseconds(span)
        }
    }

    /// The span in force: `automatic` for `.auto`.
    public func resolved(automatic: Nanoseconds) -> Nanoseconds {
        switch self {
        case .auto: return automatic
        case let .nanoseconds(span): return span
        }
    }
}

/// A `gearbox validate` invocation, parsed.
public struct ValidationRequest: Sendable {
    /// The lookup table's path (also its name in the summary).
    public var lutPath: String
    /// A generator spec (step, square:period=2s, …) or a trace CSV path.
    public var trace: String
    public var objective: LatencyObjective
    public var policies: [ValidationPolicy]
    /// simulated, emulated or real (predicted runs as simulated).
    public var controller: MeasurementSource
    /// nil: 20 s for generators, the file's length for CSV traces.
    public var durationMs: Double?
    /// Seed of the simulated latency draws.
    public var seed: UInt64
    /// nil: `Reports/validate-<trace>`.
    public var outDirectory: String?
    public var selector: VariantSelector.Configuration
    /// The trace column (DVFS domain) to replay.
    public var domain: Int
    /// Simulated only.
    public var slowdowns: [Slowdown]
    /// Real time only: what runs, and the portfolio `.portfolio` loads its variants from.
    public var runner: RealTimeRunnerKind
    public var portfolioDirectory: String?
    /// Real time only: where the measuring thread runs.
    public var pin: PinningRequest
    public var sampleWindow: RealTimeTiming
    public var settle: RealTimeTiming
    /// Emulated only: reuse the throttle calibration saved beside the table.
    public var reuseCalibration: Bool
    /// A board model (`Devices/boards/<name>.board.json`) to simulate energy from when the table
    /// has no `energyPerInferenceJ` cells (nil: the board the table names in its provenance, if any).
    public var board: String?
    /// Where `board` is looked up.
    public var boardsDirectory = "Devices/boards"

    public init(lutPath: String, trace: String, objective: LatencyObjective, policies: [ValidationPolicy] = ValidationPolicy.standard,
                controller: MeasurementSource = .simulated, durationMs: Double? = nil, seed: UInt64 = 1, outDirectory: String? = nil,
                selector: VariantSelector.Configuration = .init(safetyMargin: nil, memoryBudgetBytes: nil, tailStep: 0),
                domain: Int = 0, slowdowns: [Slowdown] = [], runner: RealTimeRunnerKind = .portfolio, portfolioDirectory: String? = nil,
                pin: PinningRequest = .pu, sampleWindow: RealTimeTiming = .auto, settle: RealTimeTiming = .auto,
                reuseCalibration: Bool = true, board: String? = nil) {
        self.board = board
        self.lutPath = lutPath; self.trace = trace; self.objective = objective; self.policies = policies
        self.controller = controller; self.durationMs = durationMs; self.seed = seed; self.outDirectory = outDirectory
        self.selector = selector; self.domain = domain; self.slowdowns = slowdowns; self.runner = runner
        self.portfolioDirectory = portfolioDirectory; self.pin = pin; self.sampleWindow = sampleWindow; self.settle = settle
        self.reuseCalibration = reuseCalibration
    }

    /// Whether the run measures under real or emulated DVFS (and so needs the machine-wide
    /// `MeasuringLock` held around ``ValidationSession/run(events:)``).
    public var runsInRealTime: Bool { controller == .real || controller == .emulated }

    /// A file-name-safe form of a trace spec: `square:period=2s` → `square-period-2s`.
    public static func slug(_ text: String) -> String {
        let mapped = text.lowercased().map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "-" }
        return String(mapped).split(separator: "-").joined(separator: "-")
    }
}

/// What a validation says while it runs, for the caller to print.
public enum ValidationEvent: Sendable {
    /// Emulated: whether the throttle calibration was reused or is measured again.
    case calibration(String)
    /// The real-time runs start.
    case runningInRealTime(policies: [ValidationPolicy], durationMs: Double, controller: MeasurementSource)
    /// One policy's real-time run starts.
    case policyStarted(ValidationPolicy)
}

/// A checked validation: the table and trace loaded, the duration and budgets checked.
public final class ValidationSession {
    public let request: ValidationRequest
    public let table: LookupTable
    public let trace: FrequencyTrace
    /// The run's length per policy.
    public let durationMs: Double
    /// Where summary.json and timeline.csv go.
    public let outDirectory: String
    /// The energy figures: the table's measured cells, else simulated from `request.board`; nil without either.
    public let energy: EnergyEstimate?

    init(request: ValidationRequest, table: LookupTable, trace: FrequencyTrace, durationMs: Double, outDirectory: String,
         energy: EnergyEstimate?) {
        self.request = request; self.table = table; self.trace = trace; self.durationMs = durationMs
        self.outDirectory = outDirectory; self.energy = energy
    }

    /// Reads the table and the trace and checks every setting that needs no hardware. Input
    /// problems throw `PolicyError` or `FileFormatError` (exit 2).
    public static func prepare(_ request: ValidationRequest) throws -> ValidationSession {
        let table = try LookupTable.read(from: request.lutPath)
        let levels = table.frequenciesKHz.isEmpty
            ? Array(Set(table.variants.flatMap { $0.latency.keys.compactMap { Int($0) } })).sorted() : table.frequenciesKHz
        if let ms = request.durationMs, ms <= 0 { throw PolicyError.badSetting(name: "--duration", reason: "must be positive") }
        if let ms = request.durationMs { try FrequencyTrace.checkDuration(ms, setting: "--duration") }
        let trace = try TraceArgument.load(request.trace, levelsKHz: levels, durationMs: request.durationMs ?? 20_000)
        let durationMs = request.durationMs ?? trace.durationMs
        let traceName = TraceArgument.isFile(request.trace)
            ? URL(fileURLWithPath: request.trace).deletingPathExtension().lastPathComponent : request.trace
        let outDirectory = request.outDirectory ?? "Reports/validate-" + ValidationRequest.slug(traceName)
        if request.runsInRealTime {
            guard request.slowdowns.isEmpty else {
                throw PolicyError.badSetting(name: "--slowdown", reason: "only the simulated controller can inject slow-downs")
            }
        } else {
            // The simulator draws no latency below half a cell's p50 (LatencyDistribution's floor).
            let fastestNs: Nanoseconds = table.variants.flatMap { $0.latency.values.map(\.p50Ns) }.min().map { $0 * 0.5 } ?? 1
            try Timeline.checkRowBudget(durationMs: durationMs, fastestLatencyNs: fastestNs)
        }
        let catalog = BoardCatalog(directory: request.boardsDirectory)
        // Measured energy first; else the named board's power model, else the model the table was
        // profiled on (when its file is at hand).
        let energy = try EnergyEstimate(table: table)
            ?? request.board.map { EnergyEstimate(board: try catalog.load($0), domain: request.domain, table: table) }
            ?? table.provenance.board.flatMap { label in
                (try? catalog.load(label.name)).map { EnergyEstimate(board: $0, domain: request.domain, table: table) }
            }
        if request.policies.contains(.gearboxJoint) {
            guard !request.runsInRealTime else {
                throw PolicyError.badSetting(name: "--policy", reason: "gearbox-joint runs on the simulated controller only (use --controller simulated)")
            }
            guard energy != nil else {
                throw PolicyError.badSetting(name: "--policy", reason: "gearbox-joint needs energy figures: a table with energyPerInferenceJ cells, or --board NAME to simulate them")
            }
        }
        if request.selector.minimize == .energy, energy == nil {
            throw PolicyError.badSetting(name: "--minimize", reason: "energy needs energy figures: a table with energyPerInferenceJ cells, or --board NAME to simulate them")
        }
        return ValidationSession(
            request: request, table: table, trace: trace, durationMs: durationMs, outDirectory: outDirectory, energy: energy)
    }

    /// Runs the policies: on a virtual clock, or in real time (the caller holds `MeasuringLock`
    /// around this when ``ValidationRequest/runsInRealTime``). Writes nothing.
    public func run(events: @escaping (ValidationEvent) -> Void = { _ in }) throws -> ValidationReport {
        guard request.runsInRealTime else {
            return try Validator.simulate(
                table: table, tableName: request.lutPath, trace: trace, traceName: request.trace, objective: request.objective,
                policies: request.policies,
                options: .init(seed: request.seed, durationMs: durationMs, domain: request.domain, slowdowns: request.slowdowns,
                               selector: request.selector, energy: energy))
        }
        let session = try RealTimeValidationSession.prepare(
            request, table: table, trace: trace, announce: { events(.calibration($0)) })
        session.validation.energy = energy
        events(.runningInRealTime(policies: request.policies, durationMs: durationMs, controller: request.controller))
        return try session.run(policies: request.policies, durationMs: durationMs, energy: energy, progress: { events(.policyStarted($0)) })
    }
}

/// The real-time set-up of a validation: the frequency controller (real cpufreq, or emulated by
/// cgroup throttling with its calibration reused or measured again), the inference runner, the
/// sample window and settle time, and the notes saying which was chosen.
public final class RealTimeValidationSession {
    public let validation: RealTimeValidation
    public let tableName: String
    public let traceName: String
    public let pin: PinningRequest
    /// How the set-up went, written into the summary's notes.
    public let notes: [String]
    let beforeEnrolling: () throws -> Void
    let afterEnrolling: () throws -> Void
    let saveCalibration: () -> Void

    init(validation: RealTimeValidation, tableName: String, traceName: String, pin: PinningRequest, notes: [String],
         beforeEnrolling: @escaping () throws -> Void, afterEnrolling: @escaping () throws -> Void,
         saveCalibration: @escaping () -> Void) {
        self.validation = validation; self.tableName = tableName; self.traceName = traceName; self.pin = pin
        self.notes = notes; self.beforeEnrolling = beforeEnrolling; self.afterEnrolling = afterEnrolling
        self.saveCalibration = saveCalibration
    }

    /// Builds the controller `request.controller` names (emulated: with its throttle grid from the
    /// table and its calibration beside the table; `announce` hears whether it is reused) and the
    /// runner `request.runner` names. A controller that cannot start throws `HardwareError`;
    /// `.portfolio` without a portfolio directory throws ``PolicyError/badSetting(name:reason:)``.
    public static func prepare(
        _ request: ValidationRequest, table: LookupTable, trace: FrequencyTrace, announce: (String) -> Void = { _ in }
    ) throws -> RealTimeValidationSession {
        let controller: FrequencyController
        var afterEnrolling: () throws -> Void = {}
        var saveCalibration: () -> Void = {}
        var notes: [String] = []
        var throttleWindowNs = Nanoseconds.zero
        switch request.controller {
        case .emulated:
            let top = table.frequenciesKHz.max() ?? trace.distinctKHz(domain: request.domain).last ?? 1
            let emulated = try EmulatedFrequencyController(options: .init(maxKHz: top, gridKHz: table.frequenciesKHz))
            let steps = trace.distinctKHz(domain: request.domain).map(Frequency.init(kHz:))
            // Calibrated once per machine (saved beside the LUT by profile or an earlier validate),
            // then shared by every policy and every trace step of this run.
            let calibrationPath = EmulatedCalibrationFile.path(besideLookupTable: request.lutPath)
            let note = request.reuseCalibration
                ? emulated.reuseCalibrations(from: calibrationPath) : "emulated DVFS: every step calibrated again (--recalibrate)"
            notes.append(note)
            announce(note)
            afterEnrolling = { _ = try emulated.calibrate(steps) }
            throttleWindowNs = steps.map { emulated.averagingWindowNs(forKHz: $0.kHz) }.max() ?? .zero
            saveCalibration = { try? emulated.saveCalibrations(to: calibrationPath, deviceID: table.device) }
            controller = emulated
        case .real:
            controller = try RealFrequencyController()
        case .simulated, .predicted:
            throw PolicyError.badSetting(name: "--controller", reason: "real-time validation needs the real or emulated controller")
        }
        let (runner, beforeEnrolling, runnerNote) = try makeRunner(request, table: table)
        notes.append(runnerNote)
        let validation = RealTimeValidation(
            table: table, trace: trace, objective: request.objective, controller: controller, runner: runner,
            traceDomain: request.domain, controllerDomain: 0, configuration: request.selector, tableName: request.lutPath,
            sampleWindowNs: request.sampleWindow.resolved(automatic: throttleWindowNs),
            settleNs: request.settle.resolved(automatic: throttleWindowNs))
        return RealTimeValidationSession(
            validation: validation, tableName: request.lutPath, traceName: request.trace, pin: request.pin, notes: notes,
            beforeEnrolling: beforeEnrolling, afterEnrolling: afterEnrolling, saveCalibration: saveCalibration)
    }

    /// The runner, what to do before the thread is enrolled, and the note saying what it runs.
    static func makeRunner(
        _ request: ValidationRequest, table: LookupTable
    ) throws -> (InferenceRunner, () throws -> Void, String) {
        switch request.runner {
        case .work:
            let work = CalibratedWorkRunner(table: table)
            return (work, { work.calibrate() },
                    "runner: calibrated CPU work per variant (SpinWorkload, unthrottled time = the table's mean at its top frequency), a stand-in for inference: latencies show the controller's effect, not the engine's")
        case .portfolio:
            guard let portfolio = request.portfolioDirectory else {
                throw PolicyError.badSetting(name: "--portfolio", reason: "--runner portfolio needs the portfolio directory the table was profiled from")
            }
            let backend = EngineBackend(threads: table.threads ?? 1)
            let runners = try VariantRunnerSet(
                table: table, tableName: request.lutPath, portfolio: Portfolio.open(directory: portfolio), backend: backend)
            return (runners, {}, "runner: real inference, \(backend.name) backend with \(backend.threads) thread(s), variants from \(portfolio)")
        }
    }

    /// Runs `policies` one after another on a pinned measuring thread; saves the emulated
    /// calibration afterwards (also after a failure).
    public func run(
        policies: [ValidationPolicy], durationMs: Double, energy: EnergyEstimate? = nil,
        progress: @escaping (ValidationPolicy) -> Void = { _ in }
    ) throws -> ValidationReport {
        defer { saveCalibration() }
        return try Validator.runRealTime(
            validation, tableName: tableName, traceName: traceName, policies: policies, durationMs: durationMs, pinning: pin,
            beforeEnrolling: beforeEnrolling, afterEnrolling: afterEnrolling, notes: notes, energy: energy, progress: progress)
    }
}
