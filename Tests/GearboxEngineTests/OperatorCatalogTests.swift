// Tests for OperatorCatalog's lowering rules that other suites do not reach: attribute checks per
// opset (Clip, Squeeze/Unsqueeze, Reshape), BatchNormalization's folding into one affine map,
// the errors that name node and op, and which graph inputs count as load-time parameters.

import Foundation
import Testing
@testable import GearboxEngine

@Suite struct OperatorCatalogTests {
    /// Builds a one-input model, runs it on `x`, and returns its only output.
    private func run(_ builder: ONNXModelBuilder, _ x: Tensor) throws -> Tensor {
        let model = try load(builder)
        return try #require(try model.run(["x": x]).values.first)
    }

    private func expectNodeError(_ builder: ONNXModelBuilder, mentioning fragments: [String]) {
        do {
            _ = try load(builder)
            Issue.record("the model loaded; expected an error mentioning \(fragments)")
        } catch let error as EngineError {
            let line = error.description
            for fragment in fragments { #expect(line.contains(fragment), "\(line)") }
            #expect(!line.contains("\n"))
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test func clipTakesBoundsFromAttributesBeforeOpsetElevenAndFromInputsAfter() throws {
        let x = Tensor(shape: [1, 6], scalars: [-3, -0.5, 0, 2, 6, 9])
        var legacy = ONNXModelBuilder(opset: 6)
        legacy.addInput("x", shape: [1, 6])
        legacy.addOutput(legacy.unary("Clip", "x", attributes: ["min": .float(0), "max": .float(6)]))
        #expect(try run(legacy, x).scalars == [0, 0, 0, 2, 6, 6])

        var modern = ONNXModelBuilder(opset: 13)
        modern.addInput("x", shape: [1, 6])
        modern.addInitializer("lo", Tensor(shape: [], scalars: [-1]))
        modern.addInitializer("hi", Tensor(shape: [], scalars: [3]))
        modern.addNode("Clip", inputs: ["x", "lo", "hi"], outputs: ["y"])
        modern.addOutput("y")
        #expect(try run(modern, x).scalars == [-1, -0.5, 0, 2, 3, 3])

        // Only an upper bound: the empty name skips the optional min input.
        var upperOnly = ONNXModelBuilder(opset: 13)
        upperOnly.addInput("x", shape: [1, 6])
        upperOnly.addInitializer("hi", Tensor(shape: [], scalars: [1]))
        upperOnly.addNode("Clip", inputs: ["x", "", "hi"], outputs: ["y"])
        upperOnly.addOutput("y")
        #expect(try run(upperOnly, x).scalars == [-3, -0.5, 0, 1, 1, 1])
    }

    @Test func clipRejectsOpsetSixAttributesAtOpsetThirteenAndNonScalarBounds() {
        var attributes = ONNXModelBuilder(opset: 13)
        attributes.addInput("x", shape: [1, 4])
        attributes.addOutput(attributes.unary("Clip", "x", attributes: ["min": .float(0)]))
        expectNodeError(attributes, mentioning: ["Clip", "min"])

        var vector = ONNXModelBuilder(opset: 13)
        vector.addInput("x", shape: [1, 4])
        vector.addInitializer("lo", Tensor(shape: [2], scalars: [0, 1]))
        vector.addNode("Clip", inputs: ["x", "lo"], outputs: ["y"])
        vector.addOutput("y")
        expectNodeError(vector, mentioning: ["Clip", "scalar"])
    }

    @Test func batchNormalizationFoldsIntoScaleAndShiftPerChannel() throws {
        let channels = 3
        let scale = Tensor(shape: [channels], scalars: [1, 2, 0.5])
        let bias = Tensor(shape: [channels], scalars: [0, -1, 3])
        let mean = Tensor(shape: [channels], scalars: [0.5, 0, -2])
        let variance = Tensor(shape: [channels], scalars: [1, 4, 0.25])
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [2, channels, 2, 2])
        b.addOutput(b.batchNormalization("x", scale: scale, bias: bias, mean: mean, variance: variance))
        let x = Tensor.random(shape: [2, channels, 2, 2], seed: 4)
        let y = try run(b, x)
        let epsilon: Float = 1e-5
        let expected = Tensor(shape: x.shape) { i in
            let c = (i / 4) % channels
            let s = scale.scalars[c] / (variance.scalars[c] + epsilon).squareRoot()
            return (x.scalars[i] - mean.scalars[c]) * s + bias.scalars[c]
        }
        #expect(maxRelativeError(y, expected) < 1e-6)
    }

    @Test func batchNormalizationRejectsTrainingModeAndMismatchedStatistics() {
        var training = ONNXModelBuilder(opset: 15)
        training.addInput("x", shape: [1, 2, 2, 2])
        let one = Tensor(shape: [2], scalars: [1, 1])
        for name in ["s", "b", "m", "v"] { training.addInitializer(name, one) }
        training.addNode("BatchNormalization", inputs: ["x", "s", "b", "m", "v"], outputs: ["y"],
                         attributes: ["training_mode": .int(1)])
        training.addOutput("y")
        expectNodeError(training, mentioning: ["BatchNormalization", "training_mode"])

        var mismatched = ONNXModelBuilder()
        mismatched.addInput("x", shape: [1, 2, 2, 2])
        let three = Tensor(shape: [3], scalars: [1, 1, 1])
        mismatched.addOutput(mismatched.batchNormalization("x", scale: three, bias: three, mean: three, variance: three))
        expectNodeError(mismatched, mentioning: ["BatchNormalization", "2 values"])
    }

    @Test func reshapeCopiesZeroDimensionsAndInfersOneMinusOne() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [2, 3, 4])
        b.addInitializer("shape", int64s: [0, -1], shape: [2])
        b.addNode("Reshape", inputs: ["x", "shape"], outputs: ["y"])
        b.addOutput("y")
        let x = Tensor.random(shape: [2, 3, 4], seed: 1)
        let y = try run(b, x)
        #expect(y.shape == [2, 12])
        #expect(y.scalars == x.scalars)
    }

