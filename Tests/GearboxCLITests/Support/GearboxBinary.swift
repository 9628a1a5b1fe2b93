// GearboxCLITests/Support/GearboxBinary: finds the built `gearbox` executable in this checkout's
// .build folder (tests never build it: `make test` does, first) and runs it as a subprocess.

import Foundation
import GearboxTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a finished `gearbox` run left behind.
struct CommandResult {
    var status: Int32
    /// A trap (SIGILL, SIGTRAP) or a kill ended it, rather than an exit.
    var killedBySignal = false
    var stdout: String
    var stderr: String
}

enum GearboxBinary {
    /// The checkout containing this file.
    static let repositoryRoot: String = SharedFixtures.packageRoot

    /// The built binary, or nil (tests that need it carry the `.requiresBinary` trait).
    static let path: String? = {
        let candidates = [".build/debug/gearbox", ".build/release/gearbox",
                          ".build/x86_64-unknown-linux-gnu/debug/gearbox", ".build/aarch64-unknown-linux-gnu/debug/gearbox"]
        return candidates.map { repositoryRoot + "/" + $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// The binary; throws when there is none (a test that calls this carries `.requiresBinary`).
    static func built() throws -> String {
        guard let path else { throw CLITestError("no built gearbox binary under \(repositoryRoot)/.build") }
        return path
    }

    /// A copy of the environment taken once, so spawning never reads `environ` while another
    /// test's code changes it.
    private static let baseEnvironment = ProcessInfo.processInfo.environment

    /// Starts `gearbox arguments` with `environment` added; standard output and error go to files.
    static func start(_ arguments: [String], environment: [String: String] = [:], executable: String? = nil,
                      prefix: [String] = [], directory: String? = nil) throws -> RunningCommand {
        guard let binary = executable ?? path else { throw CLITestError("no gearbox binary") }
        let scratch = ScratchDirectory("cli")
        _ = FileManager.default.createFile(atPath: scratch.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.file("err"), contents: nil)
        let process = Process()
        if prefix.isEmpty {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: prefix[0])
            process.arguments = Array(prefix.dropFirst()) + [binary] + arguments
        }
        process.environment = baseEnvironment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("out")))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("err")))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return RunningCommand(process: process, scratch: scratch)
    }

    /// Runs `gearbox arguments` to completion.
    static func run(_ arguments: [String], environment: [String: String] = [:], prefix: [String] = [],
                    directory: String? = nil) throws -> CommandResult {
        let running = try start(arguments, environment: environment, prefix: prefix, directory: directory)
        return running.wait()
    }
}

/// A `gearbox` process the test can watch and signal. Its standard output and error files are
/// removed with it.
final class RunningCommand {
    let process: Process
    let scratch: ScratchDirectory

    init(process: Process, scratch: ScratchDirectory) { self.process = process; self.scratch = scratch }

    var stdoutSoFar: String { (try? String(contentsOfFile: scratch.file("out"), encoding: .utf8)) ?? "" }
    var stderrSoFar: String { (try? String(contentsOfFile: scratch.file("err"), encoding: .utf8)) ?? "" }

    /// Waits (up to `timeoutSeconds`) until standard error contains `text`; false on timeout or exit.
    func waitForError(containing text: String, timeoutSeconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if stderrSoFar.contains(text) { return true }
            if !process.isRunning { return stderrSoFar.contains(text) }
            usleep(20_000)
        }
        return false
    }

    /// Waits (up to `timeoutSeconds`) until standard output has `lines` lines; false on timeout or exit.
    func waitForOutputLines(_ lines: Int, timeoutSeconds: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if stdoutSoFar.split(separator: "\n").count >= lines { return true }
            if !process.isRunning { return false }
            usleep(20_000)
        }
        return false
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit by polling `waitpid`: Foundation's SIGCHLD monitor was seen to leave a
    /// finished child (the farm script, whose daemons outlive it) a zombie with `waitUntilExit`
    /// blocked for good.
    func wait() -> CommandResult {
        let pid = process.processIdentifier
        var raw: Int32 = 0
        var reaped = false
        while process.isRunning {
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid { reaped = true; break }
            usleep(20_000)
        }
        // The child's wait status: exit code in bits 8–15, terminating signal in bits 0–6.
        let signalled = reaped && (raw & 0x7f) != 0
        let status = reaped ? (signalled ? raw & 0x7f : (raw >> 8) & 0xff) : process.terminationStatus
        return CommandResult(
            status: status, killedBySignal: reaped ? signalled : process.terminationReason == .uncaughtSignal,
            stdout: stdoutSoFar, stderr: (try? String(contentsOfFile: scratch.file("err"), encoding: .utf8)) ?? "")
    }
}

struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Fixtures {
    static let armBoard = SharedFixtures.armBoard
    static let intelHybrid = SharedFixtures.intelHybrid
    static let fakeHeterogeneousNUMA = SharedFixtures.fakeHeterogeneousNUMA

    /// The archive of fixture `name` (tests that call this carry `.requiresSysfsDumps`).
    static func archive(_ name: String) throws -> String { try SharedFixtures.sysfsArchive(named: name) }

    /// A fresh writable extraction of fixture `name`: the dump root (holding sys/) and the
    /// folder to delete afterwards.
    static func writableCopy(_ name: String) throws -> (root: String, cleanup: String) {
        let scratch = NSTemporaryDirectory() + "gearbox-cli-dump-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        return (try SharedFixtures.extractSysfsDump(named: name, into: scratch), scratch)
    }
}

extension Trait where Self == ConditionTrait {
    /// The built `gearbox` executable (`swift build --build-tests` or `make test` builds it).
    static var requiresBinary: Self {
        .enabled(if: GearboxBinary.path != nil, "needs the built gearbox binary (swift build --build-tests, or make test)")
    }
}

extension GearboxBinary {
    /// A run with its own journal folder and its own measuring-lock folder: tests side by side
    /// never share a journal, nor queue behind each other's (or a farm board's) measuring lock.
    static func isolatedEnvironment(state: String, lock: String) -> [String: String] {
        ["GEARBOX_STATE_DIR": state, "GEARBOX_LOCK_DIR": lock]
    }
}
