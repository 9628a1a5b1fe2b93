// gearbox demo: the default pipeline on this machine: probe → profile → validate → report.
// Parsing and printing only; GearboxPipeline's DemoPipeline runs the steps through the same
// library sessions as the subcommands, and each step prints what its subcommand prints.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxHardware
import GearboxPipeline
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

    func run() throws {
        let display = ProgressDisplay(enabled: !noProgress)
        let request = DemoRequest(
            quick: quick, portfolioDirectory: portfolio, controller: controller?.source, outDirectory: out, waitForLocks: lock.wait)
        let result = try DemoPipeline.run(request) { event in Self.show(event, display: display) }
        let seconds = Int(result.totalSeconds.rounded())
        print("\nphase wall times (load average \(LoadAverage.current()?.text ?? "unknown") at the end):")
        for (name, phaseSeconds) in result.phases {
            print("  " + name.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: "%7.1f s", phaseSeconds))
        }
        print("\ndone in \(seconds / 60)m\(seconds % 60)s: open \(out)/index.html (also \(out)/report.md)")
    }

    /// Prints one step's progress as the step's own subcommand would.
    static func show(_ event: DemoEvent, display: ProgressDisplay) {
        switch event {
        case let .step(number, title):
            print("\n[\(number)/4] \(title)")
        case let .probed(description, path):
            print("  \(description.cpuModel), \(description.topology.pus) PUs, DVFS: \(description.dvfs.controller)"
                + (description.dvfs.note.map { " (\($0))" } ?? "") + " → \(path)")
        case let .resumingProfile(checkpoint):
            print("  resuming the interrupted profile (checkpoint \(checkpoint))")
        case let .profileNotes(notes):
            for note in notes { display.line("note: \(note)") }
        case let .waiting(text):
            FileHandle.standardError.write(Data("gearbox: \(text)\n".utf8))
        case let .sweep(sweepEvent):
            display.show(sweepEvent)
        case let .profiled(result):
            display.finish()
            ProfileCommand.printResult(result)
        case let .objective(_, coverage, controller):
            print("  objective derived from the table: the larger of the most accurate variant's p99 at its top step + 15% "
                + "and the fastest variant's p99 at the lowest step + 25% (+ 10% when that is what makes the most "
                + "accurate variant miss there); by the table's p99 it is met by")
            for line in coverage { print("    " + line.line) }
            if controller == .emulated {
                print("  emulated DVFS: a sub-period inference runs unthrottled or stalls for the rest of the throttle period, "
                    + "so each timeline row is the mean of back-to-back inferences over four periods, as in the table; "
                    + "after each frequency change the chosen variant first runs untimed for four periods while the throttle settles "
                    + "(the profiler settles each step too); each switch is timed on its own (switch ms, switchTimeNs) and also counted in the row it delays")
            }
        case let .validation(validationEvent):
            ValidateCommand.printProgress(validationEvent)
        case let .validated(report, session):
            ValidateCommand.printSummary(report, of: session)
        case let .reported(written):
            ReportCommand.printWritten(written)
        }
    }
}
