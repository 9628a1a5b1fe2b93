// GearboxPipeline/DemoPipeline: the default pipeline `gearbox demo` runs on this machine, as
// typed library calls: probe → profile (ProfileSession) → validate, simulated and in real time
// (ValidationSession) → report (ReportBuilder). Every step is what the matching subcommand does
// with the same settings; the caller hears events and prints them.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxPolicy
import GearboxProfiler
import GearboxReport
import GearboxRuntime

/// A `gearbox demo` invocation, parsed.
public struct DemoRequest: Sendable {
    /// Three frequencies, short cells, short real-time validation.
    public var quick: Bool
    /// nil: the first of ``DemoPipeline/preferredPortfolios`` that exists.
    public var portfolioDirectory: String?
    /// nil: real with cpufreq, else emulated, else simulated (``DemoPipeline/defaultController(for:)``).
    public var controller: MeasurementSource?
    /// Where everything goes: Devices/, Profiles/, validation*/, index.html and report.md.
    public var outDirectory: String
    /// Queue behind another process measuring or writing the same output instead of failing.
    public var waitForLocks: Bool
    /// The machine to probe.
    public var probeRoot: SysfsRoot

    public init(quick: Bool = false, portfolioDirectory: String? = nil, controller: MeasurementSource? = nil,
                outDirectory: String = "Reports/demo", waitForLocks: Bool = false, probeRoot: SysfsRoot = .live) {
        self.quick = quick; self.portfolioDirectory = portfolioDirectory; self.controller = controller
        self.outDirectory = outDirectory; self.waitForLocks = waitForLocks; self.probeRoot = probeRoot
    }
}

/// What the demo says while it runs, in order, for the caller to print.
public enum DemoEvent {
    /// Step `number` of 4 starts.
    case step(number: Int, title: String)
    case probed(DeviceDescription, path: String)
    /// An interrupted demo left a checkpoint: the profile continues it.
    case resumingProfile(checkpoint: String)
    /// How the profile's set-up went.
    case profileNotes([String])
    /// Queued behind another process (a lock's holder named).
    case waiting(String)
    case sweep(SweepEvent)
    case profiled(SweepResult)
    /// The objective derived from the table and which variants meet it per step.
    case objective(LatencyObjective, coverage: [LatencyObjective.Coverage], controller: MeasurementSource)
    case validation(ValidationEvent)
    /// A validation was written into `session.outDirectory`.
    case validated(ValidationReport, ValidationSession)
    case reported(WrittenReport)
}

/// Why the demo stopped before its end.
public enum DemoError: Error, Equatable, CustomStringConvertible, ClassifiedError {
    /// Neither --portfolio nor a shipped portfolio.
    case noPortfolio
    /// The profile wrote a table with no measured cell.
    case noMeasuredCells(lut: String)

    public var description: String {
        switch self {
        case .noPortfolio: return "no portfolio found: run 'gearbox portfolio synth' to regenerate Portfolios/default"
        case let .noMeasuredCells(lut): return "\(lut) has no measured cells to validate against"
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .noPortfolio: return .inputError
        case .noMeasuredCells: return .failure
        }
    }
}

/// What the demo wrote and how long each phase took.
public struct DemoResult: Sendable {
    public var devicePath: String
    public var lutPath: String
    /// The validation the report shows (the real-time one when there was one).
    public var validationDirectory: String
    public var report: WrittenReport
    /// Wall time per phase, in order.
    public var phases: [(name: String, seconds: Double)]
    public var totalSeconds: Double
}

/// The demo pipeline.
public enum DemoPipeline {
    /// Tried in order when the request names no portfolio.
    public static let preferredPortfolios = ["Portfolios/fashion-dnnshifter", "Portfolios/default"]

    /// Per-phase budgets: cell time limit for the profile, real-time validation per policy.
    public static func budget(quick: Bool) -> (maxCellSeconds: Double, validationSeconds: Int) {
        quick ? (1.0, 3) : (1.5, 12)
    }

