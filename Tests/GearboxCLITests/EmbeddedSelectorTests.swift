// Builds a scratch copy of Examples/EmbeddedSelector (an app that depends on the GearboxRuntime
// product only), runs it on a lookup table, and checks with ldd that embedding the selector links
// none of the profiler's C libraries.

import Foundation
import GearboxTestSupport
import Testing

@Suite struct EmbeddedSelectorTests {
    /// `name` on PATH, or nil.
    static func tool(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let swift = tool("swift")
    static let ldd = tool("ldd")

    /// Shared-library names an embedded selector must not pull in.
    static let forbiddenLibraries = ["hwloc", "pfm", "cpufreq", "openblas", "xnnpack", "libz.so", "sqlite", "protobuf"]

    /// Runs `executable arguments` to completion; standard output and error together.
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let scratch = ScratchDirectory("embedded-run")
        let log = scratch.file("output")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test(.enabled(if: swift != nil && ldd != nil, "needs swift and ldd on PATH to build the example and list its libraries"))
    func theExampleBuildsRunsAndLinksNoCLibraryOfTheProfiler() throws {
        let swift = try #require(Self.swift), ldd = try #require(Self.ldd)
        // A copy of the example in the scratch folder, its `../..` pointing at this checkout, so
        // that building it writes nothing (not even Package.resolved) into the checkout.
        let root = GearboxBinary.repositoryRoot
        let scratch = ScratchDirectory("embedded-selector")
        let package = scratch.file("EmbeddedSelector")
        let manifest = try String(contentsOfFile: root + "/Examples/EmbeddedSelector/Package.swift", encoding: .utf8)
        try #require(manifest.contains("path: \"../..\""), "the example no longer depends on ../..")
        try FileManager.default.createDirectory(atPath: package + "/Sources", withIntermediateDirectories: true)
        try manifest.replacingOccurrences(of: "path: \"../..\"", with: "path: \"\(root)\"")
            .write(toFile: package + "/Package.swift", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: root + "/Examples/EmbeddedSelector/Sources/EmbeddedSelector",
                                         toPath: package + "/Sources/EmbeddedSelector")
        let build = try Self.run(swift, ["build", "--package-path", package, "--scratch-path", scratch.file("build")])
        try #require(build.status == 0, "swift build of the example failed:\n\(build.output.suffix(3000))")
        let binary = try Self.run(swift, ["build", "--package-path", package, "--scratch-path", scratch.file("build"), "--show-bin-path"])
        let executable = binary.output.trimmingCharacters(in: .whitespacesAndNewlines) + "/EmbeddedSelector"
        try #require(FileManager.default.isExecutableFile(atPath: executable), "no binary at \(executable)")

        let table = root + "/Tests/Fixtures/policy/synthetic-portfolio.lut.json"
        let chosen = try Self.run(executable, [table, "1400000", "p99<=1s"])
        #expect(chosen.status == 0, "\(chosen.output)")
        #expect(chosen.output.contains("meets p99<=1s"), "\(chosen.output)")
        let badObjective = try Self.run(executable, [table, "1400000", "p99"])
        #expect(badObjective.status == 2)
        #expect(badObjective.output.contains("objective 'p99'"), "\(badObjective.output)")

        let libraries = try Self.run(ldd, [executable])
        #expect(libraries.status == 0, "\(libraries.output)")
        let listed = libraries.output.lowercased()
        #expect(listed.contains("libc.so"), "ldd listed no libc: \(listed)")
        for name in Self.forbiddenLibraries {
            #expect(!listed.contains(name), "the embedded selector links \(name):\n\(libraries.output)")
        }
    }
}
