// Tests for NHWC run planning: runs of XNNPACK layers keep NHWC between them and convert
// layouts exactly where they meet a layer on Gearbox's own NCHW kernels (a pruned format), a
// graph input or a graph output; results equal the all-NCHW plan and do not depend on threads.

import Testing
@testable import GearboxEngine

@Suite struct LayoutPlannerTests {
    /// Converts the layer named `node` to csr and leaves every other layer dense.
    struct OneLayerCSR: WeightFormatFactory {
        let node: String
        var formatName: String { "csr" }
        func makeWeightMatrix(from dense: DenseWeightMatrix, layer: WeightLayerDescription, block: WeightBlockShape?) throws -> any WeightMatrix {
            guard layer.nodeName == node else { return dense }
            return try PrunedFormatFactory(format: .csr).makeWeightMatrix(from: dense, layer: layer, block: block)
        }
    }

    /// x → 3×3+ReLU → 1×1+ReLU → 1×1 "mid" → 3×3+ReLU (c) → depthwise 3×3+ReLU6 → 1×1 + c → y.
    static func chain() -> ONNXModelBuilder {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 8, 24, 24])
        b.addInitializer("lo", Tensor(shape: [], scalars: [0]))
        b.addInitializer("hi", Tensor(shape: [], scalars: [6]))
        func w(_ shape: [Int], _ seed: UInt64) -> Tensor { Tensor.random(shape: shape, seed: seed, in: -0.4...0.4) }
        let a = b.relu(b.conv("x", weights: w([16, 8, 3, 3], 1), bias: w([16], 2), pads: [1, 1, 1, 1]))
        let p = b.relu(b.conv(a, weights: w([16, 16, 1, 1], 3), bias: w([16], 4)))
        let mid = b.conv(p, weights: w([16, 16, 1, 1], 5), bias: w([16], 6), name: "mid")
        let c = b.relu(b.conv(mid, weights: w([16, 16, 3, 3], 7), bias: w([16], 8), pads: [1, 1, 1, 1]))
        let d = b.conv(c, weights: w([16, 1, 3, 3], 9), bias: w([16], 10), pads: [1, 1, 1, 1], group: 16)
        b.addNode("Clip", inputs: [d, "lo", "hi"], outputs: ["d6"])
        b.addOutput(b.add(b.conv("d6", weights: w([16, 16, 1, 1], 11), bias: w([16], 12)), c))
        return b
    }

    static func options(threads: Int = 1, csrLayer: String? = nil, nhwc: Bool = true) -> EngineOptions {
        var options = EngineOptions(threads: threads)
        if let csrLayer {
            options.weightFormats = WeightFormatRegistry([OneLayerCSR(node: csrLayer)])
            options.weightFormat = "csr"
        }
        options.plansNHWCRuns = nhwc
        return options
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels) func aPrunedLayerInTheMiddleSplitsTheRunAndConvertsOnlyAtItsBoundaries() throws {
        let dense = try load(Self.chain(), Self.options())
        let pruned = try load(Self.chain(), Self.options(csrLayer: "mid"))
        let prunedTwoThreads = try load(Self.chain(), Self.options(threads: 2, csrLayer: "mid"))
        let nchw = try load(Self.chain(), Self.options(nhwc: false))
        #expect(pruned.weightLayers.map(\.matrix.formatName).filter { $0 == "csr" }.count == 1)

        // All dense: one run, converted in at the input and out at the output.
        #expect(dense.layoutConversionCount == 2)
        #expect(dense.nhwcStepCount == 6)
        // csr in the middle: two runs (2 and 3 layers), each converted in and out once.
        #expect(pruned.layoutConversionCount == 4)
        #expect(pruned.nhwcStepCount == 5)
        #expect(pruned.convolutionKernels["im2col"] == 1, "the csr layer runs on Gearbox's NCHW kernel")
        #expect(pruned.convolutionKernels["depthwise-nhwc"] == 1, "the depthwise layer stays in the second run")
        #expect(nchw.layoutConversionCount == 0 && nchw.nhwcStepCount == 0)

        let reference = try runRandom(nchw)
        let y = try runRandom(pruned)
        #expect(maxRelativeError(try runRandom(dense), reference) < 1e-5)
        #expect(maxRelativeError(y, reference) < 1e-5)
        #expect(bits(y) == bits(try runRandom(prunedTwoThreads)), "1 and 2 threads give the same bits")
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels) func aLoneXNNPACKLayerKeepsItsOwnNCHWStep() throws {
        // Depthwise between two csr layers: a run of one convolution is not worth two conversions.
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 16, 20, 20])
        let p = b.conv("x", weights: Tensor.random(shape: [16, 16, 1, 1], seed: 1), name: "p1")
        let d = b.conv(p, weights: Tensor.random(shape: [16, 1, 3, 3], seed: 2), pads: [1, 1, 1, 1], group: 16)
        b.addOutput(b.conv(d, weights: Tensor.random(shape: [16, 16, 1, 1], seed: 3), name: "p2"))
        var options = EngineOptions()
        options.weightFormats = .prunedFormats
        options.weightFormat = "csr"
        let model = try load(b, options)
        #expect(model.layoutConversionCount == 0)
        #expect(model.convolutionKernels["depthwise"] == 1)
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels, arguments: [1, 3])
    func depthwiseInAnNHWCRunMatchesTheDirectReference(multiplier: Int) throws {
        // 1×1 → depthwise 3×3 stride 2 (channel multiplier 1 or 3) → 1×1, all in one NHWC run.
        let channels = 8, size = 21
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, channels, size, size])
        let w1 = Tensor.random(shape: [channels, channels, 1, 1], seed: 1)
        let wd = Tensor.random(shape: [channels * multiplier, 1, 3, 3], seed: 2)
        let w2 = Tensor.random(shape: [4, channels * multiplier, 1, 1], seed: 3)
        let p = b.conv("x", weights: w1)
        let d = b.conv(p, weights: wd, strides: [2, 2], pads: [1, 1, 1, 1], group: channels)
        b.addOutput(b.conv(d, weights: w2))
        let x = Tensor.random(shape: [1, channels, size, size], seed: 4)
        let none = (0, 0, 0, 0), one = (1, 1)
        let expected = referenceConv(
            referenceConv(referenceConv(x, w1, bias: nil, stride: one, pads: none, dilation: one, groups: 1),
                          wd, bias: nil, stride: (2, 2), pads: (1, 1, 1, 1), dilation: one, groups: channels),
            w2, bias: nil, stride: one, pads: none, dilation: one, groups: 1)
        let model = try load(b)
        #expect(model.nhwcStepCount == 3 && model.layoutConversionCount == 2)
        let y = try #require(try model.run(["x": x]).values.first)
        #expect(y.shape == expected.shape)
        #expect(maxRelativeError(y, expected) < 1e-4)
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels, arguments: [0, 1])
    func maxPoolInsideAnNHWCRunEqualsTheNCHWPool(ceilMode: Int) throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 6, 20, 20])
        let a = b.relu(b.conv("x", weights: Tensor.random(shape: [12, 6, 3, 3], seed: 1), pads: [1, 1, 1, 1]))
        b.addNode("MaxPool", inputs: [a], outputs: ["pooled"], attributes: [
            "kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 0, 1, 0]), "ceil_mode": .int(ceilMode),
        ])
        b.addOutput(b.conv("pooled", weights: Tensor.random(shape: [8, 12, 1, 1], seed: 2)))
        var nchw = EngineOptions()
        nchw.plansNHWCRuns = false
        let model = try load(b)
        #expect(model.nhwcStepCount == 3 && model.layoutConversionCount == 2)
        #expect(maxRelativeError(try runRandom(model), try runRandom(try load(b, nchw))) < 1e-5)
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels, arguments: [0, 1])
    func averagePoolInsideAnNHWCRunGivesTheNCHWPoolsBits(countIncludePad: Int) throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 6, 19, 19])
        let a = b.relu(b.conv("x", weights: Tensor.random(shape: [12, 6, 3, 3], seed: 1), pads: [1, 1, 1, 1]))
        b.addNode("AveragePool", inputs: [a], outputs: ["pooled"], attributes: [
            "kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 0, 1, 1]), "ceil_mode": .int(1),
            "count_include_pad": .int(countIncludePad),
        ])
        b.addOutput(b.conv("pooled", weights: Tensor.random(shape: [8, 12, 1, 1], seed: 2)))
        var nchw = EngineOptions()
        nchw.plansNHWCRuns = false
        let model = try load(b)
        #expect(model.nhwcStepCount == 3 && model.layoutConversionCount == 2, "the pool stays inside the run")
        let pooled = try #require(try model.run(["x": Tensor.random(shape: [1, 6, 19, 19], seed: 3)]).values.first)
        let reference = try #require(try load(b, nchw).run(["x": Tensor.random(shape: [1, 6, 19, 19], seed: 3)]).values.first)
        #expect(maxRelativeError(pooled, reference) < 1e-5)
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels)
    func mobileNetV2AndResNet18RunNHWCFromTheirFirstRunToTheClassifier() throws {
        let mobileNet = try load(SyntheticModels.mobileNetV2(imageSize: 64, classes: 10))
        // The only conversion is the image's; the pooled features are the same bytes in both layouts.
        #expect(mobileNet.layoutConversionCount == 1)
        // At 64² no block's expanded tensor is large enough for row bands, and every depthwise
        // layer's input fits in L2: all 17 run on Gearbox's NHWC kernel.
        #expect(mobileNet.convolutionKernels["depthwise-nhwc"] == 17)
        let resNet = try load(SyntheticModels.resNet18(imageSize: 64, classes: 10))
        // Stem, MaxPool, blocks and pooling form one run after the image's conversion.
        #expect(resNet.layoutConversionCount == 1)
        // At 64² only the first stage (16×16 outputs, 64 tiles) has enough tiles for Winograd.
        #expect(resNet.convolutionKernels["winograd"] == 4, "the first stage's 3×3 stride-1 layers")
        #expect(resNet.convolutionKernels["xnnpack"] == 16, "the stem, the later stages and the 1×1 shortcut layers")
        for builder in [SyntheticModels.mobileNetV2(imageSize: 64, classes: 10), SyntheticModels.resNet18(imageSize: 64, classes: 10)] {
            var nchw = EngineOptions()
            nchw.plansNHWCRuns = false
            #expect(maxRelativeError(try runRandom(try load(builder)), try runRandom(try load(builder, nchw))) < 1e-4, "\(builder.graphName)")
        }
    }
}
