// gearbox demo: the default pipeline on this machine: probe → profile → validate → report.
// It only chains the other subcommands (each parsed from its own flags), so every step is
// exactly what a user would get by running it by hand.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxHardware
import GearboxPolicy
import GearboxProfiler

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole pipeline on a built-in default: probe, profile, validate, report.",
        discussion: """
            Probes this machine into OUT/Devices/<id>.json, profiles a portfolio at every DVFS step \
            into OUT/Profiles/<id>/<portfolio>.lut.json (real cpufreq where the machine has it, emulated \
            by cgroup CPU throttling where it has not), validates the selection policy and its \
            baselines on a step trace (simulated from the table, then in real time with real \
            inference), and writes OUT/index.html and report.md (OUT is --out, default Reports/demo, \
            which git ignores: the demo never rewrites a tracked file such as the committed example \
            table). It ends with each phase's wall time.

            The portfolio is the first of Portfolios/fashion-dnnshifter (15 pruned Fashion-MNIST \
            variants, accuracies measured by the engine) and Portfolios/default (synthetic, accuracy \
            unknown) that exists, unless --portfolio names one. The objective is derived from the \
            table (the fastest variant's p99 at the lowest step plus 25%, or the most accurate one's \
            at the top plus 15%, whichever is larger), so that at high steps accurate variants meet \
            it and at low steps only fast ones do. Under emulated DVFS a sub-millisecond inference is \
            either unthrottled or stalled for the rest of the 63 ms throttle period, so the table and \
            the real-time validation both time the mean of back-to-back inferences over four periods.

            Budgets (2-vCPU VM): --quick profiles 3 steps with ≤1 s cells and validates 3 s per \
            policy (under 2 minutes idle); the full demo profiles every step with ≤1.5 s cells and \
            validates 12 s per policy (under 10 minutes idle). The emulated throttle is calibrated \
            once and reused (OUT/Profiles/<id>/emulated-dvfs-calibration.json).

            Example:
              gearbox demo --quick      # a first look in under two minutes
              gearbox demo              # the full default pipeline
            """
    )

    @Flag(help: "A first look: three frequencies, short cells, short validation.") var quick = false
    @Option(help: "Portfolio directory to profile (default: a shipped real portfolio, else Portfolios/default).")
    var portfolio: String?
    @Option(help: "real, emulated or simulated (default: real with cpufreq, else emulated, else simulated).")
    var controller: ControllerArgument?
    @Option(help: "Where everything the demo writes goes: the device description, the table, the validations and the report.")
    var out: String = "Reports/demo"
    @Flag(help: "No progress bars (plain lines).") var noProgress = false
    @OptionGroup var lock: MeasuringLockOptions

    static let preferredPortfolios = ["Portfolios/fashion-dnnshifter", "Portfolios/default"]

    /// Per-phase budgets: cell time limit for the profile, real-time validation per policy.
    static func budget(quick: Bool) -> (maxCellSeconds: Double, validationSeconds: Int) {
        quick ? (1.0, 3) : (1.5, 12)
    }

    func run() throws {
        let started = Date()
        let budget = Self.budget(quick: quick)
        var phases = PhaseClock()
        // 1. Probe.
        step(1, "probe this machine")
        let description = try DeviceProbe.run(root: .live, options: .init())
        let devicePath = DeviceProbe.defaultPath(for: description, directory: out + "/Devices")
        try JSONFile.write(description, to: devicePath)
        print("  \(description.cpuModel), \(description.topology.pus) PUs, DVFS: \(description.dvfs.controller)"
            + (description.dvfs.note.map { " (\($0))" } ?? "") + " → \(devicePath)")

        let source = controller ?? Self.defaultController(for: description)
        guard let portfolioDirectory = portfolio ?? Self.preferredPortfolios.first(where: Self.hasManifest) else {
            throw CommandError.input("no portfolio found: run 'gearbox portfolio synth' to regenerate Portfolios/default")
        }
        let portfolioName = URL(fileURLWithPath: portfolioDirectory).lastPathComponent
        let lutPath = Self.lutPath(out: out, deviceID: description.id, portfolio: portfolioName)
        phases.end("probe")

        // 2. Profile.
        step(2, "profile \(portfolioDirectory) with the \(source) controller")
        var profileArguments = [
            "--portfolio", portfolioDirectory, "--device", devicePath, "--controller", source.rawValue, "--out", lutPath,
            "--max-cell-seconds", String(budget.maxCellSeconds),
        ]
        if quick {
            profileArguments += ["--quick", "--frequencies", Self.quickFrequencies(description, controller: source)]
        }
        if noProgress { profileArguments.append("--no-progress") }
        if lock.wait { profileArguments.append("--wait") }
        // An interrupted demo left a checkpoint: continue it rather than refuse to start over.
        let checkpoint = SweepPaths(lut: lutPath).checkpoint
        if FileManager.default.fileExists(atPath: checkpoint) {
            print("  resuming the interrupted profile (checkpoint \(checkpoint))")
            profileArguments.append("--resume")
        }
        let profile = try ProfileCommand.parse(profileArguments)
        try profile.run()
        phases.end("profile")

        // 3. Validate on a step trace: simulated from the table, then in real time.
        let table = try JSONFile.read(LookupTable.self, from: lutPath)
        guard let objective = LatencyObjective.suggestedP99(for: table) else {
            throw CommandError.failure("\(lutPath) has no measured cells to validate against")
        }
        let validationDirectory = out + "/validation"
        step(3, "validate the policy on a step trace, objective \(objective)")
        print("  objective derived from the table: the larger of the most accurate variant's p99 at its top step + 15% "
            + "and the fastest variant's p99 at the lowest step + 25% (+ 10% when that is what makes the most "
            + "accurate variant miss there); by the table's p99 it is met by")
        for coverage in objective.coverage(in: table) {
            print("    " + coverage.line)
        }
        if source == .emulated {
            print("  emulated DVFS: a sub-period inference runs unthrottled or stalls for the rest of the throttle period, "
                + "so each timeline row is the mean of back-to-back inferences over four periods, as in the table; "
                + "after each frequency change the chosen variant first runs untimed for four periods while the throttle settles "
                + "(the profiler settles each step too); each switch is timed on its own (switch ms, switchTimeNs) and also counted in the row it delays")
        }
        let simulated = try ValidateCommand.parse([
            "--lut", lutPath, "--trace", "step", "--objective", objective.description, "--policy", "all",
            "--controller", "simulated", "--out", out + "/validation-simulated",
        ])
        try simulated.run()
        phases.end("validate (simulated)")
        var validationUsed = out + "/validation-simulated"
        if source != .simulated {
            let live = try ValidateCommand.parse([
                "--lut", lutPath, "--trace", "step", "--objective", objective.description, "--policy", "all",
                "--controller", source.rawValue, "--runner", "portfolio", "--portfolio", portfolioDirectory,
                "--duration", "\(budget.validationSeconds)s", "--out", validationDirectory,
            ] + (lock.wait ? ["--wait"] : []))
            try live.run()
            validationUsed = validationDirectory
            phases.end("validate (\(source), real time)")
        }

        // 4. Report.
        step(4, "report")
        let report = try ReportCommand.parse([
            "--lut", lutPath, "--validation", validationUsed, "--device", devicePath, "--out", out,
        ])
        try report.run()
        phases.end("report")
        let seconds = Int(Date().timeIntervalSince(started).rounded())
        print("\nphase wall times (load average \(Self.loadAverage()) at the end):")
        for (name, phaseSeconds) in phases.phases {
            print("  " + name.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%7.1f s", phaseSeconds))
        }
        print("\ndone in \(seconds / 60)m\(seconds % 60)s: open \(out)/index.html (also \(out)/report.md)")
    }

    /// `OUT/Profiles/<device>/<portfolio>.lut.json`: beside the demo's report, never the
    /// repository's own Profiles folder.
    static func lutPath(out: String, deviceID: String, portfolio: String) -> String {
        "\(out)/Profiles/\(deviceID)/\(portfolio).lut.json"
    }

    /// The 1-, 5- and 15-minute load averages, for reading the phase times.
    static func loadAverage() -> String {
        LoadAverage.current()?.text ?? "unknown"
    }

    private func step(_ number: Int, _ title: String) {
        print("\n[\(number)/4] \(title)")
    }

    static func hasManifest(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/portfolio.json")
    }

    /// real where cpufreq can be driven, emulated where the cgroup throttle can, else simulated.
    static func defaultController(for description: DeviceDescription) -> ControllerArgument {
        switch description.dvfs.controller {
        case .real: return .real
        case .emulated: return .emulated
        case .unavailable: return .simulated
        }
    }

    /// The lowest, a middle and the highest step of the first domain's grid.
    static func quickFrequencies(_ description: DeviceDescription, controller: ControllerArgument) -> String {
        guard let grid = description.dvfs.domains.first?.gridKHz.sorted(), grid.count > 3 else { return "all" }
        return [grid[0], grid[grid.count / 2], grid[grid.count - 1]].map(String.init).joined(separator: ",")
    }
}

/// Wall time per demo phase, in order.
struct PhaseClock {
    private(set) var phases: [(String, Double)] = []
    private var last = Date()

    mutating func end(_ name: String) {
        let now = Date()
        phases.append((name, now.timeIntervalSince(last)))
        last = now
    }
}
