// `gearbox demo` writes everything under its --out folder (Reports/demo, which git ignores), so
// a first run leaves a fresh checkout unmodified: no rewritten device file or example table.

import Foundation
import GearboxTestSupport
import Testing

@Suite(.enabled(if: GearboxBinary.path != nil, "no built gearbox binary under .build (run `swift build`)"),
       .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git"), "needs git to clone the checkout"))
struct DemoCheckoutTests {
    /// Slow (about two minutes with a debug build): one `demo --quick` in a fresh clone of this
    /// checkout's HEAD, then `git status --porcelain` must be empty.
    @Test func slowDemoQuickInAFreshCloneLeavesGitStatusClean() throws {
        let scratch = ScratchDirectory("demo-clone")
        let clone = scratch.file("checkout")
        try Self.git(["clone", "--quiet", GearboxBinary.repositoryRoot, clone], in: scratch.path)
        let demo = try GearboxBinary.run(["demo", "--quick", "--no-progress"],
                                         environment: ["GEARBOX_LOCK_DIR": scratch.path], directory: clone)
        #expect(demo.status == 0, "\(demo.stderr)")
        #expect(FileManager.default.fileExists(atPath: clone + "/Reports/demo/index.html"))
        let status = try Self.git(["status", "--porcelain", "--untracked-files=all"], in: clone)
        #expect(status.isEmpty, "the demo changed the checkout:\n\(status)")
    }

    @discardableResult
    static func git(_ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLITestError("git \(arguments.joined(separator: " ")) failed") }
        return String(decoding: output, as: UTF8.self)
    }
}
