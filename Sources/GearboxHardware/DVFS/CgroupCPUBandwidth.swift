// GearboxHardware/CgroupCPUBandwidth: the cgroup CPU-bandwidth files the emulated DVFS controller
// throttles through: v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us` + `tasks`, or v2 `cpu.max` +
// `cgroup.threads` in a threaded child. Finds where this process may create its own child
// cgroup and does the file I/O for it; it never writes another cgroup's settings.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where and how this process can throttle its own threads' CPU bandwidth.
public struct CgroupCPUBandwidth: Equatable, Sendable {
    public enum Version: String, Sendable { case v1, v2 }

    public var version: Version
    /// The cgroup this process is in (for the cpu controller); the child goes inside it.
    public var parentDirectory: String

    /// The files named in notes and errors, per version.
    public var quotaFileDescription: String {
        version == .v1 ? "cpu.cfs_quota_us/cpu.cfs_period_us" : "cpu.max"
    }

    /// Finds the cpu controller this process can use, or says why there is none.
    public static func detect() -> Result<CgroupCPUBandwidth, Unavailable> {
        let selfCgroups = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        // v1: a hierarchy whose controller list includes "cpu" (e.g. "1:cpu:/" or "4:cpu,cpuacct:/x").
        for line in selfCgroups.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[1].split(separator: ",").contains("cpu") else { continue }
            let mount = "/sys/fs/cgroup/cpu"
            guard FileManager.default.fileExists(atPath: mount + "/cpu.cfs_quota_us") else { continue }
            let parent = mount + (fields[2] == "/" ? "" : String(fields[2]))
            guard access(parent, W_OK) == 0 else {
                return .failure(Unavailable(reason: "cgroup v1 cpu controller at \(parent) is not writable (run as root)"))
            }
            return .success(CgroupCPUBandwidth(version: .v1, parentDirectory: parent))
        }
        // v2: the unified hierarchy with the cpu controller available to our cgroup.
        if let line = selfCgroups.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) {
            let relative = String(line.dropFirst(3))
            let parent = "/sys/fs/cgroup" + (relative == "/" ? "" : relative)
            let controllers = (try? String(contentsOfFile: parent + "/cgroup.controllers", encoding: .utf8)) ?? ""
            if controllers.split(whereSeparator: \.isWhitespace).contains("cpu") {
                guard access(parent, W_OK) == 0 else {
                    return .failure(Unavailable(reason: "cgroup v2 cgroup \(parent) is not writable (run as root or in a delegated cgroup)"))
                }
                return .success(CgroupCPUBandwidth(version: .v2, parentDirectory: parent))
            }
        }
        return .failure(Unavailable(reason: "no cgroup cpu controller is mounted for this process (neither v1 /sys/fs/cgroup/cpu nor v2 cpu in cgroup.controllers)"))
    }

    /// Why CPU-bandwidth throttling is not possible here.
    public struct Unavailable: Error, Equatable, Sendable {
        public var reason: String
    }

    // MARK: File I/O for a child cgroup

    func write(_ value: String, to file: String, in directory: String) throws {
        let path = directory + "/" + file
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error(path: path, errno: errno) }
        defer { close(fd) }
        let written = value.withCString { Glibc.write(fd, $0, strlen($0)) }
        guard written >= 0 else { throw Self.error(path: path, errno: errno) }
    }

    func read(_ file: String, in directory: String) -> String? {
        (try? String(contentsOfFile: directory + "/" + file, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func error(path: String, errno code: Int32) -> HardwareError {
        switch code {
        case EACCES, EPERM, EROFS: return .permissionDenied(path: path)
        default: return .cgroup(path: path, reason: String(cString: strerror(code)))
        }
    }
}
