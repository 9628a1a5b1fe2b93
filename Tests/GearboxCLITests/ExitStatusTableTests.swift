// One error → exit status mapping for the whole CLI: the same kind of error ends every command
// with the same status and the same `gearbox: ` prefix (ExitStatus: 0 ok, 1 failure, 2 input).

import Foundation
import GearboxTestSupport
import Testing

@Suite(.enabled(if: GearboxBinary.path != nil, "no built gearbox binary under .build (run `swift build`)"))
struct ExitStatusTableTests {
    static let fixtureTable = GearboxBinary.repositoryRoot + "/Tests/Fixtures/policy/synthetic-portfolio.lut.json"

    @Test func aMissingInputFileIsExitTwoWithOneGearboxLineUnderEveryCommand() throws {
        let scratch = ScratchDirectory("exit-table")
        let missing = scratch.file("missing.lut.json")
        let commands: [[String]] = [
            ["lut", "show", missing],
            ["lut", "export", "--csv", missing, "--out", scratch.file("x.csv")],
            ["lut", "compare", missing, Self.fixtureTable],
            ["report", "--lut", missing, "--out", scratch.file("report")],
            ["validate", "--lut", missing, "--trace", "step", "--objective", "p99<=8ms", "--out", scratch.file("v")],
            ["trace", "generate", "step", "--lut", missing, "--out", scratch.file("t.csv")],
            ["bench", "policy", "--lut", missing, "--decisions", "10"],
            ["profile", "--portfolio", scratch.file("no-portfolio"), "--controller", "simulated", "--out", scratch.file("p.lut.json")],
            ["run", scratch.file("missing.onnx")],
            ["onnx", "check", scratch.file("missing.onnx")],
        ]
        for arguments in commands {
            let result = try GearboxBinary.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("gearbox: "), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("missing") || result.stderr.contains("no-portfolio"), "\(arguments): \(result.stderr)")
        }
        // Nothing was written for any of them.
        #expect(filesUnder(scratch.path).isEmpty, "\(filesUnder(scratch.path))")
    }

    @Test func usageErrorsAreExitTwoWithOneLineNamingTheCommandsHelp() throws {
        let cases: [(arguments: [String], help: String)] = [
            (["dvfs", "set", "--khz", "400000"], "gearbox dvfs set --help"),
            (["profile", "--no-such-flag"], "gearbox profile --help"),
            (["profile", "--controller", "warp"], "gearbox profile --help"),
            (["lut", "show"], "gearbox lut show --help"),
            (["validate", "--lut", "x"], "gearbox validate --help"),
            (["no-such-command"], "gearbox --help"),
        ]
        for (arguments, help) in cases {
            let result = try GearboxBinary.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("gearbox: "), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("(see '\(help)')"), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Error: ") && !result.stderr.contains("USAGE"), "\(arguments): \(result.stderr)")
        }
    }

    @Test func aFailedCheckIsExitOneWithTheSamePrefix() throws {
        let scratch = ScratchDirectory("exit-table")
        let result = try GearboxBinary.run(
            ["validate", "--lut", Self.fixtureTable, "--trace", "step", "--objective", "p99<=1us", "--policy", "gearbox",
             "--duration", "2s", "--check", "--out", scratch.file("v")])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("gearbox: "), "\(result.stderr)")
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                   "needs root and setpriv to run gearbox as nobody"))
    func anEmulatedControllerTheUserMayNotDriveEndsProfileAndValidateAlike() throws {
        let scratch = NSTemporaryDirectory() + "gearbox-nobody-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let nobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        let environment = ["GEARBOX_LOCK_DIR": scratch, "HOME": scratch]
        let profile = try GearboxBinary.run(
            ["profile", "--portfolio", GearboxBinary.repositoryRoot + "/Portfolios/default", "--controller", "emulated",
             "--out", scratch + "/p/x.lut.json", "--quick", "--no-progress"], environment: environment, prefix: nobody)
        let validate = try GearboxBinary.run(
            ["validate", "--lut", Self.fixtureTable, "--trace", "step", "--objective", "p99<=8ms", "--controller", "emulated",
             "--runner", "work", "--duration", "1s", "--out", scratch + "/v"], environment: environment, prefix: nobody)
        #expect(profile.status != 0 && profile.status == validate.status, "profile: \(profile.stderr) validate: \(validate.stderr)")
        #expect(profile.stderr.hasPrefix("gearbox: ") && validate.stderr.hasPrefix("gearbox: "))
        #expect(!FileManager.default.fileExists(atPath: scratch + "/p") && !FileManager.default.fileExists(atPath: scratch + "/v"))
    }
}
