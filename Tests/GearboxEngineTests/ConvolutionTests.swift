// Tests for Conv: the im2col/sgemm path (tiled, row-panelled), the depthwise kernel and the
// fused epilogue, each against a direct-loop reference.

import GearboxCore
import Testing
@testable import GearboxEngine

@Suite struct ConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var batch = 1, channels = 3, size = 9, outChannels = 4, kernel = 3
        var stride = 1, pad = 1, dilation = 1, groups = 1
        var testDescription: String { "n\(batch) c\(channels) \(size)px m\(outChannels) k\(kernel) s\(stride) p\(pad) d\(dilation) g\(groups)" }
    }

    static let cases: [Case] = [
        Case(),
        Case(stride: 2, pad: 0),
        Case(size: 10, kernel: 5, stride: 2, pad: 2, dilation: 2),
        Case(batch: 2, channels: 4, outChannels: 6, groups: 2),
        Case(channels: 8, outChannels: 8, groups: 8),                 // depthwise
        Case(channels: 4, outChannels: 8, stride: 2, groups: 4),      // depthwise, multiplier 2
        Case(channels: 16, size: 7, outChannels: 32, kernel: 1, pad: 0), // pointwise: no im2col
        Case(channels: 32, size: 40, outChannels: 16, kernel: 3),     // several pixel tiles
        Case(channels: 128, size: 6, outChannels: 192, kernel: 3),    // row panels
        Case(channels: 24, size: 300, outChannels: 8, kernel: 3),     // several im2col blocks
        Case(channels: 1, size: 28, outChannels: 16, kernel: 3),      // one input channel (not depthwise)
        Case(channels: 3, size: 64, outChannels: 16, kernel: 7, stride: 2, pad: 3),          // XNNPACK row bands
        Case(channels: 8, size: 40, outChannels: 16, kernel: 5, stride: 2, pad: 2, dilation: 2), // bands, dilated
    ]

    @Test(arguments: cases)
    func matchesTheDirectReference(_ c: Case) throws {
        let w = Tensor.random(shape: [c.outChannels, c.channels / c.groups, c.kernel, c.kernel], seed: 2)
        let bias = Tensor.random(shape: [c.outChannels], seed: 3)
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [c.batch, c.channels, c.size, c.size])
        b.addOutput(b.conv("x", weights: w, bias: bias, strides: [c.stride, c.stride], pads: [c.pad, c.pad, c.pad, c.pad],
                           dilations: [c.dilation, c.dilation], group: c.groups))
        for (threads, kernel) in [(1, DenseConvolutionKernel.automatic), (2, .automatic), (1, .packed), (2, .packed), (1, .openBLAS), (2, .openBLAS)] {
            var options = EngineOptions(threads: threads)
            options.denseConvolutionKernel = kernel
            let model = try load(b, options)
            let x = Tensor.random(shape: [c.batch, c.channels, c.size, c.size], seed: 4)
            let y = try #require(try model.run(["x": x]).values.first)
            let expected = referenceConv(x, w, bias: bias.scalars, stride: (c.stride, c.stride), pads: (c.pad, c.pad, c.pad, c.pad),
                                         dilation: (c.dilation, c.dilation), groups: c.groups)
            #expect(y.shape == expected.shape)
            #expect(maxRelativeError(y, expected) < 1e-4, "\(kernel), \(threads) threads")
        }
    }

    @Test(.requiresXNNPACK) func automaticRunsDenseLayersOnXNNPACKAndPackedKeepsGearboxKernels() throws {
        // Layer by layer (no NHWC runs), 3×3/7×7 layers qualify; the first 1×1 stride-2
        // projection moves more floats than XNNPACK saves.
        var layerByLayer = EngineOptions()
        layerByLayer.plansNHWCRuns = false
        let automatic = try load(SyntheticModels.resNet(imageSize: 32, widths: [16, 32], classes: 10), layerByLayer)
        #expect((automatic.convolutionKernels["xnnpack"] ?? 0) >= 3)
        #expect((automatic.convolutionKernels["packed"] ?? 0) >= 1)
        // In an NHWC run there are no transposes to pay for: every layer of the run is XNNPACK's.
        let runs = try load(SyntheticModels.resNet(imageSize: 32, widths: [16, 32], classes: 10))
        #expect(runs.convolutionKernels["packed"] == nil)
        #expect(maxRelativeError(try runRandom(runs), try runRandom(automatic)) < 1e-4)
        var options = EngineOptions()
        options.denseConvolutionKernel = .packed
        let packed = try load(SyntheticModels.resNet(imageSize: 32, widths: [16, 32], classes: 10), options)
        #expect(packed.convolutionKernels["xnnpack"] == nil)
        #expect(maxRelativeError(try runRandom(automatic), try runRandom(packed)) < 1e-4)
    }

    @Test func rowBandsCoverTheOutputAndReadOnlyTheirInputRows() throws {
        var g = ConvGeometry(inChannels: 3, inHeight: 64, inWidth: 64, outChannels: 16, outHeight: 32, outWidth: 32,
                             kernelHeight: 7, kernelWidth: 7, strideHeight: 2, strideWidth: 2, padTop: 3, padLeft: 3, padBottom: 3, padRight: 3)
        let bands = try #require(XNNPACKConvolutionLayer.rowBands(g))
        #expect(bands.count > 1)
        #expect(bands.first?.rows.lowerBound == 0 && bands.last?.rows.upperBound == g.outHeight)
        for (a, b) in zip(bands, bands.dropFirst()) { #expect(a.rows.upperBound == b.rows.lowerBound) }
        for band in bands {
            // Each band is a convolution of its own whose output height is its row count.
            let height = (band.inputRows + band.padTop + band.padBottom - g.kernelHeight) / g.strideHeight + 1
            #expect(height == band.rows.count)
            #expect(band.firstInputRow >= 0 && band.firstInputRow + band.inputRows <= g.inHeight)
        }
        // The last window ends one row inside the declared bottom padding ((64 + 6 − 7) / 2 rounds down).
        #expect(bands.first?.padTop == 3 && bands.last?.padBottom == 2)
        g.batch = 2
        #expect(XNNPACKConvolutionLayer.rowBands(g) == nil, "batches keep whole-image operators")
    }

    @Test func narrowLayersSplitIntoRowBandsAtHalfTheWork() throws {
        // ResNet-8's half-width 3×3 layers: 16 channels at 16², 0.59 M multiply-accumulates, too
        // narrow for two channel ranges; two row bands let two workers share them.
        let narrow = ConvGeometry(inChannels: 16, inHeight: 16, inWidth: 16, outChannels: 16, outHeight: 16, outWidth: 16,
                                  kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        #expect(XNNPACKConvolutionLayer.channelRanges(narrow).count == 1)
        #expect(try #require(XNNPACKConvolutionLayer.rowBands(narrow)).count == 2)
        // The same work over 32 channels keeps one operator (below 400 K per band).
        var wide = narrow
        wide.outChannels = 32
        wide.outHeight = 12
        wide.outWidth = 12
        wide.inHeight = 12
        wide.inWidth = 12
        #expect(wide.macs < 800_000 && wide.macs > 400_000)
        #expect(XNNPACKConvolutionLayer.rowBands(wide) == nil)
    }

    @Test func channelRangesGiveTwoWorkersEqualShares() {
        // MobileNetV2's 576→96 projection at 14²: four ranges rounded to 16 channels would be
        // 32 + 32 + 32, which two workers share 2 : 1.
        let projection = ConvGeometry(inChannels: 576, inHeight: 14, inWidth: 14, outChannels: 96, outHeight: 14, outWidth: 14)
        #expect(XNNPACKConvolutionLayer.channelRanges(projection) == [0..<48, 48..<96])
        // Its 384-channel 3×3 depthwise layer at 14² (0.68 M multiply-accumulates) splits in four.
        var depthwise = ConvGeometry(inChannels: 384, inHeight: 14, inWidth: 14, outChannels: 384, outHeight: 14, outWidth: 14,
                                     kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        depthwise.groups = 384
        #expect(XNNPACKConvolutionLayer.channelRanges(depthwise) == [0..<96, 96..<192, 192..<288, 288..<384])
        // A dense layer with as many multiply-accumulates is one task.
        let small = ConvGeometry(inChannels: 48, inHeight: 7, inWidth: 7, outChannels: 64, outHeight: 7, outWidth: 7)
        #expect(XNNPACKConvolutionLayer.channelRanges(small).count == 1)
        // MobileNetV2's 64→384 expansion at 14² (4.8 M) takes 2; ResNet-18's 3×3 512→512 at 7² (116 M) 4.
        let expansion = ConvGeometry(inChannels: 64, inHeight: 14, inWidth: 14, outChannels: 384, outHeight: 14, outWidth: 14)
        #expect(XNNPACKConvolutionLayer.channelRanges(expansion) == [0..<192, 192..<384])
        let wide = ConvGeometry(inChannels: 512, inHeight: 7, inWidth: 7, outChannels: 512, outHeight: 7, outWidth: 7,
                                kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        #expect(XNNPACKConvolutionLayer.channelRanges(wide).count == 4)
        for m in stride(from: 16, through: 1024, by: 16) {
            let g = ConvGeometry(inChannels: 512, inHeight: 28, inWidth: 28, outChannels: m, outHeight: 28, outWidth: 28)
            let ranges = XNNPACKConvolutionLayer.channelRanges(g)
            #expect([1, 2, 4].contains(ranges.count), "\(m) channels: \(ranges.count) ranges")
            #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == m)
        }
    }

    @Test func packedWeightsUnpackToTheDenseMatrix() throws {
        let values = Tensor.random(shape: [13, 300], seed: 1)
        let packed = PackedDenseWeightMatrix(DenseWeightMatrix(rows: 13, columns: 300, values: values))
        #expect(packed.unpacked() == values.scalars)
    }

    @Test func packedWeightsUnpackToOHWIInOnePass() throws {
        // 13 output channels (a partial panel), 35 input channels × 3×3 = 315 columns (two blocks).
        let (m, c, area) = (13, 35, 9)
        let values = Tensor.random(shape: [m, c * area], seed: 3)
        let packed = PackedDenseWeightMatrix(DenseWeightMatrix(rows: m, columns: c * area, values: values))
        let ohwi = AlignedBuffer(count: m * c * area)
        packed.unpack(into: ohwi.baseAddress, regroupingColumns: c)
        let oihw = values.scalars
        var mismatches = 0
        for o in 0..<m {
            for i in 0..<c {
                for s in 0..<area where ohwi.baseAddress[(o * area + s) * c + i] != oihw[(o * c + i) * area + s] { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test(.requiresPackedKernels) func packedWeightsMultiplyLikeDenseOnAnyRowRange() throws {
        let dense = DenseWeightMatrix(rows: 13, columns: 300, values: Tensor.random(shape: [13, 300], seed: 1))
        let packed = PackedDenseWeightMatrix(dense)
        #expect(packed.formatName == "dense")
        let b = Tensor.random(shape: [300, 37], seed: 2)
        for range in [0..<13, 0..<6, 6..<13, 2..<11, 7..<8] {
            var expected = Tensor(zeros: [13, 37]), actual = Tensor(zeros: [13, 37])
            b.withUnsafeBufferPointer { pb in
                expected.withUnsafeMutableBufferPointer { dense.multiply(rows: range, pb.baseAddress!, ldb: 37, n: 37, into: $0.baseAddress!, ldc: 37) }
                actual.withUnsafeMutableBufferPointer { packed.multiply(rows: range, pb.baseAddress!, ldb: 37, n: 37, into: $0.baseAddress!, ldc: 37) }
            }
            #expect(maxRelativeError(actual, expected) < 1e-5, "rows \(range)")
        }
    }

    @Test func tilingSplitsLargeLayersAndKeepsSmallOnesWhole() {
        var g = ConvGeometry()
        g.inChannels = 64; g.outChannels = 64; g.inHeight = 56; g.inWidth = 56; g.outHeight = 56; g.outWidth = 56
        g.kernelHeight = 3; g.kernelWidth = 3; g.padTop = 1; g.padLeft = 1; g.padBottom = 1; g.padRight = 1
        let big = ConvTiling(geometry: g, rowSplittable: true)
        #expect(big.tiles > 1)
        #expect(big.blocks == 1)
        #expect(big.columnFloats(g) <= ConvTiling.columnBudgetFloats)
        g.inChannels = 1; g.outChannels = 4; g.inHeight = 4; g.inWidth = 4; g.outHeight = 4; g.outWidth = 4
        let small = ConvTiling(geometry: g, rowSplittable: true)
        #expect(small.tiles == 1 && small.panels == 1)
        // Few pixels, many channels: row panels give the threads work.
        g.inChannels = 512; g.outChannels = 512; g.inHeight = 7; g.inWidth = 7; g.outHeight = 7; g.outWidth = 7
        let deep = ConvTiling(geometry: g, rowSplittable: true)
        #expect(deep.tiles == 1 && deep.panels > 1)
        // Large layers are cut into blocks that fit the im2col budget.
        g.inChannels = 64; g.inHeight = 224; g.inWidth = 224; g.outHeight = 224; g.outWidth = 224
        let wide = ConvTiling(geometry: g, rowSplittable: true)
        #expect(wide.blocks > 1 && wide.columnFloats(g) <= ConvTiling.columnBudgetFloats)
    }

    @Test func autoPadSameUpperAndLowerPlaceTheOddPixel() {
        #expect(convolutionAxis(input: 5, kernel: 2, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, autoPad: "SAME_UPPER")! == (5, 0, 1))
        #expect(convolutionAxis(input: 5, kernel: 2, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, autoPad: "SAME_LOWER")! == (5, 1, 0))
        #expect(convolutionAxis(input: 5, kernel: 3, stride: 2, dilation: 1, padBegin: 0, padEnd: 0, autoPad: "VALID")! == (2, 0, 0))
        #expect(convolutionAxis(input: 2, kernel: 3, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, autoPad: "NOTSET") == nil)
    }
}

@Suite struct FusionTests {
    /// Conv+BN+ReLU, a residual block with a projection shortcut, Gemm+ReLU: fused and unfused agree.
    @Test func fusedAndUnfusedPlansAgree() throws {
        let builder = SyntheticModels.resNet(imageSize: 32, widths: [8, 16], blocksPerStage: 1, classes: 10)
        let fused = try load(builder)
        let plain = try load(builder, EngineOptions(fusesOperators: false))
        #expect(fused.statistics.stepCount < plain.statistics.stepCount)
        let a = try runRandom(fused), b = try runRandom(plain)
        #expect(maxRelativeError(a, b) < 1e-4)
    }

    @Test func batchNormFoldsIntoTheConvAndReluIntoItsEpilogue() throws {
        var b = ONNXModelBuilder()
        var rng = SplitMix64(seed: 1)
        b.addInput("x", shape: [1, 3, 8, 8])
        b.addOutput(SyntheticModels.convBNReLU(&b, "x", in: 3, out: 4, kernel: 3, stride: 1, rng: &rng))
        let model = try load(b)
        #expect(model.statistics.stepCount == 1)
        #expect(try runRandom(model).scalars.allSatisfy { $0 >= 0 })
    }

    @Test func aValueReadTwiceIsNotFusedAway() throws {
        // relu(conv) is an output, and conv's result also feeds an Add: the Relu must stay separate.
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 2, 4, 4])
        let c = b.conv("x", weights: Tensor.random(shape: [2, 2, 1, 1], seed: 1))
        let r = b.relu(c)
        b.addOutput(b.add(c, r))
        let fused = try load(b), plain = try load(b, EngineOptions(fusesOperators: false))
        #expect(bits(try runRandom(fused)) == bits(try runRandom(plain)))
    }
}
