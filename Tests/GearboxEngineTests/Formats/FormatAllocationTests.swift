// Tests that the pruned formats keep the engine's steady state allocation-free: a model whose
// layers run in csr, bsr, ubp or masked allocates nothing per inference (malloc counted by the
// test binary's interposer, Tests/CAllocationCounter).

import CAllocationCounter
import Foundation
import Testing
@testable import GearboxEngine

@Suite(.serialized) struct FormatAllocationTests {
    @Test(.requiresAllocationCounter, arguments: ["csr", "bsr", "ubp", "masked"])
    func prunedFormatsRunWithoutAllocating(format: String) throws {
        // Pruned to unaligned 2×4 blocks: a pattern every format can hold losslessly.
        let request = VariantConversion.Request(format: .ubp, block: try BlockShape(rows: 2, columns: 4), sparsity: 0.7)
        let (pruned, _) = try VariantConversion(request: request).convert(
            onnx: try SyntheticModels.fashionMNISTCNN(seed: 4).serializedData(), source: "cnn.onnx")
        let options = EngineOptions(weightFormat: format, weightBlock: WeightBlockShape(rows: 2, columns: 4),
                                    weightFormats: .prunedFormats)
        let model = try InferenceModel(onnx: pruned, source: "cnn.onnx", options: options)
        #expect(model.weightLayers.allSatisfy { $0.matrix.formatName == format })
        model.fillInputsRandomly(seed: 1)
        model.run()  // first run may initialise library state
        let trace = ProcessInfo.processInfo.environment["GEARBOX_TRACE_ALLOCATIONS"] != nil
        // Group 3: MemoryPlannerTests count in 1 and 2 and may run at the same time (a shared
        // count once made this test fail with their allocations).
        gearbox_allocation_tracking(3)
        let before = gearbox_allocation_count(3)
        if trace { gearbox_allocation_trace_next(3) }
        for _ in 0..<10 { model.run() }
        let after = gearbox_allocation_count(3)
        gearbox_allocation_tracking(0)
        #expect(after - before == 0, "\(after - before) allocations in 10 runs in \(format)")
    }
}
