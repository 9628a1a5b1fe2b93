// A full disk is the environment's failure: exit 1, the old files as they were, and nothing
// half-written (no 0-byte sample database, no empty folder) left by the failed run.

import Foundation
import GearboxTestSupport
import Testing

/// A 512 KiB tmpfs mounted over a scratch folder, filled up but for a few bytes; unmounted on release.
final class FullDisk {
    let scratch = ScratchDirectory("full-disk")
    var path: String { scratch.path }
    private var mounted = false

    init() throws {
        try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", scratch.path])
        mounted = true
    }

    /// Writes `text` to `name` while there is room (the old file a failed run must not touch).
    func write(_ text: String, to name: String) throws {
        let path = scratch.file(name)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Fills every free byte.
    func fill() throws {
        let filler = scratch.file(".filler")
        FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
        defer { try? handle.close() }
        let block = Data(repeating: 0, count: 4096)
        do { while true { try handle.write(contentsOf: block) } } catch {}
        let small = Data(repeating: 0, count: 1)
        do { while true { try handle.write(contentsOf: small) } } catch {}
    }

    /// Everything on the disk but the filler, sorted.
    var contents: [String] { filesUnder(path).filter { $0 != ".filler" } }

    deinit {
        if mounted { try? Self.run("/bin/umount", [scratch.path]) }
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLITestError("\(tool) \(arguments.joined(separator: " ")) failed") }
    }
}

@Suite(.enabled(if: GearboxBinary.path != nil, "no built gearbox binary under .build (run `swift build`)"),
       .enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
struct DiskFullTests {
    static let fixtureTable = GearboxBinary.repositoryRoot + "/Tests/Fixtures/policy/synthetic-portfolio.lut.json"

    @Test func lutExportToAFullDiskExitsOneAndLeavesTheOldFileAndNoFolder() throws {
        let disk = try FullDisk()
        try disk.write("old,csv\n", to: "old.csv")
        try disk.fill()
        let overwrite = try GearboxBinary.run(["lut", "export", "--csv", Self.fixtureTable, "--out", disk.path + "/old.csv"])
        #expect(overwrite.status == 1, "\(overwrite.stderr)")
        #expect(overwrite.stderr.hasPrefix("gearbox: "), "\(overwrite.stderr)")
        let fresh = try GearboxBinary.run(["lut", "export", "--csv", Self.fixtureTable, "--out", disk.path + "/new/table.csv"])
        #expect(fresh.status == 1, "\(fresh.stderr)")
        #expect(try String(contentsOfFile: disk.path + "/old.csv", encoding: .utf8) == "old,csv\n")
        #expect(disk.contents == ["old.csv"])
    }

    @Test func reportToAFullDiskExitsOneAndLeavesTheOldReportWhole() throws {
        let disk = try FullDisk()
        try disk.write("old page", to: "old/index.html")
        try disk.fill()
        let over = try GearboxBinary.run(["report", "--lut", Self.fixtureTable, "--out", disk.path + "/old"])
        #expect(over.status == 1, "\(over.stderr)")
        #expect(over.stderr.hasPrefix("gearbox: "), "\(over.stderr)")
        let fresh = try GearboxBinary.run(["report", "--lut", Self.fixtureTable, "--out", disk.path + "/new"])
        #expect(fresh.status == 1, "\(fresh.stderr)")
        #expect(try String(contentsOfFile: disk.path + "/old/index.html", encoding: .utf8) == "old page")
        #expect(disk.contents == ["old", "old/index.html"])
    }

    @Test func aProfileOnAFullDiskExitsOneAndLeavesNoSampleDatabaseOrFolder() throws {
        let disk = try FullDisk()
        try disk.fill()
        let result = try GearboxBinary.run(simulatedProfileArguments(out: disk.path + "/profiles/default.simulated.lut.json"))
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("gearbox: "), "\(result.stderr)")
        #expect(disk.contents.isEmpty, "\(disk.contents)")
    }

    @Test func aValidationOnAFullDiskExitsOneAndLeavesNeitherFile() throws {
        let disk = try FullDisk()
        try disk.fill()
        let result = try GearboxBinary.run(
            ["validate", "--lut", Self.fixtureTable, "--trace", "step", "--objective", "p99<=8ms", "--policy", "gearbox",
             "--duration", "2s", "--out", disk.path + "/validation"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("gearbox: "), "\(result.stderr)")
        #expect(disk.contents.isEmpty, "\(disk.contents)")
    }
}
