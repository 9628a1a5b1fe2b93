// Tests for the XNNPACK subgraph translation behind `gearbox bench engine --xnnpack-subgraph`:
// small generated MobileNetV2, ResNet-18 and ResNet-8 models, and single grouped/depthwise
// convolutions, give the engine's output through XNNPACK's runtime at 1 and 2 threads; a different
// output is caught; what the translation does not cover is refused by name.

import Foundation
import GearboxBenchmarks
import Testing
@testable import GearboxEngine

@Suite struct XNNPACKSubgraphTests {
    static let models: [(name: String, builder: @Sendable () -> ONNXModelBuilder)] = [
        ("mobilenetv2-1.0-64", { SyntheticModels.mobileNetV2(imageSize: 64) }),
        ("resnet18-64", { SyntheticModels.resNet18(imageSize: 64) }),
        ("resnet8-cifar", { SyntheticModels.cifarResNet() }),
        ("grouped-conv", { convolutionModel(channels: 8, outputs: 6, groups: 2) }),
        ("depthwise-multiplier-2", { convolutionModel(channels: 8, outputs: 16, groups: 8) }),
    ]

    /// One Conv (+bias, stride 2, asymmetric pads) + Relu whose 4-D output comes back NCHW.
    static func convolutionModel(channels: Int, outputs: Int, groups: Int) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: "conv")
        b.addInput("x", shape: [1, channels, 11, 10])
        let y = b.conv("x", weights: Tensor.random(shape: [outputs, channels / groups, 3, 3], seed: 3),
                       bias: Tensor.random(shape: [outputs], seed: 4), strides: [2, 2], pads: [1, 0, 1, 1], group: groups)
        b.addOutput(b.relu(y))
        return b
    }

    @Test(.requiresXNNPACK, arguments: 0..<models.count) func subgraphOutputEqualsTheEngines(_ index: Int) throws {
        let (name, builder) = Self.models[index]
        let data = try builder().serializedData()
        let plan = try XNNPACKSubgraphPlan(onnx: data, source: name)
        for threads in [1, 2] {
            let model = try InferenceModel(onnx: data, source: name, options: EngineOptions(threads: threads))
            let runtime = try XNNPACKSubgraphRuntime(plan: plan, threads: threads)
            model.fillInputsRandomly(seed: 11)
            let difference = try XNNPACKSubgraphBenchmark.checkOutputs(model: model, runtime: runtime, name: name)
            #expect(difference <= 1e-3, "\(name), \(threads) threads: max |diff| \(difference)")
            #expect(runtime.outputTensor().shape == model.outputs[0].shape)
        }
    }

    /// The check that fails the benchmark: another model's weights behind the same shapes.
    @Test(.requiresXNNPACK) func aDifferentOutputIsReportedAsAMismatch() throws {
        let model = try load(SyntheticModels.cifarResNet(seed: 8))
        let other = try XNNPACKSubgraphPlan(onnx: try SyntheticModels.cifarResNet(seed: 9).serializedData())
        let runtime = try XNNPACKSubgraphRuntime(plan: other, threads: 1)
        model.fillInputsRandomly(seed: 11)
        #expect {
            try XNNPACKSubgraphBenchmark.checkOutputs(model: model, runtime: runtime, name: "resnet8")
        } throws: { error in
            guard case .outputMismatch? = error as? XNNPACKSubgraphError else { return false }
            return true
        }
    }

    @Test func softmaxAndWideFlattenAreRefusedByName() throws {
        let data = try SyntheticModels.fashionMNISTCNN().serializedData()
        #expect {
            try XNNPACKSubgraphPlan(onnx: data, source: "cnn")
        } throws: { error in
            guard case let .unsupported(_, reason)? = error as? XNNPACKSubgraphError else { return false }
            return reason.contains("Flatten")
        }
        var b = ONNXModelBuilder(graphName: "softmax")
        b.addInput("x", shape: [1, 4, 1, 1])
        b.addOutput(b.softmax(b.relu("x"), axis: 1))
        #expect {
            try XNNPACKSubgraphPlan(onnx: try b.serializedData(), source: "softmax")
        } throws: { error in
            guard case let .unsupported(_, reason)? = error as? XNNPACKSubgraphError else { return false }
            return reason.contains("Softmax")
        }
    }
}
