// Tests for GearboxHardware/BoardThrottle: without a usable cgroup cpu controller `create` says
// why (the run goes on unthrottled); with one, the group is `gearbox-<pid>-board` in this
// process's cgroup, a ratio becomes a CFS quota over a 10 ms period (clamped to 1 %…100 %, the
// period stretched to keep the quota at the kernel's 1 ms minimum, 1 lifting the limit), the
// quota covers the group's runnable threads up to the host's CPUs, and `stop` moves what is
// left back to the parent and removes the group. The cgroup tests need root or a delegated
// cgroup and are skipped elsewhere.

import CGearboxShims
import Foundation
@testable import GearboxHardware
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let detected = CgroupCPUBandwidth.detect()
private var cgroupVersion: CgroupCPUBandwidth.Version? {
    if case let .success(found) = detected { return found.version }
    return nil
}

/// Why there is no throttle, if there is none.
private func reason<T>(_ result: Result<T, CgroupCPUBandwidth.Unavailable>) -> CgroupCPUBandwidth.Unavailable? {
    if case let .failure(unavailable) = result { return unavailable }
    return nil
}

/// The group's CFS limit as (quota µs, period µs); quota -1 when unlimited.
private func limit(of throttle: BoardThrottle, _ bandwidth: CgroupCPUBandwidth) -> (quota: Int, period: Int)? {
    switch bandwidth.version {
    case .v1:
        guard let quota = bandwidth.read("cpu.cfs_quota_us", in: throttle.directory).flatMap({ Int($0) }),
              let period = bandwidth.read("cpu.cfs_period_us", in: throttle.directory).flatMap({ Int($0) }) else { return nil }
        return (quota, period)
    case .v2:
        guard let fields = bandwidth.read("cpu.max", in: throttle.directory)?.split(separator: " "), fields.count == 2,
              let period = Int(fields[1]) else { return nil }
        if fields[0] == "max" { return (-1, period) }
        guard let quota = Int(fields[0]) else { return nil }
        return (quota, period)
    }
}

/// A throttle on this host's cgroup, removed when the test ends.
private func makeThrottle() throws -> (BoardThrottle, CgroupCPUBandwidth) {
    let bandwidth = try detected.get()
    return (try BoardThrottle.create().get(), bandwidth)
}

/// A stop flag a spinning thread polls.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    var isRaised: Bool { lock.lock(); defer { lock.unlock() }; return raised }
    func raise() { lock.lock(); raised = true; lock.unlock() }
}

/// A thread's id, written by the thread before it signals and read after the wait.
private final class ThreadID: @unchecked Sendable {
    var value = 0
}

// Serialized: every throttle of this process is the same group, `gearbox-<pid>-board`.
@Suite(.serialized) struct BoardThrottleTests {
    @Test(.enabled(if: cgroupVersion == nil, "this host has a usable cgroup cpu controller, so create succeeds"))
    func withoutACgroupControllerCreateGivesDetectsReason() throws {
        let expected = try #require(reason(detected))
        #expect(reason(BoardThrottle.create()) == expected)
    }

    @Test(.requiresCgroupCPUController)
    func createMakesTheGroupNamedAfterThisProcessUnlimitedAndStopRemovesIt() throws {
        let (throttle, bandwidth) = try makeThrottle()
        #expect(throttle.directory == bandwidth.parentDirectory + "/gearbox-\(getpid())-board")
        #expect(FileManager.default.fileExists(atPath: throttle.directory))
        #expect(throttle.ratio == 1)
        #expect(limit(of: throttle, bandwidth)?.quota == -1)
        throttle.stop()
        #expect(!FileManager.default.fileExists(atPath: throttle.directory))
    }

    @Test(.requiresCgroupCPUController)
    func halfTheClockIsHalfOfATenMillisecondPeriod() throws {
        let (throttle, bandwidth) = try makeThrottle()
        defer { throttle.stop() }
        try throttle.set(ratio: 0.5)
        #expect(throttle.ratio == 0.5)
        let set = try #require(limit(of: throttle, bandwidth))
        #expect(set.quota == 5000 && set.period == 10_000, "\(set)")
    }

    @Test(.requiresCgroupCPUController)
    func aTinyRatioIsClampedToOnePercentAndThePeriodStretchedToKeepAOneMillisecondQuota() throws {
        let (throttle, bandwidth) = try makeThrottle()
        defer { throttle.stop() }
        try throttle.set(ratio: 0.001)
        #expect(throttle.ratio == 0.01)
        // 1 % of 10 ms is 0.1 ms, below the kernel's minimum: 1 ms of a 100 ms period instead.
        let tiny = try #require(limit(of: throttle, bandwidth))
        #expect(tiny.quota == 1000 && tiny.period == 100_000, "\(tiny)")
        // A later ordinary ratio goes back to the 10 ms period.
        try throttle.set(ratio: 0.3)
        let back = try #require(limit(of: throttle, bandwidth))
        #expect(back.quota == 3000 && back.period == 10_000, "\(back)")
        // Zero and negative ratios are clamped the same way.
        try throttle.set(ratio: -2)
        #expect(throttle.ratio == 0.01)
        #expect(limit(of: throttle, bandwidth)?.quota == 1000)
    }

    @Test(.requiresCgroupCPUController)
    func aRatioOfOneOrMoreLiftsTheLimit() throws {
        let (throttle, bandwidth) = try makeThrottle()
        defer { throttle.stop() }
        try throttle.set(ratio: 0.25)
        #expect(limit(of: throttle, bandwidth)?.quota == 2500)
        try throttle.set(ratio: 3)
        #expect(throttle.ratio == 1)
        let lifted = try #require(limit(of: throttle, bandwidth))
        #expect(lifted.quota == -1 && lifted.period == 10_000, "\(lifted)")
    }

