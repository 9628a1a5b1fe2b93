// Tests for the memory plan: steady-state runs allocate nothing (counted by interposing malloc
// in this test executable, see Tests/CAllocationCounter), and the arena reuses memory. The
// arena arithmetic of GearboxEngine/MemoryPlanner on hand-made graphs: values whose lifetimes
// overlap never share bytes, values whose lifetimes do not overlap reuse them, graph inputs and
// outputs keep their slots, views share their source's slot, slots are rounded to 16 floats,
// and activations past the workspace budget are refused before the arena is allocated.

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
                        SyntheticModels.mobileNetV2(imageSize: 32, widthMultiplier: 0.5, classes: 10),
                        // 96²: the first expanding block is banded (48² × 96 expanded floats).
                        SyntheticModels.mobileNetV2(imageSize: 96, classes: 10)] {
            let model = try load(builder, EngineOptions(threads: threads, pinning: pinning))
            if model.inputs[0].shape.last == 96 { #expect(model.convolutionKernels["xnnpack-banded"] == 3) }
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

    // MARK: The arena of hand-made graphs

    /// Compiles `b` unfused, so that every node is one step.
    static func plan(_ b: ONNXModelBuilder) throws -> ExecutionPlan {
        let graph = try ONNXImporter.graph(from: try b.serializedData(), source: b.graphName)
        return try ModelCompiler(graph: graph, options: EngineOptions(fusesOperators: false), source: b.graphName).compile()
    }

    /// Floats from the arena's start to a port's slot.
    static func offset(_ port: ExecutionPlan.Port, in plan: ExecutionPlan) -> Int {
        port.address - plan.arena.baseAddress
    }

    /// x [1, n] → Relu a → Neg b → Abs c → Neg y: steps 0–3.
    static func chain(width n: Int) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: "chain")
        b.addInput("x", shape: [1, n])
        b.addOutput(b.unary("Neg", b.unary("Abs", b.unary("Neg", b.relu("x")))))
        return b
    }

    @Test func aChainReusesTheSlotsOfValuesNoLongerLive() throws {
        // Lifetimes (steps): x −1…end, a 0…1, b 1…2, c 2…3, y 3…end. Placed in value order at the
        // lowest free offset: x 0, a 64, b 128; c overlaps x and b only, so takes a's 64; y
        // overlaps x and c only, so takes b's 128. Three 64-float slots instead of five; x keeps
        // its slot for the whole run (else b could have taken offset 0 and y offset 64: two slots).
        let plan = try Self.plan(Self.chain(width: 64))
        #expect(plan.arena.count == 3 * 64 + 16, "three slots and 16 floats of slack")
        #expect(plan.inputs.map { Self.offset($0, in: plan) } == [0])
        #expect(plan.outputs.map { Self.offset($0, in: plan) } == [128])
    }

    @Test func slotsAreRoundedToSixteenFloats() throws {
        // The same chain on 10 floats: three slots of 16.
        let plan = try Self.plan(Self.chain(width: 10))
        #expect(plan.arena.count == 3 * 16 + 16)
        #expect(Self.offset(try #require(plan.outputs.first), in: plan) == 32)
        #expect(Int(bitPattern: plan.arena.baseAddress) % 64 == 0)
    }

    /// x [1, 64] → a = Relu(x), b = Neg(x) → y = a + b = max(0, −x).
    static func diamond() -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: "diamond")
        b.addInput("x", shape: [1, 64])
        let a = b.relu("x"), negated = b.unary("Neg", "x")
        b.addOutput(b.add(a, negated))
        return b
    }

    @Test func valuesLiveAtTheSameStepNeverShareBytes() throws {
        // Lifetimes: x −1…end, a 0…2, b 1…2, y 2…end: all four are live at step 2, so four slots.
        let plan = try Self.plan(Self.diamond())
        #expect(plan.arena.count == 4 * 64 + 16)
        let x = try #require(plan.inputs.first), y = try #require(plan.outputs.first)
        #expect(Self.offset(x, in: plan) == 0)
        #expect(Self.offset(y, in: plan) == 192)
        // Had a and b shared a slot, Neg would overwrite relu(x) and y would be −2x.
        let values = (0..<64).map { Float($0 - 32) / 4 }
        x.address.update(from: values, count: 64)
        plan.run()
        #expect(Array(UnsafeBufferPointer(start: y.address, count: 64)) == values.map { max(0, -$0) })
    }

    @Test func aViewSharesItsSourcesSlot() throws {
        // x [1, 4, 4, 4] → Relu a → Flatten y (a view of a, no step): a lives to the end as y's
        // storage, so two slots; a Flatten with its own slot would need three.
        var b = ONNXModelBuilder(graphName: "view")
        b.addInput("x", shape: [1, 4, 4, 4])
        b.addOutput(b.flatten(b.relu("x")))
        let plan = try Self.plan(b)
        #expect(plan.steps.count == 1)
        #expect(plan.arena.count == 2 * 64 + 16)
        let y = try #require(plan.outputs.first)
        #expect(y.shape == [1, 64])
        #expect(Self.offset(y, in: plan) == 64)
    }

    @Test func activationsPastTheWorkspaceBudgetAreRefusedBeforeTheArenaIsAllocated() throws {
        // x [1, 2²⁶] (the largest input) concatenated 17 times: x and y together are 18 · 2²⁶
        // floats = 4.5 GiB, past the 4 GiB budget. Nothing of that size may be allocated.
        var b = ONNXModelBuilder(graphName: "huge")
        b.addInput("x", shape: [1, 1 << 26])
        b.addNode("Concat", inputs: [String](repeating: "x", count: 17), outputs: ["y"], name: "cat", attributes: ["axis": .int(1)])
        b.addOutput("y")
        do {
            _ = try Self.plan(b)
            Issue.record("a 4.5 GiB arena was planned")
        } catch let EngineError.invalidModel(source, reason) {
            #expect(source == "huge")
            #expect(reason.contains("EngineBudget.maximumWorkspaceBytes"))
            #expect(reason.contains("\(18 << 26) floats"))
        }
    }
}