    @Test func reshapeRejectsTwoInferredDimensionsAndWrongElementCounts() {
        for (dims, fragment) in [([-1, -1], "more than one -1"), ([5, 5], "cannot reshape"), ([2, -3], "negative")] {
            var b = ONNXModelBuilder()
            b.addInput("x", shape: [2, 3, 4])
            b.addInitializer("shape", int64s: dims.map(Int64.init), shape: [dims.count])
            b.addNode("Reshape", inputs: ["x", "shape"], outputs: ["y"])
            b.addOutput("y")
            expectNodeError(b, mentioning: ["Reshape", fragment])
        }
    }

    @Test func squeezeAndUnsqueezeTakeAxesFromAttributesBeforeOpsetThirteenAndFromInputsAfter() throws {
        let x = Tensor.random(shape: [1, 3, 1, 2], seed: 2)
        var legacy = ONNXModelBuilder(opset: 11)
        legacy.addInput("x", shape: [1, 3, 1, 2])
        legacy.addNode("Squeeze", inputs: ["x"], outputs: ["s"], attributes: ["axes": .ints([2])])
        legacy.addNode("Unsqueeze", inputs: ["s"], outputs: ["y"], attributes: ["axes": .ints([-1])])
        legacy.addOutput("y")
        #expect(try run(legacy, x).shape == [1, 3, 2, 1])

        var modern = ONNXModelBuilder(opset: 13)
        modern.addInput("x", shape: [1, 3, 1, 2])
        modern.addInitializer("axes", int64s: [0, 2], shape: [2])
        modern.addNode("Squeeze", inputs: ["x", "axes"], outputs: ["y"])
        modern.addOutput("y")
        let y = try run(modern, x)
        #expect(y.shape == [3, 2])
        #expect(y.scalars == x.scalars)

        var everyOne = ONNXModelBuilder(opset: 13)
        everyOne.addInput("x", shape: [1, 3, 1, 2])
        everyOne.addNode("Squeeze", inputs: ["x"], outputs: ["y"])
        everyOne.addOutput("y")
        #expect(try run(everyOne, x).shape == [3, 2])
    }

    @Test func squeezeRefusesAnAxisLongerThanOne() {
        var b = ONNXModelBuilder(opset: 13)
        b.addInput("x", shape: [1, 3, 1, 2])
        b.addInitializer("axes", int64s: [1], shape: [1])
        b.addNode("Squeeze", inputs: ["x", "axes"], outputs: ["y"])
        b.addOutput("y")
        expectNodeError(b, mentioning: ["Squeeze", "size 3"])
    }

    @Test func unknownAttributesAndUnknownOperatorsAreNamedInTheError() {
        var attribute = ONNXModelBuilder()
        attribute.addInput("x", shape: [1, 4])
        attribute.addOutput(attribute.unary("LeakyRelu", "x", attributes: ["slope": .float(0.1)]))
        expectNodeError(attribute, mentioning: ["LeakyRelu", "slope"])

        var unknown = ONNXModelBuilder()
        unknown.addInput("x", shape: [1, 4])
        unknown.addOutput(unknown.unary("NonMaxSuppression", "x"))
        expectNodeError(unknown, mentioning: ["NonMaxSuppression"])
    }

    @Test func everyLoweredOperatorIsListedOnce() {
        let types = OperatorCatalog.operatorTypes
        #expect(types.count == OperatorCatalog.supportedOperators.count)
        for op in ["Conv", "Gemm", "Clip", "Add", "Relu", "HardSwish", "Reshape", "Softmax"] { #expect(types.contains(op)) }
        #expect(!types.contains("LSTM"))
    }

    @Test func parameterInputsAreTheGraphInputsThatFeedALoadTimeSlot() {
        let inputs = ["x", "w", "shape", "lo"].map { GraphValue(name: $0, elementType: .float, dimensions: nil) }
        let nodes = [
            GraphNode(name: "conv", opType: "Conv", domain: "", inputs: ["x", "w"], outputs: ["c"], attributes: [:]),
            GraphNode(name: "reshape", opType: "Reshape", domain: "", inputs: ["c", "shape"], outputs: ["r"], attributes: [:]),
            GraphNode(name: "clip", opType: "Clip", domain: "", inputs: ["r", "lo"], outputs: ["y"], attributes: [:]),
            // Add has no parameter slots: "x" feeding it stays a run-time input.
            GraphNode(name: "add", opType: "Add", domain: "", inputs: ["x", "x"], outputs: ["z"], attributes: [:]),
        ]
        let graph = Graph(name: "g", nodes: nodes, initializers: [:], inputs: inputs, outputs: [], opsetVersion: 13)
        #expect(OperatorCatalog.parameterInputNames(of: graph) == ["w", "shape", "lo"])
    }
}
