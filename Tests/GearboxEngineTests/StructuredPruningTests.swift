// Tests for the channel dependency analysis and structured pruning of arbitrary graphs:
// group counts and residual ties on ResNet- and MobileNetV2-style graphs, pruned variants that
// load and are smaller, r = 1 and zero-channel removal equal to the original, and a
// channel-mixing Reshape that blocks only the groups it touches.

import Foundation
import Testing
@testable import GearboxEngine

@Suite struct StructuredPruningTests {
    static func smallResNet() -> ONNXModelBuilder {
        SyntheticModels.resNet(imageSize: 32, widths: [8, 16], blocksPerStage: 2, classes: 10)
    }

    static func smallMobileNet() -> ONNXModelBuilder {
        SyntheticModels.mobileNetV2(imageSize: 32, stem: 8, blocks: [(1, 8, 1, 1), (6, 12, 2, 2), (6, 16, 2, 2)], head: 32, classes: 10)
    }

    static func pruning(_ builder: ONNXModelBuilder) throws -> StructuredPruning {
        try StructuredPruning(onnx: try builder.serializedData(), source: builder.graphName)
    }

    @Test func resNetGroupsTieEachResidualStage() throws {
        let groups = try Self.pruning(Self.smallResNet()).groups
        // input, stage 0 residual, stage 1 residual, four inner convs, classifier.
        #expect(groups.count == 8)
        #expect(groups.filter(\.prunable).count == 6)
        // Stem + two block outputs; first block output + projection shortcut + second block output.
        let residual = groups.filter { $0.producers.count == 3 }
        #expect(residual.count == 2)
        #expect(residual.allSatisfy { $0.prunable && ($0.channels == 8 || $0.channels == 16) })
        #expect(groups.first { $0.producers == ["input input"] }?.prunable == false)
    }

    @Test func mobileNetGroupsTieDepthwiseAndResiduals() throws {
        let groups = try Self.pruning(Self.smallMobileNet()).groups
        // input, 3 residual chains (stem+proj, 12-wide, 16-wide), 4 expansions (with their depthwise), head conv, classifier.
        #expect(groups.count == 10)
        #expect(groups.filter(\.prunable).count == 8)
        #expect(groups.filter { $0.producers.count == 2 }.map(\.channels).sorted() == [8, 12, 16])
        // An expansion group holds its 1×1 conv, BN, depthwise conv and its BN.
        let expansion = try #require(groups.first { $0.channels == 48 })
        #expect(expansion.members.filter { $0.hasSuffix("[0]") }.count >= 7)
    }

    @Test(arguments: ["resnet", "mobilenet"])
    func ratiosMakeSmallerModelsThatRun(_ kind: String) throws {
        let builder = kind == "resnet" ? Self.smallResNet() : Self.smallMobileNet()
        let pruning = try Self.pruning(builder)
        let original = try load(builder)
        var previous = (macs: Int.max, params: Int.max)
        for ratio in [1.0, 0.75, 0.5] {
            let (data, report) = try pruning.prune(.ratio(ratio, importance: .l1))
            let model = try InferenceModel(onnx: data, source: "\(kind)-\(ratio)")
            #expect(model.outputs.map(\.shape) == original.outputs.map(\.shape))
            #expect(report.macs == model.statistics.macs && report.params == model.statistics.parameters)
            #expect(report.macs < previous.macs && report.params < previous.params)
            previous = (report.macs, report.params)
            for outcome in report.groups where outcome.group.prunable {
                #expect(outcome.kept == max(1, Int((ratio * Double(outcome.group.channels)).rounded())))
            }
            if ratio == 1 {
                #expect(report.check.mustBeEqual && report.check.passed)
                #expect(report.macs == original.statistics.macs && report.params == original.statistics.parameters)
                #expect(bits(try runRandom(model)) == bits(try runRandom(original)))
            }
        }
    }

    @Test(arguments: ChannelImportance.allCases)
    func everyImportanceKeepsTheRequestedCount(_ importance: ChannelImportance) throws {
        let (_, report) = try Self.pruning(Self.smallResNet()).prune(.ratio(0.5, importance: importance))
        #expect(report.groups.filter(\.group.prunable).allSatisfy { $0.kept == $0.group.channels / 2 })
    }

