// GearboxHardware/DVFSJournal: the crash-safety record of DVFS state. Written atomically before
// the first change a real controller makes (each domain's original governor and limits), removed
// once everything is put back; `gearbox dvfs restore` replays it after a crash or SIGKILL.

import Foundation
import GearboxCore

/// The original DVFS state of every domain, saved before Gearbox changes any of it.
public struct DVFSJournal: VersionedFile, Equatable, Sendable {
    public static let currentSchemaVersion = 1
    /// The journal's file name inside the state directory.
    public static let fileName = "dvfs-journal.json"
    /// Where state lives when `GEARBOX_STATE_DIR` is not set.
    public static let defaultStateDirectory = "/var/lib/gearbox"

    /// One domain's state before the first change.
    public struct DomainState: Codable, Equatable, Sendable {
        public var cpus: [Int]
        /// The CPU whose cpufreq folder holds the domain's policy.
        public var policyCPU: Int
        public var governor: String
        public var minKHz: Int
        public var maxKHz: Int
        public init(cpus: [Int], policyCPU: Int, governor: String, minKHz: Int, maxKHz: Int) {
            self.cpus = cpus; self.policyCPU = policyCPU; self.governor = governor
            self.minKHz = minKHz; self.maxKHz = maxKHz
        }
    }

    public var schemaVersion: Int
    /// The process that wrote the journal (restoring refuses while it is alive, unless forced).
    public var pid: Int32
    public var createdAt: String
    /// "live" or the sysfs dump directory the state belongs to.
    public var sysfsRoot: String
    public var domains: [DomainState]
    /// Dumps only: the original bytes of every file a change may write, by path relative to
    /// `sys/devices/system/cpu`. A dump has no kernel to regenerate derived files (such as
    /// `scaling_setspeed` going back to `<unsupported>`), so restore writes these back too.
    public var dumpFiles: [String: Data]?

    public init(pid: Int32, sysfsRoot: SysfsRoot, domains: [DomainState], dumpFiles: [String: Data]? = nil, date: Date = Date()) {
        self.schemaVersion = Self.currentSchemaVersion
        self.pid = pid
        self.createdAt = ISO8601DateFormatter().string(from: date)
        self.sysfsRoot = sysfsRoot.description
        self.domains = domains
        self.dumpFiles = dumpFiles
    }

    /// The root the journal belongs to.
    public var root: SysfsRoot { sysfsRoot == "live" ? .live : .dump(directory: sysfsRoot) }

    /// The journal path: `<stateDirectory>/dvfs-journal.json`, where the state directory is
    /// `stateDirectory` if given, else `GEARBOX_STATE_DIR`, else `/var/lib/gearbox`.
    public static func path(stateDirectory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let directory = stateDirectory ?? environment["GEARBOX_STATE_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultStateDirectory
        return (directory.hasSuffix("/") ? String(directory.dropLast()) : directory) + "/" + fileName
    }

    /// Reads the journal at `path`, or nil when there is none.
    /// - Throws: `HardwareError.dvfsJournal` when the file exists but cannot be read or decoded.
    public static func load(from path: String) throws -> DVFSJournal? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONFile.read(DVFSJournal.self, from: path)
        } catch let error as FileFormatError {
            throw HardwareError.dvfsJournal(path: path, reason: "\(error) — restore the original governors and limits by hand, then delete it")
        }
    }

    /// Writes the journal atomically (temp file, fsync, rename).
    public func write(to path: String) throws {
        do { try JSONFile.write(self, to: path) } catch let error as FileFormatError {
            if case let .cannotWrite(_, reason) = error, reason.contains("ermission") || reason.contains("cannot create") {
                throw HardwareError.dvfsJournal(path: path, reason: "cannot write it (\(reason)); run as root or set GEARBOX_STATE_DIR / --state-dir to a writable folder")
            }
            throw HardwareError.dvfsJournal(path: path, reason: "\(error)")
        }
    }

    /// Deletes the journal at `path` (after a complete restore).
    public static func remove(at path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw HardwareError.dvfsJournal(path: path, reason: "restored, but the journal could not be deleted (delete it by hand)")
        }
    }

    /// Whether the process that wrote the journal is still running.
    public var writerIsAlive: Bool {
        pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM)
    }
}
