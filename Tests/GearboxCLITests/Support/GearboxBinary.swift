// GearboxCLITests/Support/GearboxBinary: finds the built `gearbox` executable in this checkout's
// .build folder (tests never build it: `make test` does, first) and runs it as a subprocess.
// Also finds and extracts the shared sysfs dump fixtures with the system tar.

import Foundation
import GearboxTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a finished `gearbox` run left behind.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum GearboxBinary {
    /// The checkout containing this file.
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Support, GearboxCLITests, Tests, file
        return url.path
    }()

    /// The built binary, or nil (tests then skip with a printed reason).
    static let path: String? = {
        let candidates = [".build/debug/gearbox", ".build/release/gearbox",
                          ".build/x86_64-unknown-linux-gnu/debug/gearbox", ".build/aarch64-unknown-linux-gnu/debug/gearbox"]
        return candidates.map { repositoryRoot + "/" + $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// The binary, or nil after printing why the calling test skips.
    static func require(_ test: String) -> String? {
        if let path { return path }
        print("skipped: \(test): no built gearbox binary under \(repositoryRoot)/.build (run `swift build --product gearbox` or `make test`)")
        return nil
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

    func wait() -> CommandResult {
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, stdout: stdoutSoFar,
            stderr: (try? String(contentsOfFile: scratch.file("err"), encoding: .utf8)) ?? "")
    }
}

struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Fixtures {
    static let armBoard = "2arm-2c"
    static let intelHybrid = "20em64t-hybrid-1p6c2t+2ca4co1t"
    static let fakeHeterogeneousNUMA = "fakeheterocpunuma"

    /// The folder of `*.tar.bz2` dumps: `GEARBOX_SYSFS_FIXTURES`, or the first
    /// `shared/fixtures/sysfs` above the checkout.
    static let directory: String? = {
        if let override = ProcessInfo.processInfo.environment["GEARBOX_SYSFS_FIXTURES"], !override.isEmpty { return override }
        var url = URL(fileURLWithPath: GearboxBinary.repositoryRoot)
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("shared/fixtures/sysfs").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// The archive of fixture `name`, or nil after printing why the test skips.
    static func archive(_ name: String) -> String? {
        guard let directory else {
            print("skipped: sysfs fixtures not found (expected ../shared/fixtures/sysfs or GEARBOX_SYSFS_FIXTURES)")
            return nil
        }
        return directory + "/\(name).tar.bz2"
    }

    /// A fresh writable extraction of fixture `name`: the dump root (holding sys/) and the
    /// folder to delete afterwards.
    static func writableCopy(_ name: String) throws -> (root: String, cleanup: String)? {
        guard let archive = archive(name) else { return nil }
        let scratch = NSTemporaryDirectory() + "gearbox-cli-dump-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-xjf", archive, "-C", scratch]
        try tar.run()
        tar.waitUntilExit()
        guard tar.terminationStatus == 0 else { throw CLITestError("tar could not extract \(archive)") }
        return (scratch + "/" + name, scratch)
    }
}

/// Root is needed for `--sysfs-root` (a private mount namespace) and for real DVFS writes.
func requireRoot(_ what: String) -> Bool {
    if geteuid() == 0 { return true }
    print("skipped: \(what) needs root (a private mount namespace for the sysfs dump)")
    return false
}
