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

/// The state ("R", "S"…), scheduling policy and cgroups of thread `tid` of this process; nil
/// once it has exited.
private func task(_ tid: pid_t) -> (state: String, policy: Int32, cgroup: String, name: String)? {
    guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8) else { return nil }
    // The state follows the parenthesised name: "tid (name) S ...".
    let state = stat.split(separator: ")").last.map { String($0.dropFirst().prefix(1)) } ?? "?"
    let cgroup = (try? String(contentsOfFile: "/proc/self/task/\(tid)/cgroup", encoding: .utf8)) ?? ""
    let name = (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)) ?? ""
    return (state, sched_getscheduler(tid), cgroup, name)
}

private func waitFor(_ condition: () -> Bool) -> Bool {
    for _ in 0..<200 where !condition() { usleep(5_000) }
    return condition()
}

@Suite(.serialized, .requiresCgroupCPUController) struct GapFillerTests {
    @Test func aThrottledStepHasAnIdlePriorityFillerOutsideTheThrottledGroup() throws {
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
        // One filler, for CPU 0, named, at SCHED_IDLE (5), not in the controller's cgroup, spinning (R).
        #expect(waitFor { controller.gapFillerThreadIDs.count == 1 })
        let tid = try #require(controller.gapFillerThreadIDs.first)
        let filler = try #require(task(tid))
        #expect(filler.name.hasPrefix("gearbox-gapfill"))
        #expect(filler.policy == 5)
        #expect(!filler.cgroup.contains((controller.cgroupDirectory as NSString).lastPathComponent))
        #expect(waitFor { task(tid)?.state == "R" })
        #expect(controller.gapFillProblems.isEmpty)
        // Unthrottled: it sleeps.
        _ = try controller.setFrequency(.kHz(fmax), forDomain: 0)
        #expect(waitFor { task(tid)?.state == "S" })
        done.signal()
        try controller.restore()
        #expect(waitFor { task(tid) == nil && controller.gapFillerThreadIDs.isEmpty })
    }

    @Test func noFillerWhenFillingIsOff() throws {
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
        #expect(controller.gapFillerThreadIDs.isEmpty)
    }
}
