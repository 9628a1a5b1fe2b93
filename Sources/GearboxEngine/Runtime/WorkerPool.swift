// GearboxEngine/WorkerPool: the engine's N OS threads. The thread calling `run` is worker 0 and
// N−1 helper pthreads join it for each parallel step. Work is split into tasks whose count and
// boundaries depend only on tensor shapes, never on N, so results are bit-identical for any N.
// Helpers spin briefly between steps (steps come back to back during a run) and then sleep on a
// condition variable, so an idle model costs no CPU. A helper that has not joined a step by the
// time the caller ran out of tasks is excused from it, so a descheduled helper never stalls a run.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GearboxCore
import Synchronization

/// Binds an engine worker thread to CPUs. GearboxHardware's `ThreadPinning` plugs in here.
///
/// The pool calls `pin(worker:of:)` once on each helper thread (workers 1..<N) when it starts.
/// Worker 0 is the thread that calls `InferenceModel.run`; pin it with
/// `InferenceModel.pinCallingThread()` or directly.
public protocol WorkerPinning: Sendable {
    /// Pins the calling thread, which is worker `index` of `count`.
    func pin(worker index: Int, of count: Int) throws
}

/// A `WorkerPinning` from a closure: `.init { index, count in try bind(index) }`.
public struct ClosureWorkerPinning: WorkerPinning {
    private let body: @Sendable (Int, Int) throws -> Void
    public init(_ body: @escaping @Sendable (_ index: Int, _ count: Int) throws -> Void) { self.body = body }
    public func pin(worker index: Int, of count: Int) throws { try body(index, count) }
}

/// Work split into numbered tasks. Steps conform directly (instead of passing closures) so
/// that dispatching never allocates, even in unoptimised builds.
protocol ParallelWork: AnyObject {
    /// Runs task `task` on worker `worker` (which indexes per-worker scratch).
    func perform(task: Int, worker: Int)
}

/// Closure adapter for tests and cold paths (allocates; not for inference steps).
final class ClosureWork: ParallelWork {
    let body: (Int, Int) -> Void
    init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
    func perform(task: Int, worker: Int) { body(task, worker) }
}

/// A fixed set of threads that execute the tasks of one parallel step at a time.
final class WorkerPool: @unchecked Sendable {
    typealias Job = any ParallelWork

    /// Threads including the caller.
    let workerCount: Int
    /// Pinning errors raised on helper threads, reported by the model after start-up.
    private(set) var pinningErrors: [String] = []

    private let generation = Atomic<Int>(0)
    private let nextTask = Atomic<Int>(0)
    /// Per helper: 4g+1 joined step g, 4g+2 finished it, 4g+3 excused from it.
    private let helperStates: [HelperState]
    /// The caller's record of each helper's state after the previous step.
    private let lastStates: UnsafeMutablePointer<Int>
    private let sleepers = Atomic<Int>(0)
    private let startedHelpers = Atomic<Int>(0)
    private let shuttingDown = Atomic<Bool>(false)
    private let job: UnsafeMutablePointer<Job?>
    private let taskCount: UnsafeMutablePointer<Int>
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private let errorLock = Mutex<[String]>([])
    private var threads: [pthread_t] = []

    /// How long a helper polls for the next step before sleeping.
    private static let spinNanoseconds: UInt64 = 300_000

