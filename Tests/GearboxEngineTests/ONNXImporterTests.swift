// Tests for ONNX import: malformed files never crash, and every rejection is one line naming
// the node, operator or value and the reason.

import Foundation
import GearboxCore
import GearboxTestSupport
import Testing
@testable import GearboxEngine

@Suite struct ONNXImporterTests {
    /// A small but complete model: Conv+BN+ReLU, pool, Gemm, Softmax.
    static func smallModel() throws -> Data {
        var b = ONNXModelBuilder(graphName: "small")
        var rng = SplitMix64(seed: 3)
        b.addInput("x", shape: [1, 2, 8, 8])
        var y = SyntheticModels.convBNReLU(&b, "x", in: 2, out: 4, kernel: 3, stride: 1, rng: &rng)
        y = b.maxPool(y, kernel: [2, 2], strides: [2, 2])
        y = b.flatten(y)
        y = b.linear(y, weights: Tensor.random(shape: [5, 64], seed: 4), bias: Tensor.random(shape: [5], seed: 5))
        b.addOutput(b.softmax(y))
        return try b.serializedData()
    }

    /// Loads bytes; returns the EngineError, nil when the model loaded. Any other error fails the test.
    static func loadError(_ data: Data) -> EngineError? {
        do {
            let model = try InferenceModel(onnx: data, source: "fuzz.onnx")
            model.fillInputsRandomly(seed: 1)
            model.run()
            return nil
        } catch let error as EngineError {
            return error
        } catch {
            Issue.record("non-engine error \(error)")
            return nil
        }
    }

    @Test func loadsTheIntactModel() throws {
        #expect(Self.loadError(try Self.smallModel()) == nil)
    }

    @Test func everyTruncationIsRejectedWithoutCrashing() throws {
        let data = try Self.smallModel()
        var rejected = 0
        for length in 0..<data.count {
            let error = Self.loadError(data.prefix(length))
            if let error {
                rejected += 1
                #expect(!error.description.contains("\n"))
            }
        }
        // A truncated model never has every field back; all prefixes must fail.
        #expect(rejected == data.count)
    }

    @Test(.requiresONNXTestData) func truncationsOfARealTestDataModelAreRejected() throws {
        let path = "/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d_groups/model.onnx"
        let data = try #require(FileManager.default.contents(atPath: path))
        for length in stride(from: 0, to: data.count, by: max(1, data.count / 300)) {
            #expect(Self.loadError(data.prefix(length)) != nil, "prefix of \(length) bytes loaded")
        }
    }

