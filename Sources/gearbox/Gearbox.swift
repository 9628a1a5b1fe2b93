// gearbox: the command-line front end. Argument parsing, progress display and exit codes only;
// every piece of logic lives in the Gearbox* modules.

import ArgumentParser

@main
struct Gearbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gearbox",
        abstract: "Hardware-in-the-loop profiling of pruned DNN variants under DVFS.",
        discussion: """
            Probe a board, profile a portfolio of pruned variants at every DVFS frequency into a \
            lookup table, validate a variant-switching policy under frequency traces, and report. \
            Every figure is labelled real (cpufreq DVFS), emulated (cgroup CPU throttling), \
            simulated (virtual clock) or predicted (fitted model).
            """,
        subcommands: [
            DemoCommand.self,
            DeviceCommand.self,
            DVFSCommand.self,
            OnnxCommand.self,
            RunCommand.self,
            VariantCommand.self,
            PortfolioCommand.self,
            ProfileCommand.self,
            LutCommand.self,
            TraceCommand.self,
            ValidateCommand.self,
            ReportCommand.self,
            BenchCommand.self,
        ]
    )
}