    init(workerCount: Int, pinning: (any WorkerPinning)?) {
        self.workerCount = max(1, workerCount)
        job = .allocate(capacity: 1)
        job.initialize(to: nil)
        taskCount = .allocate(capacity: 1)
        taskCount.initialize(to: 0)
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        pthread_cond_init(condition, nil)
        helperStates = (0..<self.workerCount).map { _ in HelperState() }
        lastStates = .allocate(capacity: self.workerCount)
        lastStates.initialize(repeating: 0, count: self.workerCount)
        for index in 1..<self.workerCount {
            let context = HelperContext(pool: self, index: index, pinning: pinning)
            let unmanaged = Unmanaged.passRetained(context)
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                guard let raw else { return nil }  // never: the argument is the retained context
                let context = Unmanaged<HelperContext>.fromOpaque(raw).takeRetainedValue()
                context.pool.helperMain(index: context.index, pinning: context.pinning)
                return nil
            }, unmanaged.toOpaque())
            if rc == 0 { threads.append(thread) } else {
                unmanaged.release()
                errorLock.withLock { $0.append("worker \(index): pthread_create failed (\(rc))") }
            }
        }
        // Wait until every helper has pinned itself, so pinning errors surface at load.
        while startedHelpers.load(ordering: .acquiring) < threads.count { sched_yield() }
        pinningErrors = errorLock.withLock { $0 }
    }

    deinit {
        shuttingDown.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
        job.deinitialize(count: 1)
        job.deallocate()
        taskCount.deallocate()
        lastStates.deallocate()
    }

    /// Runs `work.perform(task:worker:)` for every task in 0..<count, spread over the workers,
    /// and returns when all are done. Allocation-free. `worker` indexes per-worker scratch.
    func parallelFor(_ count: Int, _ work: any ParallelWork) {
        if count <= 0 { return }
        if workerCount == 1 || count == 1 {
            var task = 0
            while task < count { work.perform(task: task, worker: 0); task += 1 }
            return
        }
        job.pointee = work
        taskCount.pointee = count
        nextTask.store(0, ordering: .relaxed)
        let step = generation.add(1, ordering: .sequentiallyConsistent).newValue
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        while true {
            let task = nextTask.add(1, ordering: .relaxed).oldValue
            if task >= count { break }
            work.perform(task: task, worker: 0)
        }
        // Excuse helpers that have not joined; wait for those that did.
        var helper = 1
        while helper < workerCount {
            let slot = helperStates[helper]
            let excused = 4 &* step &+ 3
            if slot.value.compareExchange(expected: lastStates[helper], desired: excused, ordering: .acquiringAndReleasing).exchanged {
                lastStates[helper] = excused
            } else {
                var spins = 0
                while slot.value.load(ordering: .acquiring) != 4 &* step &+ 2 {
                    spins &+= 1
                    if spins > 64 { sched_yield() }
                }
                lastStates[helper] = 4 &* step &+ 2
            }
            helper &+= 1
        }
        job.pointee = nil
    }

    /// Closure form for tests and cold paths; allocates an adapter.
    func parallelFor(_ count: Int, _ body: @escaping (_ task: Int, _ worker: Int) -> Void) {
        parallelFor(count, ClosureWork(body))
    }

    private func helperMain(index: Int, pinning: (any WorkerPinning)?) {
        if let pinning {
            do { try pinning.pin(worker: index, of: workerCount) } catch {
                errorLock.withLock { $0.append("worker \(index): \(error)") }
            }
        }
        startedHelpers.add(1, ordering: .releasing)
        let slot = helperStates[index]
        var seen = 0
        while true {
            seen = waitForGeneration(after: seen)
            if shuttingDown.load(ordering: .acquiring) { return }
            // Join step `seen` unless the caller already excused this helper from it.
            var joined = false
            while true {
                let current = slot.value.load(ordering: .acquiring)
                if current >= 4 &* seen { break }
                if slot.value.compareExchange(expected: current, desired: 4 &* seen &+ 1, ordering: .acquiringAndReleasing).exchanged {
                    joined = true
                    break
                }
            }
            guard joined else { continue }
            if let work = job.pointee {
                let count = taskCount.pointee
                while true {
                    let task = nextTask.add(1, ordering: .relaxed).oldValue
                    if task >= count { break }
                    work.perform(task: task, worker: index)
                }
            }
            slot.value.store(4 &* seen &+ 2, ordering: .releasing)
        }
    }

    /// Spins, then sleeps, until `generation` moves past `seen`; returns the new value.
    private func waitForGeneration(after seen: Int) -> Int {
        var start: UInt64 = 0
        var polls = 0
        while true {
            let now = generation.load(ordering: .acquiring)
            if now != seen { return now }
            polls += 1
            if polls & 63 == 0 {
                let t = MonotonicClock.nowNs()
                if start == 0 { start = t } else if t - start > Self.spinNanoseconds { break }
                sched_yield()
            }
        }
        pthread_mutex_lock(mutex)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        var now = generation.load(ordering: .sequentiallyConsistent)
        while now == seen {
            pthread_cond_wait(condition, mutex)
            now = generation.load(ordering: .sequentiallyConsistent)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
        return now
    }
}

/// One helper's step state, in its own object (and cache line) so helpers do not share one.
private final class HelperState: @unchecked Sendable {
    let value = Atomic<Int>(0)
    private let padding: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)
}

private final class HelperContext {
    // Unowned: the pool's deinit joins its helpers before the pool's memory goes away, and a
    // strong reference here would keep the pool alive forever.
    unowned(unsafe) let pool: WorkerPool
    let index: Int
    let pinning: (any WorkerPinning)?
    init(pool: WorkerPool, index: Int, pinning: (any WorkerPinning)?) {
        self.pool = pool
        self.index = index
        self.pinning = pinning
    }
}