    @Test(.requiresCgroupCPUController)
    func anUnchangedSettingIsNotWrittenAgain() throws {
        let (throttle, bandwidth) = try makeThrottle()
        defer { throttle.stop() }
        try throttle.set(ratio: 0.5)
        // Changed behind the throttle's back: the same ratio again leaves it alone...
        switch bandwidth.version {
        case .v1: try bandwidth.write("7000", to: "cpu.cfs_quota_us", in: throttle.directory)
        case .v2: try bandwidth.write("7000 10000", to: "cpu.max", in: throttle.directory)
        }
        try throttle.set(ratio: 0.5)
        #expect(limit(of: throttle, bandwidth)?.quota == 7000)
        // ...a new one is written.
        try throttle.set(ratio: 0.4)
        #expect(limit(of: throttle, bandwidth)?.quota == 4000)
    }

    // v1 only: there the calling thread moves into the group by itself (v2 moves processes).
    @Test(.requiresCgroupCPUController, .enabled(if: cgroupVersion == .v1, "needs cgroup v1 (threads enter the group one by one)"))
    func theQuotaCoversTheGroupsRunnableThreadsUpToTheHostsCPUs() throws {
        let (throttle, bandwidth) = try makeThrottle()
        // One flag each: threads contending for one lock would sleep on it and not count as runnable.
        let stops = (0..<3).map { _ in Flag() }
        let entered = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let spinners = stops.count
        for stop in stops {
            Thread {
                throttle.enterFromSpawningThread()
                entered.signal()
                while !stop.isRaised {}
                // Back to the parent before saying so: the group is empty when `stop` removes it.
                try? bandwidth.write(String(gearbox_gettid()), to: "tasks", in: bandwidth.parentDirectory)
                finished.signal()
            }.start()
        }
        defer {
            for stop in stops { stop.raise() }
            for _ in 0..<spinners { finished.wait() }
            throttle.stop()
        }
        for _ in 0..<spinners { entered.wait() }
        try throttle.set(ratio: 0.25)
        // Three spinning threads, at most one per host CPU: a quarter of a CPU each.
        let threads = min(spinners, max(1, ProcessInfo.processInfo.activeProcessorCount))
        let set = try #require(limit(of: throttle, bandwidth))
        #expect(set.quota == 2500 * threads && set.period == 10_000, "\(set) for \(threads) threads")
    }

    // v1 only: a thread of this process in a third group must stay there when `stop` empties the
    // board's group (writing this process's id to the parent's `cgroup.procs` would move it).
    @Test(.requiresCgroupCPUController, .enabled(if: cgroupVersion == .v1, "needs cgroup v1 (threads in groups of their own)"))
    func stopMovesOnlyTheGroupsThreadsBackToTheParent() throws {
        let (throttle, bandwidth) = try makeThrottle()
        defer { throttle.stop() }  // a second stop finds nothing to do
        let elsewhere = bandwidth.parentDirectory + "/gearbox-\(getpid())-elsewhere"
        try #require(mkdir(elsewhere, 0o755) == 0 || errno == EEXIST, "cannot create \(elsewhere)")
        let inGroup = Flag(), inElsewhere = Flag()
        let entered = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        let elsewhereTid = ThreadID()
        Thread {
            throttle.enterFromSpawningThread()
            entered.signal()
            while !inGroup.isRaised { usleep(1000) }
            finished.signal()
        }.start()
        Thread {
            elsewhereTid.value = Int(gearbox_gettid())  // read after `entered`, which orders it
            try? bandwidth.write(String(gearbox_gettid()), to: "tasks", in: elsewhere)
            entered.signal()
            while !inElsewhere.isRaised { usleep(1000) }
            try? bandwidth.write(String(gearbox_gettid()), to: "tasks", in: bandwidth.parentDirectory)
            finished.signal()
        }.start()
        entered.wait(); entered.wait()
        throttle.stop()
        let stillElsewhere = bandwidth.read("tasks", in: elsewhere)?.split(whereSeparator: \.isNewline) ?? []
        let removed = !FileManager.default.fileExists(atPath: throttle.directory)
        inGroup.raise(); inElsewhere.raise()
        finished.wait(); finished.wait()
        rmdir(elsewhere)
        #expect(removed, "the board's group is emptied and removed while its thread still runs")
        #expect(stillElsewhere.contains(Substring(String(elsewhereTid.value))), "the other group's thread stayed")
    }

    @Test(.requiresCgroupCPUController)
    func stopMovesAnAdoptedProcessBackToTheParentAndRemovesTheGroup() throws {
        let (throttle, bandwidth) = try makeThrottle()
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer {
            // SIGKILL: the test runner's children may ignore SIGTERM (`terminate` waited out the sleep).
            kill(sleeper.processIdentifier, SIGKILL)
            sleeper.waitUntilExit()
        }
        let pid = sleeper.processIdentifier
        do {
            try throttle.adopt(pid: pid)
        } catch {
            throttle.stop()
            throw error
        }
        let members = bandwidth.read("cgroup.procs", in: throttle.directory)?.split(whereSeparator: \.isNewline) ?? []
        #expect(members.contains(Substring(String(pid))))
        throttle.stop()
        #expect(!FileManager.default.fileExists(atPath: throttle.directory))
        let parentMembers = bandwidth.read("cgroup.procs", in: bandwidth.parentDirectory)?.split(whereSeparator: \.isNewline) ?? []
        #expect(parentMembers.contains(Substring(String(pid))))
    }
}
