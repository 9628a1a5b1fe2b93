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
            BoardCommand.self,
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
    ///
    /// `--verbose` anywhere on the line (for commands that have no flag of that name) adds the
    /// error's full detail on a second line after the one-line message.
    static func main() {
        // Line-buffer stdout so progress lines stream when piped or logged, not only on a TTY.
        setvbuf(stdout, nil, _IOLBF, 0)
        let arguments = Array(CommandLine.arguments.dropFirst())
        let verbose = arguments.contains("--verbose")
        do {
            var command: ParsableCommand
            do {
                command = try parseAsRoot(arguments)
            } catch where verbose {
                // The subcommand has no --verbose of its own: it is the global one.
                command = try parseAsRoot(arguments.filter { $0 != "--verbose" })
            }
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let inputError = code == .validationFailure || error is FileFormatError
            guard inputError || (verbose && code != .success) else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            if verbose { FileHandle.standardError.write(Data("detail: \(String(reflecting: error))\n".utf8)) }
            Foundation.exit(inputError ? 2 : code.rawValue)
        }
    }
}