    @Test func importanceKeepsTheLargestFilters() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 1, 6, 6])
        // Filter k has magnitude k + 1: the last ones matter most.
        let w = Tensor(shape: [4, 1, 1, 1], scalars: [1, 2, 3, 4])
        let y = b.relu(b.conv("x", weights: w, name: "c1"))
        let z = b.conv(y, weights: Tensor(shape: [2, 4, 1, 1], repeating: 0.5), name: "c2")
        b.addOutput(b.flatten(b.globalAveragePool(z)))
        let (data, _) = try Self.pruning(b).prune(.ratio(0.5, importance: .l1))
        let graph = try ONNXImporter.graph(from: data, source: "pruned")
        guard case let .float(kept)? = graph.initializers["c1.weight"] else { Issue.record("c1.weight missing"); return }
        #expect(kept.scalars == [3, 4])
    }

    @Test func zeroChannelsAreRemovedLosslessly() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 1, 12, 12])
        var w1 = Tensor.random(shape: [8, 1, 3, 3], seed: 3).scalars
        var b1 = Tensor.random(shape: [8], seed: 4).scalars
        for channel in [2, 5] { for k in 0..<9 { w1[channel * 9 + k] = 0 }; b1[channel] = 0 }  // filters that make zeros
        var w2 = Tensor.random(shape: [6, 8, 3, 3], seed: 5).scalars
        for out in 0..<6 { for k in 0..<9 { w2[(out * 8 + 1) * 9 + k] = 0 } }  // channel 1 is read by nobody
        var x = b.relu(b.conv("x", weights: Tensor(shape: [8, 1, 3, 3], scalars: w1), bias: Tensor(shape: [8], scalars: b1), pads: [1, 1, 1, 1]))
        x = b.maxPool(x, kernel: [2, 2], strides: [2, 2])
        x = b.relu(b.conv(x, weights: Tensor(shape: [6, 8, 3, 3], scalars: w2), pads: [1, 1, 1, 1]))
        x = b.flatten(b.globalAveragePool(x))
        b.addOutput(b.linear(x, weights: Tensor.random(shape: [3, 6], seed: 6)))
        let (data, report) = try Self.pruning(b).prune(.zeroChannels)
        #expect(report.check.mustBeEqual && report.check.passed)
        #expect(report.groups.filter(\.group.prunable).map(\.kept).sorted() == [5, 6])
        let before = try load(b), after = try InferenceModel(onnx: data, source: "unzeroed")
        #expect(try runRandom(before).maxAbsoluteDifference(to: try runRandom(after)) <= 1e-5)
        #expect(after.statistics.parameters < before.statistics.parameters)
    }

    @Test func aChannelMixingReshapeBlocksOnlyTheGroupsItTouches() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 1, 8, 8])
        var x = b.relu(b.conv("x", weights: Tensor.random(shape: [4, 1, 3, 3], seed: 1), pads: [1, 1, 1, 1], name: "c1"))
        x = b.conv(x, weights: Tensor.random(shape: [8, 4, 3, 3], seed: 2), pads: [1, 1, 1, 1], name: "c2")
        b.addInitializer("mix.shape", int64s: [1, 4, 16, 8], shape: [4])
        b.addNode("Reshape", inputs: [x, "mix.shape"], outputs: ["mixed"], name: "mix")
        x = b.relu(b.conv("mixed", weights: Tensor.random(shape: [6, 4, 3, 3], seed: 3), pads: [1, 1, 1, 1], name: "c3"))
        x = b.flatten(b.globalAveragePool(x))
        b.addOutput(b.linear(x, weights: Tensor.random(shape: [3, 6], seed: 4), name: "fc"))
        let pruning = try Self.pruning(b)
        let groups = pruning.groups
        let c2 = try #require(groups.first { $0.producers == ["c2"] })
        #expect(!c2.prunable)
        #expect(c2.reason?.contains("Reshape") == true)
        #expect(groups.filter(\.prunable).map(\.producers) == [["c1"], ["c3"]])
        let (data, report) = try pruning.prune(.ratio(0.5, importance: .l1))
        #expect(report.groups.first { $0.group.producers == ["c1"] }?.kept == 2)
        #expect(report.groups.first { $0.group.producers == ["c3"] }?.kept == 3)
        #expect(report.groups.first { $0.group.producers == ["c2"] }?.kept == 8)
        #expect(try InferenceModel(onnx: data, source: "pruned").outputs[0].shape == [1, 3])
    }

    /// conv → relu → Reshape to [N, feature] whose shape comes from an int64 Constant node (as
    /// exporters write x.view(x.size(0), -1)) → Gemm.
    static func computedFlatten(feature: Int64) throws -> StructuredPruning {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 1, 4, 4])
        let y = b.relu(b.conv("x", weights: Tensor.random(shape: [6, 1, 3, 3], seed: 1), pads: [1, 1, 1, 1], name: "c1"))
        b.addNode("Constant", inputs: [], outputs: ["target"], name: "target")
        b.addNode("Reshape", inputs: [y, "target"], outputs: ["flat"])
        b.addOutput(b.linear("flat", weights: Tensor.random(shape: [3, 96], seed: 2), name: "fc"))
        var graph = try ONNXImporter.graph(from: try b.serializedData(), source: "computed")
        let index = try #require(graph.nodes.firstIndex { $0.opType == "Constant" })
        graph.nodes[index].attributes["value"] = .tensor(.integer(shape: [2], values: [1, feature], type: .int64))
        let data: Data = try ONNXExporter.model(from: graph, producer: "test").serializedBytes()
        return try StructuredPruning(onnx: data, source: "computed")
    }

    @Test func aComputedFlattenShapeIsFollowedOnlyWithMinusOne() throws {
        let adaptive = try Self.computedFlatten(feature: -1)
        #expect(adaptive.groups.first { $0.producers == ["c1"] }?.prunable == true)
        let (data, report) = try adaptive.prune(.ratio(0.5, importance: .l2))
        #expect(report.groups.first { $0.group.producers == ["c1"] }?.kept == 3)
        #expect(try InferenceModel(onnx: data, source: "pruned").outputs[0].shape == [1, 3])
        let fixed = try Self.computedFlatten(feature: 96)
        #expect(fixed.groups.first { $0.producers == ["c1"] }?.prunable == false)
    }

    @Test func aRatioOutsideTheRangeIsRefused() throws {
        #expect(throws: EngineError.self) { try Self.pruning(Self.smallResNet()).prune(.ratio(0, importance: .l1)) }
    }
}
