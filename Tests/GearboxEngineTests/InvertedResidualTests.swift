// Tests for inverted-residual blocks computed in row bands (`InvertedResidualFusion`,
// `InvertedResidualStep`) and for the NHWC depthwise kernel they and NHWC runs use
// (`DepthwiseNHWCStep`): the band arithmetic, the fused plan against the unbanded one and the
// plain reference path, which blocks are left alone, and the kernel's borders, paddings, channel
// counts, residual and clamp.

import GearboxKernels
import Testing
@testable import GearboxEngine

@Suite struct InvertedResidualTests {
    // MARK: Band arithmetic

    static func depthwise(size: Int, channels: Int, stride: Int) -> ConvGeometry {
        var g = ConvGeometry()
        g.inChannels = channels
        g.outChannels = channels
        g.groups = channels
        g.inHeight = size
        g.inWidth = size
        g.kernelHeight = 3
        g.kernelWidth = 3
        g.strideHeight = stride
        g.strideWidth = stride
        g.padTop = 1; g.padLeft = 1; g.padBottom = 1; g.padRight = 1
        g.outHeight = (size + 2 - 3) / stride + 1
        g.outWidth = g.outHeight
        return g
    }

    @Test(arguments: [(112, 96, 2), (56, 144, 1), (29, 24, 2), (3, 8, 1), (28, 192, 1)])
    func bandsCoverEveryOutputRowOnceWithinTheScratchBudget(size: Int, channels: Int, stride: Int) throws {
        let g = Self.depthwise(size: size, channels: channels, stride: stride)
        let bands = try #require(InvertedResidualBands(depthwise: g))
        #expect(bands.chunks.first?.lowerBound == 0 && bands.chunks.last?.upperBound == g.outHeight)
        #expect(zip(bands.chunks, bands.chunks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "chunks are contiguous")
        for chunk in bands.chunks.indices {
            let rows = bands.bands(ofChunk: chunk)
            #expect(rows.first?.lowerBound == bands.chunks[chunk].lowerBound && rows.last?.upperBound == bands.chunks[chunk].upperBound)
            #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && $0.count == bands.bandRows })
            for band in rows {
                let input = bands.inputRange(of: band)
                #expect(input.lowerBound == band.lowerBound * stride - 1, "the first tap row of the band's first output row")
                #expect(input.count == (band.count - 1) * stride + 3)
                #expect(input.count * g.inWidth * channels <= bands.expandedFloats)
            }
        }
        #expect(bands.chunks.count == (g.outHeight >= 2 ? 2 : 1), "two workers share every block")
        let scratchBytes = (bands.expandedFloats + bands.depthwiseFloats) * 4
        #expect(scratchBytes <= InvertedResidualBands.scratchBudgetBytes || bands.bandRows == 1)
        let longestChunk = bands.chunks.map(\.count).max() ?? 0
        #expect(bands.bandRows == longestChunk || InvertedResidualBands.inputRows(forOutputRows: bands.bandRows + 1, g) * g.inWidth * channels * 4
            + (bands.bandRows + 1) * g.outWidth * channels * 4 > InvertedResidualBands.scratchBudgetBytes, "bands are as tall as the budget allows")
    }

    @Test func dilatedOrMultiplierDepthwiseLayersAreNotBanded() {
        var dilated = Self.depthwise(size: 56, channels: 32, stride: 1)
        dilated.dilationHeight = 2
        #expect(InvertedResidualBands(depthwise: dilated) == nil)
        var multiplier = Self.depthwise(size: 56, channels: 32, stride: 1)
        multiplier.outChannels = 64
        #expect(InvertedResidualBands(depthwise: multiplier) == nil)
    }

    // MARK: Fused blocks

    /// x [1, 16, H, W] → 1×1 to 96 + ReLU6 → depthwise 3×3 (stride) + ReLU6 → 1×1 to 16, plus x at
    /// stride 1: MobileNetV2's block, with an expanded tensor over the banding threshold.
    static func block(height: Int, width: Int, stride: Int, pads: [Int] = [1, 1, 1, 1], expandedIsAlsoAnOutput: Bool = false) -> ONNXModelBuilder {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 16, height, width])
        b.addInitializer("lo", Tensor(shape: [], scalars: [0]))
        b.addInitializer("hi", Tensor(shape: [], scalars: [6]))
        func relu6(_ v: String, _ name: String) -> String {
            b.addNode("Clip", inputs: [v, "lo", "hi"], outputs: [name])
            return name
        }
        let expanded = relu6(b.conv("x", weights: Tensor.random(shape: [96, 16, 1, 1], seed: 41), bias: Tensor.random(shape: [96], seed: 42)), "expanded")
        let filtered = relu6(b.conv(expanded, weights: Tensor.random(shape: [96, 1, 3, 3], seed: 43), bias: Tensor.random(shape: [96], seed: 44),
                                    strides: [stride, stride], pads: pads, group: 96), "filtered")
        let projected = b.conv(filtered, weights: Tensor.random(shape: [16, 96, 1, 1], seed: 45), bias: Tensor.random(shape: [16], seed: 46))
        b.addOutput(stride == 1 ? b.add(projected, "x") : projected)
        if expandedIsAlsoAnOutput { b.addOutput(expanded) }
        return b
    }

    static var unbanded: EngineOptions {
        var options = EngineOptions()
        options.bandsInvertedResiduals = false
        return options
    }

    /// (height, width, stride, pads): odd sizes, several bands per chunk (96 rows), and the
    /// asymmetric padding of TensorFlow's SAME at stride 2 (none above and left, one below and right).
    static let blockCases: [(Int, Int, Int, [Int])] = [(41, 37, 1, [1, 1, 1, 1]), (43, 39, 2, [1, 1, 1, 1]), (96, 40, 1, [1, 1, 1, 1]),
                                                       (42, 38, 2, [0, 0, 1, 1])]

    @Test(.requiresXNNPACK, .requiresPackedKernels, arguments: blockCases)
    func bandedBlocksMatchTheUnbandedPlanAndTheReference(height: Int, width: Int, stride: Int, pads: [Int]) throws {
        let b = Self.block(height: height, width: width, stride: stride, pads: pads)
        let banded = try load(b)
        let unbanded = try load(b, Self.unbanded)
        #expect(banded.convolutionKernels["xnnpack-banded"] == 3, "the three layers run as one banded block")
        #expect(banded.planLabels.map(\.opType).contains("InvertedResidual"))
        #expect(unbanded.convolutionKernels["xnnpack-banded"] == nil)
        #expect(banded.statistics.macs == unbanded.statistics.macs)
        #expect(banded.arenaBytes < unbanded.arenaBytes, "the expanded and filtered tensors get no arena slots")
        let one = try runRandom(banded)
        let reference = try runRandom(try load(b, EdgeArchitectureTests.plainReference))
        #expect(maxRelativeError(one, reference) < 1e-4)
        if stride == 1 {
            // Same kernels, same operations per output value.
            #expect(bits(one) == bits(try runRandom(unbanded)))
        } else {
            // Unbanded, the stride-2 depthwise layer runs on XNNPACK.
            #expect(maxRelativeError(one, try runRandom(unbanded)) < 1e-5)
        }
        var twoThreads = EngineOptions(threads: 2)
        twoThreads.bandsInvertedResiduals = true
        #expect(bits(one) == bits(try runRandom(try load(b, twoThreads))), "1 and 2 threads give the same bits")
        // Repeated runs: bands carried over from the run before must not leak into the next.
        #expect(bits(one) == bits(try runRandom(banded)))
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels)
    func blocksBelowTheThresholdOrWithAnotherReaderAreNotBanded() throws {
        // 24 × 24 × 96 floats: 221 KB expanded, below the threshold.
        #expect(try load(Self.block(height: 24, width: 24, stride: 1)).convolutionKernels["xnnpack-banded"] == nil)
        // The expanded tensor is also a graph output, so it must exist whole.
        let shared = try load(Self.block(height: 41, width: 37, stride: 1, expandedIsAlsoAnOutput: true))
        #expect(shared.convolutionKernels["xnnpack-banded"] == nil)
        #expect(shared.outputs.count == 2)
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels)
    func bandedBlocksReportTheirLayersToWeightsAndProfiles() throws {
        let b = Self.block(height: 41, width: 37, stride: 1)
        let banded = try load(b)
        let unbanded = try load(b, Self.unbanded)
        #expect(banded.weightLayers.map(\.description.nodeName) == unbanded.weightLayers.map(\.description.nodeName))
        #expect(banded.libraryWeightBytes > 0, "the block's own XNNPACK weights are measured")
        let steps = banded.profileSteps(runs: 2, warmupRuns: 1)
        #expect(steps.reduce(0) { $0 + $1.macs } == banded.statistics.macs)
        #expect(steps.contains { $0.opType == "InvertedResidual" && $0.kernel == "xnnpack-banded" })
    }

    // MARK: The NHWC depthwise kernel

    struct KernelCase: CustomTestStringConvertible, Sendable {
        var channels = 8, height = 37, width = 37, pad = 1, residual = false
        var testDescription: String { "c\(channels) \(height)×\(width) p\(pad)\(residual ? " +x" : "")" }
    }

    static let kernelCases: [KernelCase] = [
        KernelCase(),                                   // interior quads, a remainder pixel, both borders
        KernelCase(channels: 16, height: 5, width: 5),  // no full quad of interior pixels
        KernelCase(channels: 24, height: 9, width: 11, pad: 0),  // no border pixels
        KernelCase(height: 12, width: 20, pad: 2),      // two border pixels each side, rows all padding taps
        KernelCase(channels: 16, height: 14, width: 14, residual: true),  // fused residual Add
        KernelCase(height: 1, width: 3),                // one row: every tap row but one is padding
    ]

    /// x → 1×1 (so the depthwise layer is inside an NHWC run) → depthwise 3×3 stride 1 → ReLU6,
    /// optionally adding the 1×1's output before the clamp.
    static func depthwiseInRun(_ c: KernelCase) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(opset: 6)
        b.addInput("x", shape: [1, c.channels, c.height, c.width])
        let pointwise = b.conv("x", weights: Tensor.random(shape: [c.channels, c.channels, 1, 1], seed: 51))
        var y = b.conv(pointwise, weights: Tensor.random(shape: [c.channels, 1, 3, 3], seed: 52, in: -3...3),
                       bias: Tensor.random(shape: [c.channels], seed: 53), pads: [c.pad, c.pad, c.pad, c.pad], group: c.channels)
        if c.residual { y = b.add(y, pointwise) }
        b.addOutput(b.unary("Clip", y, attributes: ["min": .float(0), "max": .float(6)]))
        return b
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels, arguments: kernelCases)
    func nhwcDepthwiseKernelMatchesTheReference(_ c: KernelCase) throws {
        let b = Self.depthwiseInRun(c)
        let model = try load(b)
        #expect(model.convolutionKernels["depthwise-nhwc"] == 1)
        #expect(model.planLabels.count(where: { $0.opType == "Conv" }) == 2, "Add and Clip run in the depthwise step")
        let y = try runRandom(model)
        let reference = try runRandom(try load(b, EdgeArchitectureTests.plainReference))
        #expect(y.shape == reference.shape)
        #expect(maxRelativeError(y, reference) < 1e-5)
        if y.count >= 1000 { #expect(y.scalars.contains(0) && y.scalars.contains(6), "the clamp is exercised at both ends") }
        #expect(bits(y) == bits(try runRandom(try load(b, EngineOptions(threads: 2)))), "1 and 2 threads give the same bits")
    }

    @Test(.requiresXNNPACK, .requiresPackedKernels)
    func channelCountsOutsideGroupsOfEightStayOnXNNPACK() throws {
        let model = try load(Self.depthwiseInRun(KernelCase(channels: 12, height: 10, width: 10)))
        #expect(model.convolutionKernels["depthwise-nhwc"] == nil)
        #expect(model.convolutionKernels["xnnpack-depthwise"] == 1)
    }

    @Test func kernelShapesOutsideItsRangeAreRefused() {
        let shape = DepthwiseNHWCShape(inHeight: 8, inWidth: 8, outHeight: 8, outWidth: 8, channels: 16, stride: 1, padTop: 1, padLeft: 1)
        #expect(shape.isSupported)
        var odd = shape
        odd.channels = 12
        #expect(!odd.isSupported)
        var stride3 = shape
        stride3.stride = 3
        #expect(!stride3.isSupported)
        var wide = shape
        wide.padLeft = 3
        #expect(!wide.isSupported)
    }
}