    @Test func randomBytesAreRejected() {
        var rng = SplitMix64(seed: 99)
        for trial in 0..<300 {
            let length = Int(rng.next() % 4096)
            let bytes = Data((0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            #expect(Self.loadError(bytes) != nil, "random buffer \(trial) loaded")
        }
    }

    @Test func corruptedBytesNeverCrash() throws {
        let data = try Self.smallModel()
        var rng = SplitMix64(seed: 7)
        for _ in 0..<300 {
            var copy = data
            for _ in 0..<4 {
                let i = Int(rng.next() % UInt64(copy.count))
                copy[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            _ = Self.loadError(copy)  // loads or throws; a crash fails the whole run
        }
    }

    @Test func aTensorProtoIsNotAModel() throws {
        let bytes = Tensor.random(shape: [3, 4], seed: 1).tensorProtoBytes(name: "x")
        let error = try #require(Self.loadError(bytes))
        #expect(error.description.contains("fuzz.onnx"))
    }

    @Test func anEmptyFileNamesItself() throws {
        let error = try #require(Self.loadError(Data()))
        #expect(error == .malformedFile(source: "fuzz.onnx", reason: "the file is empty"))
    }

    @Test func unsupportedOperatorNamesNodeAndOp() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4])
        b.addNode("Erf", inputs: ["x"], outputs: ["y"], name: "my_erf")
        b.addOutput("y")
        let error = try #require(Self.loadError(try b.serializedData()))
        #expect(error.description.hasPrefix("node my_erf (Erf): unsupported: operator not implemented"))
    }

    @Test func unsupportedAttributeValueNamesIt() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 1, 4, 4])
        b.addInitializer("w", Tensor(zeros: [1, 1, 3, 3]))
        b.addNode("Conv", inputs: ["x", "w"], outputs: ["y"], name: "c1", attributes: ["auto_pad": .string("WRAP")])
        b.addOutput("y")
        let error = try #require(Self.loadError(try b.serializedData()))
        #expect(error == .unsupportedNode(node: "c1", op: "Conv", reason: "auto_pad WRAP"))
    }

    @Test func unknownAttributeIsRejectedNotIgnored() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [2, 3])
        b.addNode("Relu", inputs: ["x"], outputs: ["y"], name: "r", attributes: ["mystery": .int(1)])
        b.addOutput("y")
        #expect(Self.loadError(try b.serializedData()) == .unsupportedNode(node: "r", op: "Relu", reason: "attribute 'mystery'"))
    }

    @Test func attributeOfTheWrongKindIsAnError() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [2, 3])
        b.addNode("LeakyRelu", inputs: ["x"], outputs: ["y"], name: "l", attributes: ["alpha": .string("big")])
        b.addOutput("y")
        #expect(Self.loadError(try b.serializedData()) == .invalidNode(node: "l", op: "LeakyRelu", reason: "attribute 'alpha' should be a float"))
    }

    @Test func integerDataInputIsAnUnsupportedDataType() throws {
        var model = Onnx_ModelProto()
        model.irVersion = 7
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 13
        model.opsetImport = [opset]
        var graph = Onnx_GraphProto()
        var input = ONNXExporter.valueInfo(GraphValue(name: "x", elementType: .int32, dimensions: [.fixed(3)]))
        input.name = "x"
        graph.input = [input]
        graph.output = [ONNXExporter.valueInfo(GraphValue(name: "y", elementType: .float, dimensions: nil))]
        var node = Onnx_NodeProto()
        node.opType = "Relu"; node.input = ["x"]; node.output = ["y"]; node.name = "r"
        graph.node = [node]
        model.graph = graph
        let error = try #require(Self.loadError(try model.serializedBytes()))
        #expect(error.description.contains("int32"))
    }

    @Test func symbolicDimensionNeedsAConcreteShape() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4], symbolicDimensions: [0: "N"])
        b.addOutput(b.relu("x"))
        let data = try b.serializedData()
        #expect(Self.loadError(data) == .unresolvedShape(value: "x", reason: "declared shape [N, 4] has a symbolic or unknown dimension"))
        let model = try InferenceModel(onnx: data, options: EngineOptions(inputShapes: ["x": [3, 4]]))
        #expect(model.inputs[0].shape == [3, 4])
    }

    @Test func danglingInputNamesTheNode() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [2])
        b.addNode("Add", inputs: ["x", "nowhere"], outputs: ["y"], name: "a")
        b.addOutput("y")
        let error = try #require(Self.loadError(try b.serializedData()))
        #expect(error.description.hasPrefix("node a (Add): input 1 'nowhere' is not defined"))
    }

    @Test func missingGraphOutputIsAnInvalidModel() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [2])
        b.addOutput("ghost")
        let error = try #require(Self.loadError(try b.serializedData()))
        #expect(error == .invalidModel(source: "fuzz.onnx", reason: "graph output 'ghost' is not produced by any node"))
    }

    @Test func runRejectsAWronglyShapedInput() throws {
        let model = try InferenceModel(onnx: try Self.smallModel())
        #expect(throws: EngineError.self) { _ = try model.run(["x": Tensor(zeros: [1, 2, 8, 9])]) }
        #expect(throws: EngineError.self) { _ = try model.run(["nope": Tensor(zeros: [1, 2, 8, 8])]) }
    }

    @Test func newerOpsetsThanSupportedAreRejected() throws {
        var b = ONNXModelBuilder(opset: 30)
        b.addInput("x", shape: [2])
        b.addOutput(b.relu("x"))
        #expect(Self.loadError(try b.serializedData()) == .unsupportedOpset(domain: "", version: 30))
    }
}
