import Foundation
import Testing

@testable import GearboxEngine

/// Input shapes and activations past the engine's budget are refused before any buffer is sized.
@Suite struct EngineBudgetTests {
    static func symbolicModel() throws -> Data {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4], symbolicDimensions: [0: "N", 1: "M"])
        b.addOutput(b.relu("x"))
        return try b.serializedData()
    }

    @Test(arguments: [[40000, 40000], [1 << 20, 1 << 20], [Int.max / 2, 4]])
    func aHugeGivenShapeIsAnInputMismatchNotAnAllocation(shape: [Int]) throws {
        do {
            _ = try InferenceModel(onnx: Self.symbolicModel(), options: EngineOptions(inputShapes: ["x": shape]))
            Issue.record("\(shape) loaded")
        } catch let EngineError.inputMismatch(name, reason) {
            #expect(name == "x")
            #expect(reason.contains("\(EngineBudget.maximumInputElements)"))
        }
    }

    @Test func aShapeWithinTheBudgetLoads() throws {
        let model = try InferenceModel(onnx: Self.symbolicModel(), options: EngineOptions(inputShapes: ["x": [64, 64]]))
        #expect(model.inputs[0].shape == [64, 64])
    }

    @Test func elementCountsAreCheckedForOverflowAndNegatives() {
        #expect(EngineBudget.elementCount([2, 3, 4]) == 24)
        #expect(EngineBudget.elementCount([]) == 1)
        #expect(EngineBudget.elementCount([-1, 4]) == nil)
        #expect(EngineBudget.elementCount([Int.max, 2]) == nil)
        #expect(EngineBudget.elementCount([40000, 40000]) == nil)
    }
}
