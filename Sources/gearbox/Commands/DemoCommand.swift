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
            Probes this machine into Devices/<id>.json, profiles a portfolio at every DVFS step into \
            Profiles/<id>/<portfolio>.lut.json (real cpufreq where the machine has it, emulated by cgroup \
            CPU throttling where it has not), validates the selection policy and its baselines on a step \
            trace (simulated from the table, then in real time with real inference), and writes \
            Reports/demo/index.html and report.md.

            The portfolio is the first of Portfolios/fashion-cnn-dnnshifter (real accuracies) and \
            Portfolios/default (synthetic, accuracy unknown) that exists, unless --portfolio names one.

            Example:
              gearbox demo --quick      # a first look in about two minutes
              gearbox demo              # the full default pipeline
            """
    )

    @Flag(help: "A first look: three frequencies, short cells, short validation.") var quick = false
    @Option(help: "Portfolio directory to profile (default: a shipped real portfolio, else Portfolios/default).")
    var portfolio: String?
    @Option(help: "real, emulated or simulated (default: real with cpufreq, else emulated, else simulated).")
    var controller: String?
    @Option(help: "Where the report goes.") var out: String = "Reports/demo"
    @Flag(help: "No progress bars (plain lines).") var noProgress = false

    static let preferredPortfolios = ["Portfolios/fashion-cnn-dnnshifter", "Portfolios/default"]

    func run() throws {
        let started = Date()
        // 1. Probe.
        step(1, "probe this machine")
        let description = try DeviceProbe.run(root: .live, options: .init())
        let devicePath = DeviceProbe.defaultPath(for: description)
        try JSONFile.write(description, to: devicePath)
        print("  \(description.cpuModel), \(description.topology.pus) PUs, DVFS: \(description.dvfs.controller)"
            + (description.dvfs.note.map { " (\($0))" } ?? "") + " → \(devicePath)")

        let source = controller ?? Self.defaultController(for: description)
        guard let portfolioDirectory = portfolio ?? Self.preferredPortfolios.first(where: Self.hasManifest) else {
            throw ValidationError("no portfolio found: run 'gearbox portfolio synth' to regenerate Portfolios/default")
        }
        let portfolioName = URL(fileURLWithPath: portfolioDirectory).lastPathComponent
        let lutPath = "Profiles/\(description.id)/\(portfolioName).lut.json"

        // 2. Profile.
        step(2, "profile \(portfolioDirectory) with the \(source) controller")
        var profileArguments = [
            "--portfolio", portfolioDirectory, "--device", devicePath, "--controller", source, "--out", lutPath,
        ]
        if quick {
            profileArguments += ["--quick", "--frequencies", Self.quickFrequencies(description, controller: source)]
        }
        if noProgress { profileArguments.append("--no-progress") }
        var profile = try ProfileCommand.parse(profileArguments)
        try profile.run()

        // 3. Validate on a step trace: simulated from the table, then in real time.
        let table = try JSONFile.read(LookupTable.self, from: lutPath)
        guard let objective = LatencyObjective.suggestedP99(for: table) else {
            throw ValidationError("\(lutPath) has no measured cells to validate against")
        }
        let validationDirectory = out + "/validation"
        step(3, "validate the policy on a step trace, objective \(objective)")
        var simulated = try ValidateCommand.parse([
            "--lut", lutPath, "--trace", "step", "--objective", objective.description, "--policy", "all",
            "--controller", "simulated", "--out", out + "/validation-simulated",
        ])
        try simulated.run()
        var validationUsed = out + "/validation-simulated"
        if source != "simulated" {
            var live = try ValidateCommand.parse([
                "--lut", lutPath, "--trace", "step", "--objective", objective.description, "--policy", "all",
                "--controller", source, "--runner", "portfolio", "--portfolio", portfolioDirectory,
                "--duration", quick ? "6s" : "16s", "--out", validationDirectory,
            ])
            try live.run()
            validationUsed = validationDirectory
        }

        // 4. Report.
        step(4, "report")
        var report = try ReportCommand.parse([
            "--lut", lutPath, "--validation", validationUsed, "--device", devicePath, "--out", out,
        ])
        try report.run()
        let seconds = Int(Date().timeIntervalSince(started).rounded())
        print("\ndone in \(seconds / 60)m\(seconds % 60)s: open \(out)/index.html (also \(out)/report.md)")
    }

    private func step(_ number: Int, _ title: String) {
        print("\n[\(number)/4] \(title)")
    }

    static func hasManifest(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/portfolio.json")
    }

    /// real where cpufreq can be driven, emulated where the cgroup throttle can, else simulated.
    static func defaultController(for description: DeviceDescription) -> String {
        switch description.dvfs.controller {
        case "real": return "real"
        case "emulated": return "emulated"
        default: return "simulated"
        }
    }

    /// The lowest, a middle and the highest step of the first domain's grid.
    static func quickFrequencies(_ description: DeviceDescription, controller: String) -> String {
        guard let grid = description.dvfs.domains.first?.gridKHz.sorted(), grid.count > 3 else { return "all" }
        return [grid[0], grid[grid.count / 2], grid[grid.count - 1]].map(String.init).joined(separator: ",")
    }
}
