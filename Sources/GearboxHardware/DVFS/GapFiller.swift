// GearboxHardware/GapFiller: keeps the CPUs of throttled threads busy in their throttle gaps,
// for the emulated DVFS controller. A thread at SCHED_IDLE spins on each such CPU; it runs only
// when nothing else there is runnable, so it fills the gaps and yields the CPU whenever the
// measured thread gets its quota back.
//
// Why (measured 2026-11-23 on this 2-vCPU VM, 63 ms period, csr and bsr variants, runs of
// `gearbox run` alternated back to back at 1/4 and 1/8 of fmax): with the vCPU left idle in each
// gap, 31 of 32 throttled runs had their inferences in the host's slow mode (p50 1.4–1.7× the
// variant's best); with a filler spinning in the gaps, 10 of 32 ran within 20% of the best,
// about as often as unthrottled runs in the same minutes (4 of 16). In `gearbox bench profiler`
// (README, runs G, H, I) it took the median rerun deviation from 3.9–4.6% to 2.7%. An idle
// vCPU lets the host give its core away, and the measured thread comes back to contended
// caches. A filler costs nothing measurable at an unthrottled step (a dense variant's p50
// within 1%).

import Foundation
import CGearboxShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

final class GapFiller: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var covered: Set<Int> = []
    private var active = false
    private var stopping = false
    private var running = 0
    private var failures: [String] = []
    private var tids: [pid_t] = []
    /// Read by the spinning threads without the lock.
    private let spinning = Atomic<Bool>(false)
    /// Moves a filler thread (by kernel tid) out of the throttled cgroup, into the process's own.
    private let moveOut: @Sendable (pid_t) -> Void

    init(moveOut: @escaping @Sendable (pid_t) -> Void) {
        self.moveOut = moveOut
    }

    /// Why fillers could not start (no SCHED_IDLE, no pinning): without one, a gap stays idle.
    var problems: [String] {
        condition.lock()
        defer { condition.unlock() }
        return failures
    }

    /// Kernel ids of the fillers running now.
    var threadIDs: [pid_t] {
        condition.lock()
        defer { condition.unlock() }
        return tids
    }

    /// Starts a filler on each of `cpus` that has none.
    func cover(_ cpus: [Int]) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return }
        for cpu in cpus where !covered.contains(cpu) {
            covered.insert(cpu)
            running += 1
            let thread = Thread { [self] in fill(cpu) }
            thread.name = "gearbox-gap-filler-\(cpu)"
            thread.start()
        }
    }

    /// Spin in the gaps (a quota is applied) or sleep (unthrottled).
    func setActive(_ on: Bool) {
        condition.lock()
        active = on
        spinning.store(on, ordering: .relaxed)
        condition.broadcast()
        condition.unlock()
    }

    /// Stops every filler and waits up to a second for them to exit. Idempotent.
    func stop() {
        condition.lock()
        stopping = true
        active = false
        spinning.store(false, ordering: .relaxed)
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: 1)
        while running > 0, condition.wait(until: deadline) {}
        condition.unlock()
    }

    private func fill(_ cpu: Int) {
        // A new thread inherits its creator's cgroup, which may be the throttled one; and a
        // filler that cannot be made SCHED_IDLE would take half the CPU from the measured
        // thread, so it does not run at all.
        // Named for `ps -L` and tests (Foundation's Thread.name does not reach the kernel here).
        _ = gearbox_name_thread("gearbox-gapfill")
        moveOut(gearbox_gettid())
        var problem: String?
        if gearbox_pin_thread_to_cpu(Int32(cpu)) != 0 {
            problem = "gap filler on CPU \(cpu): pinning failed (\(String(cString: strerror(errno))))"
        } else if gearbox_make_thread_idle_priority() != 0 {
            problem = "gap filler on CPU \(cpu): SCHED_IDLE refused (\(String(cString: strerror(errno))))"
        }
        let tid = gearbox_gettid()
        condition.lock()
        if let problem { failures.append(problem) } else { tids.append(tid) }
        while problem == nil {
            while !active && !stopping { condition.wait() }
            if stopping { break }
            condition.unlock()
            while spinning.load(ordering: .relaxed) {
                for _ in 0..<64 { gearbox_cpu_relax() }
            }
            condition.lock()
        }
        running -= 1
        tids.removeAll { $0 == tid }
        condition.broadcast()
        condition.unlock()
    }
}
