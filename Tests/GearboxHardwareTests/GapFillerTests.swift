// Tests for GearboxHardware/GapFiller through the emulated controller: while a step is throttled,
// a SCHED_IDLE filler runs on the enrolled thread's CPU, outside the throttled cgroup; an
// unthrottled step leaves it asleep; restore ends it; and `fillGaps: false` starts none.

import CGearboxShims
import Foundation
@testable import GearboxHardware
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Threads of this process whose name starts with the fillers' ("gearbox-gapfill").
private func fillerThreads() -> [(tid: pid_t, state: String, policy: Int32, cgroup: String)] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap { entry in
        guard let tid = pid_t(entry),
              let name = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8),
              name.hasPrefix("gearbox-gapfill") else { return nil }
        let stat = (try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8)) ?? ""
        // The state follows the parenthesised name: "tid (name) S ...".
        let state = stat.split(separator: ")").last.map { String($0.dropFirst().prefix(1)) } ?? "?"
        let cgroup = (try? String(contentsOfFile: "/proc/self/task/\(tid)/cgroup", encoding: .utf8)) ?? ""
        return (tid, state, sched_getscheduler(tid), cgroup)
    }
}

private func waitFor(_ condition: () -> Bool) -> Bool {
    for _ in 0..<200 where !condition() { usleep(5_000) }
    return condition()
}

@Suite(.serialized) struct GapFillerTests {
    @Test func aThrottledStepHasAnIdlePriorityFillerOutsideTheThrottledGroup() throws {
        guard case .success = CgroupCPUBandwidth.detect() else {
            print("skipped: emulated DVFS needs a writable cgroup cpu controller")
            return
        }
        #expect(fillerThreads().isEmpty)
        let controller = try EmulatedFrequencyController()
        defer { try? controller.restore() }
        let fmax = controller.options.maxKHz
        let done = DispatchSemaphore(value: 0)
        let enrolled = DispatchSemaphore(value: 0)
        let thread = Thread {
            _ = gearbox_pin_thread_to_cpu(0)  // the controller fills the CPUs its enrolled threads may use
            do {
                try controller.enrollCurrentThread()
                _ = try controller.setFrequency(.kHz(fmax / 4), forDomain: 0)
            } catch { Issue.record("\(error)") }
            enrolled.signal()
            done.wait()
        }
        thread.start()
        enrolled.wait()
        // One filler, for CPU 0, at SCHED_IDLE (5), not in the controller's cgroup, spinning (R).
        #expect(waitFor { fillerThreads().count == 1 })
        let filler = try #require(fillerThreads().first)
        #expect(filler.policy == 5)
        #expect(!filler.cgroup.contains((controller.cgroupDirectory as NSString).lastPathComponent))
        #expect(waitFor { fillerThreads().first?.state == "R" })
        #expect(controller.gapFillProblems.isEmpty)
        // Unthrottled: it sleeps.
        _ = try controller.setFrequency(.kHz(fmax), forDomain: 0)
        #expect(waitFor { fillerThreads().first?.state == "S" })
        done.signal()
        try controller.restore()
        #expect(waitFor { fillerThreads().isEmpty })
    }

    @Test func noFillerWhenFillingIsOff() throws {
        guard case .success = CgroupCPUBandwidth.detect() else { return }
        let controller = try EmulatedFrequencyController(options: .init(fillGaps: false))
        defer { try? controller.restore() }
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                try controller.enrollCurrentThread()
                _ = try controller.setFrequency(.kHz(controller.options.maxKHz / 4), forDomain: 0)
            } catch { Issue.record("\(error)") }
            done.signal()
        }
        thread.start()
        done.wait()
        usleep(50_000)
        #expect(fillerThreads().isEmpty)
    }
}
