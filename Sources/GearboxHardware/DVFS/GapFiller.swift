// GearboxHardware/GapFiller: keeps the CPUs of throttled threads busy in their throttle gaps,
// for the emulated DVFS controller. A thread at SCHED_IDLE spins on each such CPU; it runs only
// when nothing else there is runnable, so it fills the gaps and yields the CPU whenever the
// measured thread gets its quota back.
//
// Why: in a throttle gap the measuring vCPU has nothing to run and halts; a hypervisor can then
// give its core to another tenant, and the measured thread comes back to contended caches, so a
// throttled inference runs slower than the emulated clock alone explains. A filler keeps the
// vCPU busy without taking time from the measured thread. The measurements that led to it are
// in docs/measurements.md ("Gap filler"); `--idle-gaps` turns it off for comparison.

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
