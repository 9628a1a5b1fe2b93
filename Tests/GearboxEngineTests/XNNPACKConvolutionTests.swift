// Tests for XNNPACK's memory accounting: the packed weights and indirection buffers XNNPACK
// allocates are measured (counting allocator) and included in the model's resident bytes.

import CAllocationCounter
import Testing
@testable import GearboxEngine

@Suite struct XNNPACKConvolutionTests {
    /// XNNPACK's packed f32 convolution weights: per operator, output channels rounded up to the
    /// kernel tile (at least 8 on every x86 variant) × (C·kH·kW weights + 1 bias) floats.
    static func analyticPackedBytes(_ geometries: [ConvGeometry]) -> Int {
        geometries.reduce(0) { sum, g in
            sum + XNNPACKConvolutionLayer.tiles(g).reduce(0) { $0 + ($1.channels.count + 7) / 8 * 8 * (g.reduction + 1) * 4 }
        }
    }

    @Test(.requiresXNNPACK) func residentBytesIncludeXNNPACKsPackedWeightsAndIndirectionBuffers() throws {
        let model = try load(SyntheticModels.resNet(imageSize: 32, widths: [16, 32], classes: 10))
        #expect(!model.xnnpackGeometries.isEmpty)
        let analytic = Self.analyticPackedBytes(model.xnnpackGeometries)
        #expect(model.libraryWeightBytes >= analytic)
        // Packed weights plus operator records and zero buffers: well under twice the weights.
        #expect(model.libraryWeightBytes < 2 * analytic + 64 * 1024 * model.xnnpackGeometries.count)
        #expect(model.libraryWorkspaceBytes > 0, "3×3 layers run XNNPACK's IGEMM, which binds an indirection buffer")
        #expect(model.weightBytes >= model.libraryWeightBytes + analytic)
        #expect(model.residentBytes == model.weightBytes + model.arenaBytes)

        var options = EngineOptions()
        options.denseConvolutionKernel = .packed
        let gearboxOnly = try load(SyntheticModels.resNet(imageSize: 32, widths: [16, 32], classes: 10), options)
        #expect(gearboxOnly.libraryWeightBytes == 0 && gearboxOnly.libraryWorkspaceBytes == 0)
        #expect(model.residentBytes > gearboxOnly.residentBytes + analytic)
    }

    @Test(.requiresXNNPACK, .requiresAllocationCounter) func heapGrowthOfLoadingIsCloseToResidentBytes() throws {
        let data = try SyntheticModels.resNet(imageSize: 56, widths: [64, 128, 256], classes: 10).serializedData()
        // This thread's own heap growth (group 4; other suites count in 1–3): the process-wide
        // figure once moved by 25% when a test running alongside freed its buffers.
        gearbox_allocation_tracking(4)
        let before = gearbox_allocated_bytes(4)
        let model = try InferenceModel(onnx: data, source: "resnet")
        let growth = Int(gearbox_allocated_bytes(4) - before)
        gearbox_allocation_tracking(0)
        let resident = model.residentBytes
        #expect((model.convolutionKernels["xnnpack"] ?? 0) > 0)
        #expect(model.libraryWeightBytes > 0)
        #expect(Double(growth) > 0.75 * Double(resident) && Double(growth) < 1.5 * Double(resident),
                "heap grew \(growth) B for \(resident) B reported resident (\(model.libraryWeightBytes) B XNNPACK weights)")
        print("heap growth \(growth) B, residentBytes \(resident) B, XNNPACK weights \(model.libraryWeightBytes) B, workspace \(model.libraryWorkspaceBytes) B")
        withExtendedLifetime(model) {}
    }
}
