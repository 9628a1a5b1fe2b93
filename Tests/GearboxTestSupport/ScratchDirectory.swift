// GearboxTestSupport/ScratchDirectory: the one way a test gets a place on disk to write to. The
// directory is private to the test and removed, with everything in it, when the test is done,
// so a test run leaves nothing in the temporary directory. Test-only: no product depends on it.

import Foundation

/// A fresh, empty directory under `NSTemporaryDirectory()`, removed with its whole tree when the
/// instance is released.
///
/// Hold it in a local `let` (or a suite's stored property, which lives for one test) for as long
/// as the test uses its paths; pass `path` or `file(_:)` to the code under test:
///
/// ```swift
/// @Test func writesTheTable() throws {
///     let scratch = ScratchDirectory("profiler")
///     try table.write(to: scratch.file("tiny.lut.json"))
///     #expect(FileManager.default.fileExists(atPath: scratch.file("tiny.lut.json")))
/// }   // scratch.path and everything under it are gone here
/// ```
///
/// The directory is named `gearbox-<label>-<UUID>`, so a leftover (from a crashed test process)
/// says which tests made it.
public final class ScratchDirectory: Sendable {
    /// The directory's absolute path, without a trailing slash.
    public let path: String

    /// Creates `gearbox-<label>-<UUID>` under `NSTemporaryDirectory()`. Stops the test process
    /// if the temporary directory is not writable: no test that needs one could run.
    public init(_ label: String) {
        let temporary = NSTemporaryDirectory()
        path = (temporary.hasSuffix("/") ? temporary : temporary + "/") + "gearbox-\(label)-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create scratch directory \(path): \(error)")
        }
    }

    /// The path of `name` (a file or folder name, or a relative path) inside the directory.
    /// Creates nothing.
    public func file(_ name: String) -> String {
        path + "/" + name
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
