// GearboxHardware/BoardThrottle: makes the command on a virtual board really slow down with the
// board's clock. The command's process goes into a child cgroup (`gearbox-<pid>-board`, so the
// emulated controller's stale-cgroup sweep also removes it after a crash) whose CPU bandwidth is
// the ratio of the board's current frequency to its top frequency, of every host CPU.

import CGearboxShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The cgroup CPU-bandwidth throttle of a board run.
final class BoardThrottle {
    private let bandwidth: CgroupCPUBandwidth
    let directory: String
    private let hostCPUs: Int
    private static let basePeriodUs = 10_000
    private(set) var ratio = 1.0
    private var threads = 0
    private var periodUs = 0
    private var recentCounts: [Int] = []
    private static let countWindow = 21

    /// Threads of the group running or ready to run now (state R in `/proc/<tid>/stat`):
    /// sleeping ones take no CPU, and short-lived shells would otherwise inflate the quota.
    private func runnableThreadCount() -> Int {
        let text = bandwidth.read(bandwidth.version == .v1 ? "tasks" : "cgroup.threads", in: directory) ?? ""
        return text.split(whereSeparator: \.isNewline).filter { tid in
            guard let stat = try? String(contentsOfFile: "/proc/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            return stat[close...].dropFirst(2).first == "R"
        }.count
    }

    private init(bandwidth: CgroupCPUBandwidth, directory: String, hostCPUs: Int) {
        self.bandwidth = bandwidth; self.directory = directory; self.hostCPUs = hostCPUs
    }

    /// Creates the cgroup (before the command starts).
    /// - Returns: the throttle, or why there is none (the run goes on unthrottled).
    static func create() -> Result<BoardThrottle, CgroupCPUBandwidth.Unavailable> {
        let bandwidth: CgroupCPUBandwidth
        switch CgroupCPUBandwidth.detect() {
        case let .success(found): bandwidth = found
        case let .failure(unavailable): return .failure(unavailable)
        }
        let directory = bandwidth.parentDirectory + "/gearbox-\(getpid())-board"
        guard mkdir(directory, 0o755) == 0 || errno == EEXIST else {
            return .failure(.init(reason: "cannot create \(directory): \(String(cString: strerror(errno)))"))
        }
        let throttle = BoardThrottle(bandwidth: bandwidth, directory: directory, hostCPUs: max(1, ProcessInfo.processInfo.activeProcessorCount))
        if bandwidth.version == .v2 {
            let enabled = bandwidth.read("cgroup.subtree_control", in: bandwidth.parentDirectory) ?? ""
            if !enabled.split(separator: " ").contains("cpu") {
                do { try bandwidth.write("+cpu", to: "cgroup.subtree_control", in: bandwidth.parentDirectory) } catch {
                    rmdir(directory)
                    return .failure(.init(reason: "cannot enable the cpu controller for \(directory): \(error)"))
                }
            }
        }
        return .success(throttle)
    }

    /// Moves the calling thread into the group (cgroup v1 moves single threads), so that the
    /// process it spawns starts there: nothing the command forks escapes the throttle. The
    /// thread must be one that ends after spawning. In v2 this does nothing (see `adopt`).
    func enterFromSpawningThread() {
        guard bandwidth.version == .v1 else { return }
        try? bandwidth.write(String(gearbox_gettid()), to: "tasks", in: directory)
    }

    /// Moves process `pid` into the group (v2, where a domain cgroup takes whole processes;
    /// what it forked before this stays outside). Harmless in v1, where it is already in.
    func adopt(pid: pid_t) throws {
        try bandwidth.write(String(pid), to: "cgroup.procs", in: directory)
    }

    /// Limits each of the group's threads to `ratio` (0...1] of a CPU: CFS quotas are per
    /// group, so the quota is `ratio` × the CPUs its threads can use (their count, at most the
    /// host's CPUs), as the emulated controller does for its own threads. 1 lifts the limit.
    func set(ratio newRatio: Double) throws {
        let ratio = min(1, max(0.01, newRatio))
        // The median over the last ~20 ticks: a shell's short-lived child does not double the
        // quota, a thread that keeps running counts.
        recentCounts.append(runnableThreadCount())
        if recentCounts.count > Self.countWindow { recentCounts.removeFirst() }
        let median = recentCounts.sorted()[recentCounts.count / 2]
        let threads = min(hostCPUs, max(1, median))
        guard ratio != self.ratio || threads != self.threads else { return }
        self.threads = threads
        // Keep the quota at or above the kernel's 1 ms minimum by stretching the period.
        let share = ratio * Double(threads)
        let periodUs = max(Self.basePeriodUs, Int((1000 / share).rounded(.up)))
        let quotaUs = ratio >= 1 ? -1 : max(1000, Int((Double(periodUs) * share).rounded()))
        switch bandwidth.version {
        case .v1:
            // Lift the quota before changing the period so no intermediate pair is rejected.
            if periodUs != self.periodUs {
                try bandwidth.write("-1", to: "cpu.cfs_quota_us", in: directory)
                try bandwidth.write(String(periodUs), to: "cpu.cfs_period_us", in: directory)
            }
            try bandwidth.write(String(quotaUs), to: "cpu.cfs_quota_us", in: directory)
        case .v2:
            try bandwidth.write((quotaUs > 0 ? String(quotaUs) : "max") + " \(periodUs)", to: "cpu.max", in: directory)
        }
        self.ratio = ratio
        self.periodUs = periodUs
    }

    /// Moves whatever is left in the group back to the parent and removes the group. In v1 it
    /// moves thread by thread (`tasks`): a process id written to `cgroup.procs` there moves all
    /// of that process's threads, and this process's own threads in other groups (an emulated
    /// controller's measuring thread) must stay where they are.
    func stop() {
        let members = bandwidth.version == .v1 ? "tasks" : "cgroup.procs"
        let left = bandwidth.read(members, in: directory) ?? ""
        for id in left.split(whereSeparator: \.isNewline) {
            try? bandwidth.write(String(id), to: members, in: bandwidth.parentDirectory)
        }
        rmdir(directory)
    }
}