    /// Runs the four steps. Measuring steps hold the machine-wide `MeasuringLock` (real or
    /// emulated only) and the profile its output lock, as `gearbox profile` and `gearbox validate` do.
    public static func run(_ request: DemoRequest, events: @escaping (DemoEvent) -> Void = { _ in }) throws -> DemoResult {
        let started = Date()
        var phases = PhaseClock()
        let out = request.outDirectory
        let waiting: (LockHolder?) -> Void = { events(.waiting(MeasuringLock.waitingMessage(for: $0))) }

        // 1. Probe.
        events(.step(number: 1, title: "probe this machine"))
        let description = try DeviceProbe.run(root: request.probeRoot, options: .init())
        let devicePath = DeviceProbe.defaultPath(for: description, directory: out + "/Devices")
        try JSONFile.write(description, to: devicePath)
        events(.probed(description, path: devicePath))
        let source = request.controller ?? defaultController(for: description)
        guard let portfolioDirectory = request.portfolioDirectory ?? preferredPortfolios.first(where: hasManifest) else {
            throw DemoError.noPortfolio
        }
        let portfolioName = URL(fileURLWithPath: portfolioDirectory).lastPathComponent
        let lutPath = self.lutPath(out: out, deviceID: description.id, portfolio: portfolioName)
        phases.end("probe")

        // 2. Profile.
        events(.step(number: 2, title: "profile \(portfolioDirectory) with the \(source) controller"))
        let budget = budget(quick: request.quick)
        var profile = ProfileRequest(
            portfolioDirectory: portfolioDirectory, devicePath: devicePath, controller: source,
            frequencies: request.quick ? quickFrequencies(description) : "all", outPath: lutPath, quick: request.quick,
            maxCellSeconds: budget.maxCellSeconds, waitForLocks: request.waitForLocks)
        // An interrupted demo left a checkpoint: continue it rather than refuse to start over.
        let checkpoint = SweepPaths(lut: lutPath).checkpoint
        if FileManager.default.fileExists(atPath: checkpoint) {
            events(.resumingProfile(checkpoint: checkpoint))
            profile.resume = true
        }
        do {
            let measuring = try MeasuringLock.acquire(for: source, wait: request.waitForLocks, whileWaiting: waiting)
            defer { measuring?.release() }
            let session = try ProfileSession.prepare(profile)
            events(.profileNotes(session.notes))
            let result = try session.run(waiting: { events(.waiting($0)) }, progress: { events(.sweep($0)) })
            events(.profiled(result))
        }
        phases.end("profile")

        // 3. Validate on a step trace: simulated from the table, then in real time.
        let table = try JSONFile.read(LookupTable.self, from: lutPath)
        guard let objective = LatencyObjective.suggestedP99(for: table) else { throw DemoError.noMeasuredCells(lut: lutPath) }
        events(.step(number: 3, title: "validate the policy on a step trace, objective \(objective)"))
        events(.objective(objective, coverage: objective.coverage(in: table), controller: source))
        var validationUsed = try validate(
            ValidationRequest(lutPath: lutPath, trace: "step", objective: objective,
                              policies: Self.simulatedPolicies(for: table), controller: .simulated,
                              outDirectory: out + "/validation-simulated"),
            waitForLocks: request.waitForLocks, waiting: waiting, events: events)
        phases.end("validate (simulated)")
        if source != .simulated {
            validationUsed = try validate(
                ValidationRequest(lutPath: lutPath, trace: "step", objective: objective, controller: source,
                                  durationMs: Double(budget.validationSeconds) * 1000, outDirectory: out + "/validation",
                                  runner: .portfolio, portfolioDirectory: portfolioDirectory),
                waitForLocks: request.waitForLocks, waiting: waiting, events: events)
            phases.end("validate (\(source), real time)")
        }

        // 4. Report.
        events(.step(number: 4, title: "report"))
        let inputs = try ReportInputs.load(lutPath: lutPath, validationPath: validationUsed, devicePath: devicePath)
        let written = try ReportWriter.write(ReportBuilder(inputs: inputs).build(), to: out)
        events(.reported(written))
        phases.end("report")
        return DemoResult(devicePath: devicePath, lutPath: lutPath, validationDirectory: validationUsed, report: written,
                          phases: phases.phases, totalSeconds: Date().timeIntervalSince(started))
    }

    /// The policies the demo's simulated validation runs: the standard four, and `gearbox-joint`
    /// when the table has energy figures (a profile on a board with a power sensor).
    public static func simulatedPolicies(for table: LookupTable) -> [ValidationPolicy] {
        ValidationPolicy.standard + (EnergyPredictor(table: table).hasEnergy ? [.gearboxJoint] : [])
    }

    /// Runs and writes one validation (holding the measuring lock while it runs in real time);
    /// returns its directory.
    static func validate(
        _ request: ValidationRequest, waitForLocks: Bool, waiting: @escaping (LockHolder?) -> Void,
        events: @escaping (DemoEvent) -> Void
    ) throws -> String {
        let session = try ValidationSession.prepare(request)
        let report: ValidationReport
        do {
            let measuring = try MeasuringLock.acquire(for: request.controller, wait: waitForLocks, whileWaiting: waiting)
            defer { measuring?.release() }
            report = try session.run(events: { events(.validation($0)) })
        }
        try report.write(to: session.outDirectory)
        events(.validated(report, session))
        return session.outDirectory
    }

    /// `OUT/Profiles/<device>/<portfolio>.lut.json`: beside the demo's report, never the
    /// repository's own Profiles folder.
    public static func lutPath(out: String, deviceID: String, portfolio: String) -> String {
        "\(out)/Profiles/\(deviceID)/\(portfolio).lut.json"
    }

    static func hasManifest(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/portfolio.json")
    }

    /// real where cpufreq can be driven, emulated where the cgroup throttle can, else simulated.
    public static func defaultController(for description: DeviceDescription) -> MeasurementSource {
        switch description.dvfs.controller {
        case .real: return .real
        case .emulated: return .emulated
        case .unavailable: return .simulated
        }
    }

    /// The lowest, a middle and the highest step of the first domain's grid ("all" when it has
    /// three steps or fewer).
    public static func quickFrequencies(_ description: DeviceDescription) -> String {
        guard let grid = description.dvfs.domains.first?.gridKHz.sorted(), grid.count > 3 else { return "all" }
        return [grid[0], grid[grid.count / 2], grid[grid.count - 1]].map(String.init).joined(separator: ",")
    }
}

/// Wall time per demo phase, in order.
struct PhaseClock {
    private(set) var phases: [(name: String, seconds: Double)] = []
    private var last = Date()

    mutating func end(_ name: String) {
        let now = Date()
        phases.append((name, now.timeIntervalSince(last)))
        last = now
    }
}
