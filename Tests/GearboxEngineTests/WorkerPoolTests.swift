// Tests for the worker pool: every task runs exactly once, helpers are pinned through the hook,
// and model outputs are bit-identical for any thread count.

import Synchronization
import Testing
@testable import GearboxEngine

@Suite struct WorkerPoolTests {
    @Test(arguments: [1, 2, 3, 4])
    func everyTaskRunsExactlyOnce(threads: Int) {
        let pool = WorkerPool(workerCount: threads, pinning: nil)
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 1000)
        defer { counts.deallocate() }
        for round in 0..<50 {
            counts.initialize(repeating: 0)
            let n = 1 + round * 19
            let hits = Atomic<Int>(0)
            pool.parallelFor(n) { task, worker in
                counts[task] += 1
                hits.add(1, ordering: .relaxed)
                precondition(worker < threads)
            }
            #expect(hits.load(ordering: .relaxed) == n)
            #expect(counts[0..<n].allSatisfy { $0 == 1 })
        }
    }

    @Test func pinningHookRunsOnEveryHelperThread() {
        let seen = Mutex<Set<Int>>([])
        let pinning = ClosureWorkerPinning { index, count in
            precondition(count == 4)
            seen.withLock { _ = $0.insert(index) }
        }
        let pool = WorkerPool(workerCount: 4, pinning: pinning)
        #expect(seen.withLock { $0 } == [1, 2, 3])
        #expect(pool.pinningErrors.isEmpty)
    }

    @Test func pinningFailuresAreReportedAtLoad() throws {
        struct Refused: Error {}
        let options = EngineOptions(threads: 2, pinning: ClosureWorkerPinning { _, _ in throw Refused() })
        let model = try load(SyntheticModels.fashionMNISTCNN(), options)
        #expect(model.pinningErrors.count == 1)
        #expect(model.pinningErrors[0].hasPrefix("worker 1:"))
    }

    @Test func outputsAreBitIdenticalForAnyThreadCount() throws {
        for builder in [SyntheticModels.fashionMNISTCNN(batch: 3), SyntheticModels.fashionMNISTCNN(batch: 1),
                        SyntheticModels.resNet(imageSize: 48, widths: [16, 32, 64], classes: 10)] {
            let reference = bits(try runRandom(try load(builder, EngineOptions(threads: 1))))
            for threads in [2, 3, 4] {
                #expect(bits(try runRandom(try load(builder, EngineOptions(threads: threads)))) == reference, "threads \(threads)")
            }
        }
    }

    @Test func repeatedRunsGiveTheSameResult() throws {
        let model = try load(SyntheticModels.fashionMNISTCNN(), EngineOptions(threads: 2))
        let first = bits(try runRandom(model))
        for _ in 0..<5 { model.run() }
        #expect(bits(try model.output(named: model.outputs[0].name)) == first)
    }
}
