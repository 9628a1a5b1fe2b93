// Tests for GearboxEngine/ModelCost: multiply-adds and parameters of a tiny model counted by hand
// for the dense, nonzero (sparse variants) and channel-prefix masked (masked variants) rules,
// including the first layer's inputs, the at-least-one-channel floor, depthwise Convs left
// whole and the input axis of Gemm (either orientation) and MatMul classifiers.

import GearboxTestSupport
import Testing
@testable import GearboxEngine

@Suite struct ModelCostTests {
    /// How the classifier multiplies its 2 features into 3 outputs.
    enum Classifier: String, CaseIterable, CustomTestStringConvertible {
        case gemmTransposed, gemm, matMul
        var testDescription: String { rawValue }
    }

    /// x [1, 1, 6, 6] → c1 (4 filters 1×3×3, bias, pads 1) → ReLU → c2 (2 filters 4×1×1) → global
    /// average pool → flatten → fc (2 → 3, no bias).
    ///
    ///   c1: 4 outputs × 36 pixels × 9 = 1296 MACs, 36 + 4 parameters
    ///   c2: 2 outputs × 36 pixels × 4 =  288 MACs, 8 parameters
    ///   fc: 1 row × 2 × 3             =    6 MACs, 6 parameters
    ///   total                          1590 MACs, 54 parameters (pooling and ReLU: 0 MACs)
    ///
    /// `c1`, `c2` and `fc` are the weights in ONNX layout ([4,1,3,3], [2,4,1,1], and [3,2] for a
    /// transposed Gemm, else [2,3]); each defaults to 0.5 everywhere.
    static func tiny(c1: [Float]? = nil, c2: [Float]? = nil, fc: [Float]? = nil, classifier: Classifier = .gemmTransposed) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: "tiny")
        b.addInput("x", shape: [1, 1, 6, 6])
        let w1 = Tensor(shape: [4, 1, 3, 3], scalars: c1 ?? [Float](repeating: 0.5, count: 36))
        let w2 = Tensor(shape: [2, 4, 1, 1], scalars: c2 ?? [Float](repeating: 0.5, count: 8))
        var y = b.relu(b.conv("x", weights: w1, bias: Tensor(shape: [4], repeating: 0.1), pads: [1, 1, 1, 1], name: "c1"))
        y = b.flatten(b.globalAveragePool(b.conv(y, weights: w2, name: "c2")))
        let fcScalars = fc ?? [Float](repeating: 0.5, count: 6)
        switch classifier {
        case .gemmTransposed:
            b.addOutput(b.linear(y, weights: Tensor(shape: [3, 2], scalars: fcScalars), name: "fc"))
        case .gemm, .matMul:
            b.addInitializer("fc.weight", Tensor(shape: [2, 3], scalars: fcScalars))
            b.addNode(classifier == .gemm ? "Gemm" : "MatMul", inputs: [y, "fc.weight"], outputs: ["fc.out"], name: "fc")
            b.addOutput("fc.out")
        }
        return b
    }

    static func write(_ b: ONNXModelBuilder, in scratch: ScratchDirectory) throws -> String {
        let path = scratch.file("\(b.graphName).onnx")
        try b.write(to: path)
        return path
    }

    @Test func denseCountsEveryWeightAsTheEngineDoes() throws {
        let cost = ModelCost.dense(try load(Self.tiny()))
        #expect(cost.macs == 1590)
        #expect(cost.params == 54)
        #expect(cost.method == "engine statistics")
    }

    @Test func nonzeroScalesEachLayerByItsNonzeroWeights() throws {
        let scratch = ScratchDirectory("model-cost")
        var c1 = [Float](repeating: 0.5, count: 36)
        for i in 0..<18 { c1[i] = 0 }  // filters 0 and 1: half of c1's weights
        var c2 = [Float](repeating: 0.5, count: 8)
        c2[0] = 0; c2[5] = 0  // 6 of 8 left
        var fc = [Float](repeating: 0.5, count: 6)
        fc[4] = 0  // 5 of 6 left
        let cost = try ModelCost.nonzero(onnxFile: Self.write(Self.tiny(c1: c1, c2: c2, fc: fc), in: scratch))
        // 1296·18/36 + 288·6/8 + 6·5/6 = 648 + 216 + 5; parameters 54 − 18 − 2 − 1 (biases stay).
        #expect(cost.macs == 869)
        #expect(cost.params == 33)
        #expect(cost.method.contains("nonzero"))
    }

    @Test func nonzeroOfADenseModelIsTheDenseCost() throws {
        let scratch = ScratchDirectory("model-cost")
        let cost = try ModelCost.nonzero(onnxFile: Self.write(Self.tiny(), in: scratch))
        #expect(cost.macs == 1590 && cost.params == 54)
    }

    @Test(arguments: Classifier.allCases)
    func maskedKeepsTheChannelPrefixOfEachLayer(classifier: Classifier) throws {
        let scratch = ScratchDirectory("model-cost")
        let cost = try ModelCost.masked(onnxFile: Self.write(Self.tiny(classifier: classifier), in: scratch), fraction: 0.5)
        // c1 (first layer): 2 of 4 filters, every input → 18 of 36 weights: 648 MACs.
        // c2: 1 of 2 filters × 2 of 4 inputs → 2 of 8 weights: 72 MACs.
        // fc: every output, 1 of 2 inputs → 3 of 6 weights: 3 MACs. (Slicing the output axis
        //     instead would keep round(1.5) = 2 of 3 outputs × 2 inputs = 4 weights.)
        #expect(cost.macs == 648 + 72 + 3)
        #expect(cost.params == 54 - 18 - 6 - 3)
        #expect(cost.method.contains("0.5"))
    }

    @Test func maskedKeepsAtLeastOneChannel() throws {
        let scratch = ScratchDirectory("model-cost")
        let cost = try ModelCost.masked(onnxFile: Self.write(Self.tiny(), in: scratch), fraction: 0.1)
        // round(0.1·4) = round(0.1·2) = 0, floored to 1 channel:
        // c1 1 filter (9 of 36): 324; c2 1 × 1 (1 of 8): 36; fc 3 outputs × 1 input (3 of 6): 3.
        #expect(cost.macs == 324 + 36 + 3)
        #expect(cost.params == 54 - 27 - 7 - 3)
    }

    @Test func maskedWithFractionOneIsTheDenseCost() throws {
        let scratch = ScratchDirectory("model-cost")
        let cost = try ModelCost.masked(onnxFile: Self.write(Self.tiny(), in: scratch), fraction: 1)
        #expect(cost.macs == 1590 && cost.params == 54)
    }

    /// x [1, 4, 6, 6] → c1 (4 filters 4×1×1) → depthwise dw (4 groups, 3×3, pads 1) → pool → flatten → fc (4 → 2).
    ///   c1: 4 × 36 × 4 = 576 MACs, 16 parameters; dw: 4 × 36 × 9 = 1296 MACs, 36; fc: 4 × 2 = 8 MACs, 8.
    @Test func maskedLeavesADepthwiseConvWhole() throws {
        var b = ONNXModelBuilder(graphName: "depthwise")
        b.addInput("x", shape: [1, 4, 6, 6])
        let c1 = b.conv("x", weights: Tensor(shape: [4, 4, 1, 1], repeating: 0.5), name: "c1")
        let dw = b.conv(c1, weights: Tensor(shape: [4, 1, 3, 3], repeating: 0.5), pads: [1, 1, 1, 1], group: 4, name: "dw")
        b.addOutput(b.linear(b.flatten(b.globalAveragePool(dw)), weights: Tensor(shape: [2, 4], repeating: 0.5), name: "fc"))
        let scratch = ScratchDirectory("model-cost")
        let path = try Self.write(b, in: scratch)
        #expect(ModelCost.dense(try load(b)).macs == 576 + 1296 + 8)
        let cost = try ModelCost.masked(onnxFile: path, fraction: 0.5)
        // c1 (first layer): 2 of 4 filters × all 4 inputs = 8 of 16: 288; dw: all 1296; fc: 2 × 2 of 8: 4.
        #expect(cost.macs == 288 + 1296 + 4)
        #expect(cost.params == 60 - 8 - 4)
    }

    @Test func aMissingFileThrows() {
        #expect(throws: (any Error).self) { try ModelCost.nonzero(onnxFile: "/nonexistent/gearbox-model-cost.onnx") }
    }
}
