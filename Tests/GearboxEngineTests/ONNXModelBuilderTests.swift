// Tests for ONNX writing: built models load back with the right structure and statistics.

import Foundation
import GearboxTestSupport
import Testing
@testable import GearboxEngine

@Suite struct ONNXModelBuilderTests {
    @Test func fashionCNNRoundTripsWithExpectedCounts() throws {
        let model = try load(SyntheticModels.fashionMNISTCNN())
        #expect(model.inputs == [TensorDescription(name: "input", shape: [1, 1, 28, 28])])
        #expect(model.outputs[0].shape == [1, 10])
        #expect(model.statistics.macs == 16 * 9 * 784 + 32 * 144 * 196 + 1568 * 128 + 128 * 10)
        #expect(model.statistics.operatorCounts["Conv"] == 2)
        let y = try runRandom(model)
        #expect(abs(y.scalars.reduce(0, +) - 1) < 1e-5)
    }

    @Test func writtenFilesAreReadBackIdentically() throws {
        let builder = SyntheticModels.resNet(imageSize: 32, widths: [8, 16], classes: 10)
        let scratch = ScratchDirectory("builder")
        let path = scratch.file("resnet.onnx")
        try builder.write(to: path)
        let fromFile = try InferenceModel(contentsOf: path)
        let fromBytes = try load(builder)
        #expect(bits(try runRandom(fromFile)) == bits(try runRandom(fromBytes)))
        #expect(try builder.serializedData() == builder.serializedData())
        #expect(fromFile.loadDuration > .zero)
    }

    @Test func syntheticModelsAreDeterministic() throws {
        #expect(try SyntheticModels.fashionMNISTCNN(seed: 4).serializedData() == SyntheticModels.fashionMNISTCNN(seed: 4).serializedData())
        #expect(try SyntheticModels.fashionMNISTCNN(seed: 4).serializedData() != SyntheticModels.fashionMNISTCNN(seed: 5).serializedData())
    }
}
