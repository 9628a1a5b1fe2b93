// GearboxTestSupport/SharedFixtures: the one way a test finds the package it belongs to and the
// shared sysfs dumps (`shared/fixtures/sysfs/*.tar.bz2`, kept outside the repository beside the
// checkout because they are large and shared by several projects), and extracts a dump.

import Foundation

/// The package root and the shared sysfs dump fixtures.
public enum SharedFixtures {
    /// The checkout holding this file: the nearest ancestor of `#filePath` with a `Package.swift`.
    public static let packageRoot: String = {
        var directory = URL(fileURLWithPath: #filePath).standardizedFileURL.deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory.path
            }
            directory = directory.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// The folder of sysfs dump archives: `GEARBOX_SYSFS_FIXTURES` if set (nil if that folder
    /// does not exist), else the first
    /// `shared/fixtures/sysfs` in the checkout's parent or one of its ancestors (the main
    /// checkout's sibling `../shared`; a worktree sits deeper). Nil when there is none.
    public static let sysfsDirectory: String? = {
        if let override = ProcessInfo.processInfo.environment["GEARBOX_SYSFS_FIXTURES"], !override.isEmpty {
            return FileManager.default.fileExists(atPath: override) ? override : nil
        }
        var parent = URL(fileURLWithPath: packageRoot).deletingLastPathComponent()
        while true {
            let candidate = parent.appendingPathComponent("shared/fixtures/sysfs").path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue {
                return candidate
            }
            if parent.path == "/" { return nil }
            parent = parent.deletingLastPathComponent()
        }
    }()

    /// True when the sysfs dumps are on this machine (the `.requiresSysfsDumps` trait).
    public static var hasSysfsDumps: Bool { sysfsDirectory != nil }

    /// The dumps shipped in the shared fixtures, by archive base name.
    public static let armBoard = "2arm-2c"
    public static let intelHybrid = "20em64t-hybrid-1p6c2t+2ca4co1t"
    public static let fakeHeterogeneousNUMA = "fakeheterocpunuma"
    public static let allSysfsDumps = [armBoard, intelHybrid, fakeHeterogeneousNUMA]

    /// The archive `<name>.tar.bz2`. Throws when the fixtures are not on this machine (a test
    /// that calls this carries the `.requiresSysfsDumps` trait, so it is skipped instead).
    public static func sysfsArchive(named name: String) throws -> String {
        guard let sysfsDirectory else { throw FixtureError("the sysfs dumps are not in ../shared/fixtures/sysfs (set GEARBOX_SYSFS_FIXTURES)") }
        let archive = sysfsDirectory + "/\(name).tar.bz2"
        guard FileManager.default.fileExists(atPath: archive) else { throw FixtureError("no sysfs dump \(archive)") }
        return archive
    }

    /// Extracts dump `name` into `directory` with the system tar and returns the dump's root
    /// (the folder holding `sys/`).
    public static func extractSysfsDump(named name: String, into directory: String) throws -> String {
        let archive = try sysfsArchive(named: name)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-xjf", archive, "-C", directory]
        try tar.run()
        tar.waitUntilExit()
        guard tar.terminationStatus == 0 else { throw FixtureError("tar could not extract \(archive)") }
        return directory + "/" + name
    }
}

/// A fixture that should be there is not.
public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
