// gearbox: the command-line front end. Argument parsing, progress display and exit codes only;
// every piece of logic lives in the Gearbox* modules.

import ArgumentParser
import Foundation
import GearboxCore

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

    /// Runs the command with Gearbox's exit codes: 0 ok, 1 measurement or validation failure,
    /// 2 usage or input error (ArgumentParser's own usage errors would exit 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure || error is FileFormatError {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
