// Tests for the non-convolution operators' lowering: broadcasting, Gemm/MatMul paths, Softmax
// semantics by opset, views, Pad modes and constant folding.

import Testing
@testable import GearboxEngine

@Suite struct OperatorTests {
    @Test func broadcastPlanCollapsesChannelBias() {
        let plan = BroadcastPlan(output: [2, 8, 5, 5], a: [2, 8, 5, 5], b: [8, 1, 1])
        #expect(plan.inner == 25)
        #expect(plan.rows == 16)
        #expect(plan.aInnerStride == 1 && plan.bInnerStride == 0)
        #expect(plan.bOffsets[9] == 1)  // row 9 = batch 1, channel 1
    }

    @Test func broadcastShapeRules() {
        #expect(broadcastShape([2, 3, 4], [4]) == [2, 3, 4])
        #expect(broadcastShape([2, 1], [1, 5]) == [2, 5])
        #expect(broadcastShape([2, 3], [4]) == nil)
    }

    @Test func addBroadcastsBothWays() throws {
        var b = ONNXModelBuilder()
        b.addInput("a", shape: [3, 1])
        b.addInput("b", shape: [1, 4])
        b.addOutput(b.binary("Sub", "a", "b"))
        let model = try load(b)
        let y = try #require(try model.run(["a": Tensor(shape: [3, 1], scalars: [1, 2, 3]),
                                            "b": Tensor(shape: [1, 4], scalars: [0, 1, 2, 3])]).values.first)
        #expect(y.shape == [3, 4])
        #expect(y.scalars == [1, 0, -1, -2, 2, 1, 0, -1, 3, 2, 1, 0])
    }

    @Test func linearLayerMatchesManualProduct() throws {
        let w = Tensor.random(shape: [5, 7], seed: 1), bias = Tensor.random(shape: [5], seed: 2)
        for batch in [1, 3, 70] {
            var b = ONNXModelBuilder()
            b.addInput("x", shape: [batch, 7])
            b.addOutput(b.linear("x", weights: w, bias: bias))
            for threads in [1, 2] {
                let model = try load(b, EngineOptions(threads: threads))
                let x = Tensor.random(shape: [batch, 7], seed: 3)
                let y = try #require(try model.run(["x": x]).values.first)
                let xs = x.scalars, ws = w.scalars, bs = bias.scalars
                let expected = Tensor(shape: [batch, 5]) { i in
                    let r = i / 5, j = i % 5
                    return (0..<7).reduce(bs[j]) { $0 + xs[r * 7 + $1] * ws[j * 7 + $1] }
                }
                #expect(maxRelativeError(y, expected) < 1e-5)
            }
        }
    }

    @Test func matMulWithConstantWeightsBecomesAWeightLayer() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [2, 3, 4])
        b.addInitializer("w", Tensor.random(shape: [4, 6], seed: 1))
        b.addNode("MatMul", inputs: ["x", "w"], outputs: ["y"])
        b.addOutput("y")
        let model = try load(b)
        #expect(model.weightLayers.count == 1)
        #expect(model.weightLayers[0].description.kernelShape == [6, 4])
        #expect(model.outputs[0].shape == [2, 3, 6])
    }

    @Test func softmaxAxisMeaningChangesAtOpset13() throws {
        let x = Tensor.random(shape: [2, 3, 4], seed: 1)
        func softmax(opset: Int) throws -> Tensor {
            var b = ONNXModelBuilder(opset: opset)
            b.addInput("x", shape: [2, 3, 4])
            b.addOutput(b.unary("Softmax", "x", attributes: ["axis": .int(1)]))
            return try #require(try load(b).run(["x": x]).values.first)
        }
        let old = try softmax(opset: 11), new = try softmax(opset: 13)
        // Opset 11: each batch row of 12 sums to 1. Opset 13: each (batch, w) column of 3 sums to 1.
        let o = old.scalars, n = new.scalars
        #expect(abs(o[0..<12].reduce(0, +) - 1) < 1e-5)
        #expect(abs(n[0] + n[4] + n[8] - 1) < 1e-5)
        #expect(abs(o[0..<12].reduce(0, +) - (n[0] + n[4] + n[8])) < 1e-5)
    }

    @Test func reshapeAndFlattenAreViewsWithoutSteps() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [2, 3, 4])
        b.addInitializer("shape", int64s: [0, -1], shape: [2])
        b.addNode("Reshape", inputs: ["x", "shape"], outputs: ["r"])
        let y = b.relu(b.flatten("r", axis: 1))
        b.addOutput(y)
        let model = try load(b)
        #expect(model.statistics.stepCount == 1)
        #expect(model.outputs[0].shape == [2, 12])
    }

    @Test func padModes() throws {
        func pad(_ mode: String) throws -> [Float] {
            var b = ONNXModelBuilder()
            b.addInput("x", shape: [1, 3])
            b.addInitializer("pads", int64s: [0, 2, 0, 1], shape: [4])
            b.addNode("Pad", inputs: ["x", "pads"], outputs: ["y"], attributes: ["mode": .string(mode)])
            b.addOutput("y")
            return try #require(try load(b).run(["x": Tensor(shape: [1, 3], scalars: [1, 2, 3])]).values.first).scalars
        }
        #expect(try pad("constant") == [0, 0, 1, 2, 3, 0])
        #expect(try pad("edge") == [1, 1, 1, 2, 3, 3])
        #expect(try pad("reflect") == [3, 2, 1, 2, 3, 2])
    }

    @Test func constantSubgraphsAreFoldedAtLoad() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [4])
        b.addInitializer("c1", Tensor(shape: [4], scalars: [1, 2, 3, 4]))
        b.addInitializer("c2", Tensor(shape: [4], scalars: [1, 1, 1, 1]))
        b.addNode("Add", inputs: ["c1", "c2"], outputs: ["c3"])
        b.addNode("Mul", inputs: ["x", "c3"], outputs: ["y"])
        b.addOutput("y")
        let model = try load(b)
        #expect(model.statistics.stepCount == 1)
        let y = try #require(try model.run(["x": Tensor(shape: [4], repeating: 1)]).values.first)
        #expect(y.scalars == [2, 3, 4, 5])
    }

    @Test func averagePoolCountsPaddingOnlyWhenAsked() throws {
        func pool(_ include: Int) throws -> [Float] {
            var b = ONNXModelBuilder()
            b.addInput("x", shape: [1, 1, 2, 2])
            b.addOutput(b.unary("AveragePool", "x", attributes: ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1, 0, 0]),
                                                                   "count_include_pad": .int(include)]))
            return try #require(try load(b).run(["x": Tensor(shape: [1, 1, 2, 2], repeating: 4)]).values.first).scalars
        }
        #expect(try pool(0) == [4, 4, 4, 4])
        #expect(try pool(1) == [1, 2, 2, 4])
    }
}
