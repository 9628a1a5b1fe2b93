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

            Exit status: 0 success; 1 a measurement, a check or the environment failed (a full \
            disk; another gearbox process measuring under real or emulated DVFS, or writing the \
            same table: pass --wait to queue behind it); 2 a usage or input error. Measuring \
            commands hold the machine-wide lock $GEARBOX_LOCK_DIR/gearbox-measuring.lock \
            (default /run/lock, else /tmp); read-only and simulated commands never take it.
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
            StoreCommand.self,
            FleetCommand.self,
            BenchCommand.self,
        ]
    )

    /// Runs the command with Gearbox's exit codes (`ExitStatus`): 0 ok, 1 measurement,
    /// validation or environment failure (a full disk, a busy machine), 2 usage or input error.
    ///
    /// `--verbose` anywhere on the line (for commands that have no flag of that name) adds the
    /// error's full detail on a second line after the one-line message.
    static func main() {
        // Line-buffer stdout so progress lines stream when piped or logged, not only on a TTY.
        setvbuf(stdout, nil, _IOLBF, 0)
        let arguments = Array(CommandLine.arguments.dropFirst())
        let verbose = arguments.contains("--verbose")
        // The command that ran, so that a usage error it throws names its own help.
        var commandType: ParsableCommand.Type?
        do {
            var command: ParsableCommand
            do {
                command = try parseAsRoot(arguments)
            } catch where verbose {
                // The subcommand has no --verbose of its own: it is the global one.
                command = try parseAsRoot(arguments.filter { $0 != "--verbose" })
            }
            commandType = type(of: command)
            try command.run()
        } catch {
            Foundation.exit(report(error, verbose: verbose, command: commandType, arguments: arguments))
        }
    }

    /// The one place an error becomes words and an exit status: `gearbox: <message>` on standard
    /// error (one line, or the usage after a usage error) and the status the error's
    /// `ClassifiedError` conformance names. Errors of no Gearbox module are failures (1);
    /// ArgumentParser's usage errors are input errors (2); help and version exit 0.
    static func report(
        _ error: Error, verbose: Bool, command: ParsableCommand.Type? = nil, arguments: [String] = []
    ) -> Int32 {
        if let code = error as? ExitCode { return code.rawValue }
        let parserCode = exitCode(for: error)
        if parserCode == .success { exit(withError: error) }
        let status: ExitStatus
        let message: String
        if let classified = error as? ClassifiedError {
            status = classified.exitStatus
            message = Self.oneLine("\(error)")
        } else if parserCode == .validationFailure {
            // A usage error, thrown while parsing or by a command's run(): one line, like every
            // other error, ending with where the command's help is (not the whole usage text).
            let command = command ?? Self.command(named: arguments)
            status = .inputError
            message = Self.oneLine(command.message(for: error))
                + " (see '\((["gearbox"] + commandPath(to: command)).joined(separator: " ")) --help')"
        } else {
            status = .failure
            message = Self.oneLine("\(error)")
        }
        FileHandle.standardError.write(Data("gearbox: \(message)\n".utf8))
        if verbose { FileHandle.standardError.write(Data("detail: \(String(reflecting: error))\n".utf8)) }
        return status.rawValue
    }

    /// The deepest subcommand the leading words of `arguments` name (`gearbox` itself when none),
    /// for a usage error thrown before any command was parsed.
    static func command(named arguments: [String]) -> ParsableCommand.Type {
        var command: ParsableCommand.Type = Gearbox.self
        for word in arguments {
            guard let sub = command.configuration.subcommands.first(where: {
                ($0.configuration.commandName ?? "\($0)") == word || $0.configuration.aliases.contains(word)
            }) else { break }
            command = sub
        }
        return command
    }

    /// The subcommand names leading from `gearbox` to `command` (e.g. ["lut", "show"]).
    static func commandPath(to command: ParsableCommand.Type, from root: ParsableCommand.Type = Gearbox.self) -> [String] {
        for sub in root.configuration.subcommands {
            let name = sub.configuration.commandName ?? "\(sub)"
            if ObjectIdentifier(sub) == ObjectIdentifier(command) { return [name] }
            let below = commandPath(to: command, from: sub)
            if !below.isEmpty { return [name] + below }
        }
        return []
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// A command's own verdict: a `--check` that failed, a benchmark bar missed, a request the
/// command rejects. Says its exit status like every module's error.
struct CommandError: ClassifiedError, CustomStringConvertible {
    var description: String
    var exitStatus: ExitStatus

    /// Input the user can fix (exit 2).
    static func input(_ description: String) -> CommandError { CommandError(description: description, exitStatus: .inputError) }
    /// A failed check or measurement (exit 1).
    static func failure(_ description: String) -> CommandError { CommandError(description: description, exitStatus: .failure) }
}

/// `--wait`, for the commands that take the machine-wide measuring lock.
struct MeasuringLockOptions: ParsableArguments {
    @Flag(help: "When another gearbox process is measuring under DVFS (or writing the same output), wait for it instead of exiting 1.")
    var wait = false

    /// Takes `MeasuringLock` when `source` measures under real or emulated DVFS (nil otherwise:
    /// simulated runs share nothing), saying whom it waits for.
    func hold(for source: MeasurementSource) throws -> FileLock? {
        try MeasuringLock.acquire(for: source, wait: wait, whileWaiting: Self.announce)
    }

    /// Takes `MeasuringLock` whatever the source (commands that always touch DVFS).
    func holdAlways() throws -> FileLock {
        try MeasuringLock.acquire(wait: wait, whileWaiting: Self.announce)
    }

    static func announce(_ holder: LockHolder?) {
        FileHandle.standardError.write(Data("gearbox: \(MeasuringLock.waitingMessage(for: holder))\n".utf8))
    }
}
