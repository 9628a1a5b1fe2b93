// GearboxHardware/SysfsRoot: where sysfs and procfs are read from — the live machine or an
// extracted dump whose root holds `sys/` (and possibly `proc/`). Every reader in the hardware
// layer (hwloc, thermal, cpufreq, /proc/cpuinfo) takes one so tests and `--sysfs-root` can point
// the whole layer at a dump without touching the live probe.

import Foundation

/// The root that `/sys` and `/proc` paths are resolved against.
public enum SysfsRoot: Hashable, Sendable, CustomStringConvertible {
    /// The running machine: `/sys`, `/proc`.
    case live
    /// An extracted dump: `<directory>/sys`, `<directory>/proc`.
    case dump(directory: String)

    /// The absolute path of `relative` (e.g. `"sys/class/thermal"` or `"/proc/cpuinfo"`) under this root.
    public func path(_ relative: String) -> String {
        let trimmed = relative.drop(while: { $0 == "/" })
        switch self {
        case .live: return "/" + trimmed
        case let .dump(directory):
            let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
            return trimmed.isEmpty ? base : base + "/" + trimmed
        }
    }

    /// The dump directory, or nil for the live machine. This is what hwloc calls its fsroot.
    public var directory: String? {
        if case let .dump(directory) = self { return directory }
        return nil
    }

    /// True for the running machine.
    public var isLive: Bool { self == .live }

    /// "live" or the dump directory; what `DeviceDescription.sysfsRoot` records.
    public var description: String { directory ?? "live" }

    /// A dump root after checking that `directory` exists and holds `sys/`.
    ///
    /// - Throws: `HardwareError.sysfsRoot` naming the directory and what is missing.
    public static func dump(at directory: String) throws -> SysfsRoot {
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw HardwareError.sysfsRoot(path: directory, reason: "no such directory")
        }
        guard FileManager.default.fileExists(atPath: absolute + "/sys", isDirectory: &isDirectory), isDirectory.boolValue else {
            throw HardwareError.sysfsRoot(path: directory, reason: "it has no sys/ folder")
        }
        return .dump(directory: absolute)
    }

    /// Extracts a `.tar.bz2` sysfs dump (one top folder holding `sys/`, maybe `proc/`) into
    /// `directory` (created if needed) and returns the root of the extracted dump.
    ///
    /// Uses the system `tar` (with `bzip2`), as the fixtures were made with it.
    /// - Throws: `HardwareError.sysfsArchive` if the archive is missing, `tar` fails, or the
    ///   archive's layout is not one top folder with `sys/` inside.
    public static func extract(archive: String, into directory: String) throws -> SysfsRoot {
        let files = FileManager.default
        guard files.isReadableFile(atPath: archive) else {
            throw HardwareError.sysfsArchive(path: archive, reason: "no such file or not readable")
        }
        // Extract into a private staging folder first so the top folder is known without a
        // second pass over the archive, and so a concurrent reader never sees half a dump.
        let staging = directory + "/.extracting-" + UUID().uuidString
        do {
            try files.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw HardwareError.sysfsArchive(path: archive, reason: "cannot create \(staging)")
        }
        defer { try? files.removeItem(atPath: staging) }
        try runTar(["-xjf", archive, "-C", staging], archive: archive)
        let entries = ((try? files.contentsOfDirectory(atPath: staging)) ?? []).filter { !$0.hasPrefix(".") }
        guard entries.count == 1, let top = entries.first else {
            throw HardwareError.sysfsArchive(path: archive, reason: "expected one top folder, found \(entries.count) entries")
        }
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: staging + "/" + top + "/sys", isDirectory: &isDirectory), isDirectory.boolValue else {
            throw HardwareError.sysfsArchive(path: archive, reason: "its top folder \(top) has no sys/ folder")
        }
        let destination = directory + "/" + top
        if files.fileExists(atPath: destination) { try? files.removeItem(atPath: destination) }
        do {
            try files.moveItem(atPath: staging + "/" + top, toPath: destination)
        } catch {
            throw HardwareError.sysfsArchive(path: archive, reason: "cannot move the dump into \(destination)")
        }
        return try dump(at: destination)
    }

    private static func runTar(_ arguments: [String], archive: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tar"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        // Spawning copies the environment; never while a topology load has it changed.
        do { try ProcessEnvironment.withLock { try process.run() } } catch {
            throw HardwareError.sysfsArchive(path: archive, reason: "cannot run tar (\(error.localizedDescription))")
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let firstLine = String(decoding: message, as: UTF8.self)
                .split(separator: "\n").first.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw HardwareError.sysfsArchive(path: archive, reason: "tar failed: \(firstLine)")
        }
    }
}
