// Tests for the memory plan: steady-state runs allocate nothing (counted by interposing malloc
// in this test executable, see Tests/CAllocationCounter), and the arena reuses memory.

import CAllocationCounter
import Foundation
import Testing
@testable import GearboxEngine

@Suite(.serialized) struct MemoryPlannerTests {
    /// Why malloc interposition: mallinfo2's in-use bytes cannot see an allocation freed within
    /// the run, while a counter in malloc itself sees every call, including from OpenBLAS and
    /// the Swift runtime. Counting is per thread (opt-in) and per group, so tests running in
    /// parallel on other threads do not disturb it; helper threads opt in through the pinning hook.
    @Test(.requiresAllocationCounter, arguments: [1, 2])
    func steadyStateRunsAllocateNothing(threads: Int) throws {
        let group: Int32 = 1  // FormatAllocationTests count in 3, at the same time
        let pinning = ClosureWorkerPinning { _, _ in gearbox_allocation_tracking(group) }
        for builder in [SyntheticModels.fashionMNISTCNN(), SyntheticModels.resNet(imageSize: 32, widths: [8, 16], classes: 10),
                        SyntheticModels.mobileNetV2(imageSize: 32, widthMultiplier: 0.5, classes: 10)] {
            let model = try load(builder, EngineOptions(threads: threads, pinning: pinning))
            model.fillInputsRandomly(seed: 1)
            model.run()  // first run: lazily initialised library state (OpenBLAS buffers) is allowed here
            let trace = ProcessInfo.processInfo.environment["GEARBOX_TRACE_ALLOCATIONS"] != nil
            gearbox_allocation_tracking(group)
            let before = gearbox_allocation_count(group)
            if trace { gearbox_allocation_trace_next(40) }
            for _ in 0..<20 { model.run() }
            let after = gearbox_allocation_count(group)
            gearbox_allocation_tracking(0)
            #expect(after - before == 0, "\(after - before) allocations in 20 runs of \(builder.graphName) with \(threads) threads")
        }
    }

    @Test(.requiresAllocationCounter) func theCounterSeesAnAllocation() {
        gearbox_allocation_tracking(2)
        let before = gearbox_allocation_count(2)
        let array = [Int](repeating: 1, count: 1000)
        let after = gearbox_allocation_count(2)
        gearbox_allocation_tracking(0)
        #expect(array.count == 1000)
        #expect(after > before)
    }

    @Test func arenaReusesMemoryAcrossLayers() throws {
        let model = try load(SyntheticModels.resNet(imageSize: 64, widths: [16, 32, 64, 128], classes: 10))
        // Sum of all intermediate activations far exceeds what is live at once.
        #expect(model.arenaBytes < 64 * 64 * 16 * 4 * 8)
        #expect(model.residentBytes == model.weightBytes + model.arenaBytes)
    }

    @Test func preloadedInputsSurviveRepeatedRuns() throws {
        let model = try load(SyntheticModels.fashionMNISTCNN())
        model.fillInputsRandomly(seed: 3)
        let input = model.withInputBuffer(at: 0) { Array($0) }
        for _ in 0..<3 { model.run() }
        #expect(model.withInputBuffer(at: 0) { Array($0) } == input)
    }
}
