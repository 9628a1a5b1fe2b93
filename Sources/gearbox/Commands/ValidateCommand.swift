// gearbox validate: replays a frequency trace against the selection policy and its baselines
// (simulated on a virtual clock, or in real time through a frequency controller) and writes
// Reports/<name>/summary.json and timeline.csv.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxPolicy
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

            --minimize energy picks, per frequency, the least-energy variant that meets the objective \
            (and --min-accuracy). --policy gearbox-joint (simulated only, not part of all) reads the \
            trace's frequency as a cap (thermal) and picks the frequency at or below it and the variant \
            together for the least energy. Energy comes from the table's energyPerInferenceJ cells \
            (labelled as the cells are), else from --board NAME's power model (simulated); summary.json \
            says which in energySource. The safety margin defaults to the table's relative CI at each cell.

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

    @Option(help: "gearbox, static-accurate, static-fast, oracle, gearbox-joint, a comma list, or all (the first four).")
    var policy: String = "all"

    @Option(help: "simulated, emulated or real.")
    var controller: ControllerArgument = .simulated

    @Option(help: "How long to run (e.g. 20s); default: 20s for generators, the file's length for CSV traces. At most 24h; a simulated run also records at most 2,000,000 timeline rows per policy.")
    var duration: String?

    @Option(help: "Seed of the simulated latency draws.")
    var seed: UInt64 = 1

    @Option(help: "Output directory (default Reports/validate-<trace>).")
    var out: String?

    @Option(name: [.customLong("margin"), .customLong("safety-margin")],
            help: "Safety margin as a fraction of the target (default: the table's relative 95% CI of the p50 at each cell used).")
    var margin: Double?

    @Option(help: "Minimise this among the variants meeting the objective (energy) instead of maximising accuracy.")
    var minimize: VariantSelector.MinimizedQuantity?

    @Option(name: .customLong("min-accuracy"), help: "Leave out variants below this accuracy (a fraction, e.g. 0.9).")
    var minAccuracy: Double?

    @Option(help: "Board model (Devices/boards/NAME.board.json) to simulate energy from when the table has no energy figures.")
    var board: String?

    @Option(name: .customLong("tail-step"), help: "Percentile objectives: step of gearbox's tail tracker (0 = off; 0.02 learns heavier tails than the table's).")
    var tailStep: Double = 0

    @Option(name: .customLong("memory-budget"), help: "Only use variants whose memoryBytes fit (bytes).")
    var memoryBudget: Int?

    @Option(help: "Trace column (DVFS domain) to replay.")
    var domain: Int = 0

    @Option(help: "Simulated only: inject a slow-down the table does not know, e.g. 1.3@10s or 1.3@10s-20s.")
    var slowdown: [String] = []

    @Option(help: "Real/emulated only: portfolio (real inference, needs --portfolio) or work (calibrated CPU-work stand-in).")
    var runner: RealTimeRunnerKind = .portfolio

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
        let request = try self.request()
        let session = try ValidationSession.prepare(request)
        let report = try run(session)
        try report.write(to: session.outDirectory)
        if json {
            let data = try JSONFile.encoder().encode(report.summary)
            print(String(decoding: data, as: UTF8.self))
        } else {
            Self.printSummary(report, of: session)
        }
        if check, let failure = try report.check(maxViolationRate: 0.01) {
            throw CommandError.failure(failure)
        }
    }

    /// The flags as a typed request.
    func request() throws -> ValidationRequest {
        ValidationRequest(
            lutPath: lut, trace: trace, objective: try LatencyObjective(parsing: objective),
            policies: try ValidationPolicy.list(parsing: policy), controller: controller.source,
            durationMs: try duration.map { try DurationText.milliseconds($0, setting: "--duration") }, seed: seed,
            outDirectory: out,
            selector: VariantSelector.Configuration(
                safetyMargin: margin, memoryBudgetBytes: memoryBudget, tailStep: tailStep, minimize: minimize,
                minimumAccuracy: minAccuracy),
            domain: domain, slowdowns: try slowdown.map { try Slowdown(parsing: $0) }, runner: runner,
            portfolioDirectory: portfolio, pin: pin,
            sampleWindow: try RealTimeTiming(parsing: sampleWindow, setting: "--sample-window"),
            settle: try RealTimeTiming(parsing: settle, setting: "--settle"), reuseCalibration: !recalibrate, board: board)
    }

    /// Runs the session, holding the machine-wide measuring lock while it runs in real time (so
    /// nothing else measures under DVFS meanwhile), and prints its progress unless `--json`.
    func run(_ session: ValidationSession) throws -> ValidationReport {
        let measuring = try lock.hold(for: session.request.controller)
        defer { measuring?.release() }
        let quiet = json
        return try session.run(events: { event in if !quiet { Self.printProgress(event) } })
    }

    /// A validation's progress lines.
    static func printProgress(_ event: ValidationEvent) {
        switch event {
        case let .calibration(note): print(note)
        case let .runningInRealTime(policies, durationMs, controller):
            print("running \(policies.map(\.rawValue).joined(separator: ", ")) in real time, \(DurationText.format(Nanoseconds(milliseconds: durationMs))) each, \(controller) controller")
        case let .policyStarted(policy): print("  \(policy.rawValue)…")
        }
    }

    /// What `gearbox validate` prints after a run (also `gearbox demo`).
    static func printSummary(_ report: ValidationReport, of session: ValidationSession) {
        let request = session.request
        print("validate \(request.lutPath): trace \(request.trace), objective \(request.objective), controller \(report.summary.controller)"
            + (report.summary.controller == .simulated ? " (virtual time, seed \(request.seed))" : "")
            + ", \(DurationText.format(Nanoseconds(milliseconds: session.durationMs)))")
        print(report.table())
        for note in report.summary.notes { print("note: \(note)") }
        for p in ValidationPolicy.allCases {
            if let note = report.summary.policies[p.rawValue]?.note { print("\(p.rawValue): \(note)") }
        }
        print("wrote \(session.outDirectory)/summary.json and \(session.outDirectory)/timeline.csv")
    }
}
