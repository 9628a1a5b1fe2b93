// Tests for the engine side of the NHWC depthwise kernel (`DepthwiseNHWCLayer`,
// `DepthwiseNHWCSplit`, `DepthwiseNHWCStep`): the task split covers every (row, channel) exactly
// once in parts of whole channel groups, depends on the shape alone and gives two workers equal
// shares; the layers the kernel does not handle are refused; and the step, run task by task in
// any order or on a pool of two workers, matches the scalar NHWC loop.

import GearboxKernels
import Testing
@testable import GearboxEngine

@Suite struct DepthwiseNHWCStepTests {
    /// A single-image 3×3 depthwise layer's geometry with symmetric padding.
    static func geometry(height: Int, width: Int, channels: Int, stride: Int = 1, pad: Int = 1) -> ConvGeometry {
        var g = ConvGeometry()
        g.inChannels = channels
        g.outChannels = channels
        g.groups = channels
        g.inHeight = height
        g.inWidth = width
        g.kernelHeight = 3
        g.kernelWidth = 3
        g.strideHeight = stride
        g.strideWidth = stride
        g.padTop = pad; g.padLeft = pad; g.padBottom = pad; g.padRight = pad
        g.outHeight = (height + 2 * pad - 3) / stride + 1
        g.outWidth = (width + 2 * pad - 3) / stride + 1
        return g
    }

    static func shape(outHeight: Int, channels: Int, width: Int = 9) -> DepthwiseNHWCShape {
        DepthwiseNHWCShape(inHeight: outHeight, inWidth: width, outHeight: outHeight, outWidth: width, channels: channels,
                           stride: 1, padTop: 1, padLeft: 1)
    }

    // MARK: The split

    @Test func tasksCoverEveryRowAndChannelExactlyOnce() {
        for outHeight in 1...70 {
            for channels in stride(from: 8, through: 104, by: 8) {
                let split = DepthwiseNHWCSplit(Self.shape(outHeight: outHeight, channels: channels))
                var hits = [Int](repeating: 0, count: outHeight * channels)
                var emptyTasks = 0
                for task in 0..<split.tasks {
                    let (rows, part) = split.task(task, outHeight: outHeight)
                    if rows.isEmpty || part.isEmpty { emptyTasks += 1 }
                    for row in rows where row >= 0 && row < outHeight {
                        for channel in part where channel >= 0 && channel < channels { hits[row * channels + channel] += 1 }
                    }
                    #expect(rows.lowerBound >= 0 && rows.upperBound <= outHeight, "\(outHeight) rows, \(channels) channels: task \(task) rows \(rows)")
                }
                #expect(hits.allSatisfy { $0 == 1 }, "\(outHeight) rows, \(channels) channels: some (row, channel) not computed exactly once")
                #expect(emptyTasks == 0, "\(outHeight) rows, \(channels) channels: \(emptyTasks) tasks have nothing to do")
            }
        }
    }

    @Test func channelPartsAreWholeGroupsOfEightAndNearlyEqual() {
        for outHeight in 1...40 {
            for channels in stride(from: 8, through: 200, by: 8) {
                let split = DepthwiseNHWCSplit(Self.shape(outHeight: outHeight, channels: channels))
                let parts = split.channelParts
                #expect(parts.count == 1 || parts.count == 2)
                #expect(parts.first?.lowerBound == 0 && parts.last?.upperBound == channels)
                #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                #expect(parts.allSatisfy { !$0.isEmpty && $0.lowerBound % 8 == 0 && $0.upperBound % 8 == 0 },
                        "\(outHeight) rows, \(channels) channels: \(parts)")
                if parts.count == 2 { #expect(abs(parts[0].count - parts[1].count) <= 8, "halves differ by at most one group") }
                if channels == 8 { #expect(parts == [0..<8], "one group cannot be halved") }
            }
        }
    }

    @Test func twoWorkersGetEqualSharesWheneverTheChannelsCanBeHalved() {
        for outHeight in 1...120 {
            for channels in [16, 24, 32, 96, 144, 960] {
                let split = DepthwiseNHWCSplit(Self.shape(outHeight: outHeight, channels: channels))
                #expect(split.rows.tasks <= 8, "at most 8 row ranges (\(outHeight) rows)")
                #expect(split.tasks % 2 == 0, "\(outHeight) rows, \(channels) channels: \(split.tasks) tasks")
            }
        }
        // MobileNetV2's 7² and 14² layers: an odd or small count of row ranges is cut into halves.
        #expect(DepthwiseNHWCSplit(Self.shape(outHeight: 7, channels: 960)).channelParts.count == 2)
        #expect(DepthwiseNHWCSplit(Self.shape(outHeight: 14, channels: 576)).channelParts.count == 2)
    }

    @Test(.requiresPackedKernels)
    func layersWithDifferentWeightsShareTheSplitOfTheirShape() throws {
        let g = Self.geometry(height: 14, width: 14, channels: 48)
        let one = try #require(DepthwiseNHWCLayer(g, weights: Tensor.random(shape: [48, 1, 3, 3], seed: 1), bias: nil))
        let two = try #require(DepthwiseNHWCLayer(g, weights: Tensor.random(shape: [48, 1, 3, 3], seed: 2),
                                                  bias: Tensor.random(shape: [48], seed: 3).scalars))
        #expect(one.split == two.split)
        #expect(one.split == DepthwiseNHWCSplit(one.shape))
        #expect(one.shape == DepthwiseNHWCShape(inHeight: 14, inWidth: 14, outHeight: 14, outWidth: 14, channels: 48, stride: 1, padTop: 1, padLeft: 1))
        #expect(one.split != DepthwiseNHWCSplit(Self.shape(outHeight: 56, channels: 48)), "a taller layer is split otherwise")
    }

    // MARK: The layers the kernel takes

    @Test(.requiresPackedKernels)
    func unsupportedLayersAreRefused() {
        let base = Self.geometry(height: 10, width: 10, channels: 16)
        let weights = Tensor.random(shape: [16, 1, 3, 3], seed: 5)
        #expect(DepthwiseNHWCLayer(base, weights: weights, bias: nil) != nil, "the control layer is accepted")
        #expect(DepthwiseNHWCLayer(Self.geometry(height: 10, width: 10, channels: 16, stride: 2, pad: 2), weights: weights, bias: nil) != nil)

        let twelve = Self.geometry(height: 10, width: 10, channels: 12)
        #expect(DepthwiseNHWCLayer(twelve, weights: Tensor.random(shape: [12, 1, 3, 3], seed: 5), bias: nil) == nil, "channels not a multiple of 8")
        var dilated = base
        dilated.dilationHeight = 2; dilated.dilationWidth = 2
        dilated.outHeight = 8; dilated.outWidth = 8
        #expect(DepthwiseNHWCLayer(dilated, weights: weights, bias: nil) == nil, "dilation")
        var rowDilated = base
        rowDilated.dilationWidth = 2
        #expect(DepthwiseNHWCLayer(rowDilated, weights: weights, bias: nil) == nil, "dilation in one direction")
        var fiveByFive = base
        fiveByFive.kernelHeight = 5; fiveByFive.kernelWidth = 5
        #expect(DepthwiseNHWCLayer(fiveByFive, weights: Tensor.random(shape: [16, 1, 5, 5], seed: 5), bias: nil) == nil, "5×5")
        var batch2 = base
        batch2.batch = 2
        #expect(DepthwiseNHWCLayer(batch2, weights: weights, bias: nil) == nil, "batch 2")
        var mixedStrides = base
        mixedStrides.strideWidth = 2
        #expect(DepthwiseNHWCLayer(mixedStrides, weights: weights, bias: nil) == nil, "different strides per direction")
        var stride3 = Self.geometry(height: 10, width: 10, channels: 16, stride: 3)
        stride3.strideWidth = 3
        #expect(DepthwiseNHWCLayer(stride3, weights: weights, bias: nil) == nil, "stride 3")
        var multiplier = base
        multiplier.outChannels = 32
        #expect(DepthwiseNHWCLayer(multiplier, weights: Tensor.random(shape: [32, 1, 3, 3], seed: 5), bias: nil) == nil, "two outputs per channel")
        var dense = base
        dense.groups = 1
        #expect(DepthwiseNHWCLayer(dense, weights: Tensor.random(shape: [16, 16, 3, 3], seed: 5), bias: nil) == nil, "not depthwise")
        let widePad = Self.geometry(height: 10, width: 10, channels: 16, pad: 3)
        #expect(DepthwiseNHWCLayer(widePad, weights: weights, bias: nil) == nil, "padding as wide as the filter")
        #expect(DepthwiseNHWCLayer(base, weights: Tensor.random(shape: [8, 1, 3, 3], seed: 5), bias: nil) == nil, "weights of another layer")
    }

    @Test(.requiresPackedKernels)
    func theLayerPacksItsWeightsAndOneZerosRow() throws {
        let g = Self.geometry(height: 6, width: 11, channels: 24, stride: 2)
        let weights = Tensor.random(shape: [24, 1, 3, 3], seed: 7)
        let bias = Tensor.random(shape: [24], seed: 8).scalars
        let layer = try #require(DepthwiseNHWCLayer(g, weights: weights, bias: bias))
        let packed = Array(layer.packed.buffer), w = weights.scalars
        #expect(packed.count >= 10 * 24)
        var layoutRight = true
        for c in 0..<24 {
            for tap in 0..<9 { layoutRight = layoutRight && packed[tap * 24 + c] == w[c * 9 + tap] }
            layoutRight = layoutRight && packed[9 * 24 + c] == bias[c]
        }
        #expect(layoutRight, "tap-major weights, then the bias")
        #expect(layer.zeros.count >= 11 * 24 && layer.zeros.buffer.allSatisfy { $0 == 0 })
        #expect(layer.bytes == (layer.packed.count + layer.zeros.count) * 4)
    }

    // MARK: The step

    struct StepCase: CustomTestStringConvertible, Sendable {
        var height: Int, width: Int, channels: Int, stride: Int, pad: Int, residual: Bool, lower: Float, upper: Float
        var testDescription: String { "\(height)×\(width)×\(channels) s\(stride) p\(pad)\(residual ? " +x" : "") [\(lower), \(upper)]" }
    }

    static let stepCases: [StepCase] = [
        StepCase(height: 7, width: 7, channels: 24, stride: 1, pad: 1, residual: true, lower: 0, upper: 6),  // halves of 16 and 8
        StepCase(height: 14, width: 14, channels: 32, stride: 2, pad: 1, residual: false, lower: 0, upper: 6),
        StepCase(height: 29, width: 13, channels: 8, stride: 1, pad: 1, residual: false, lower: -.infinity, upper: .infinity),
        StepCase(height: 20, width: 9, channels: 48, stride: 1, pad: 0, residual: true, lower: -1, upper: 1),
        StepCase(height: 3, width: 22, channels: 16, stride: 2, pad: 2, residual: false, lower: -.infinity, upper: 0.5),
    ]

    /// Runs the step for `c` with the given order of tasks (or on a pool of `threads` workers).
    static func runStep(_ c: StepCase, order: ((Int) -> [Int])? = nil, threads: Int = 1) throws -> (output: [Float], expected: [Float], split: DepthwiseNHWCSplit) {
        let g = geometry(height: c.height, width: c.width, channels: c.channels, stride: c.stride, pad: c.pad)
        let weights = Tensor.random(shape: [c.channels, 1, 3, 3], seed: 61)
        let bias = Tensor.random(shape: [c.channels], seed: 62).scalars
        let layer = try #require(DepthwiseNHWCLayer(g, weights: weights, bias: bias))
        let s = layer.shape
        let input = Tensor.random(shape: [s.inHeight * s.inWidth * s.channels], seed: 63, in: -2...2).scalars
        let outCount = s.outHeight * s.outWidth * s.channels
        let residual = c.residual ? Tensor.random(shape: [outCount], seed: 64).scalars : nil
        let x = UnsafeMutablePointer<Float>.allocate(capacity: input.count)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: outCount)
        let r = UnsafeMutablePointer<Float>.allocate(capacity: outCount)
        defer { x.deallocate(); y.deallocate(); r.deallocate() }
        x.initialize(from: input, count: input.count)
        y.initialize(repeating: .nan, count: outCount)
        r.initialize(from: residual ?? [Float](repeating: 0, count: outCount), count: outCount)
        let step = DepthwiseNHWCStep(layer: layer, input: x, output: y, residual: residual == nil ? nil : UnsafePointer(r),
                                     bounds: (c.lower, c.upper))
        if let order {
            for task in order(layer.split.tasks) { step.perform(task: task, worker: 0) }
        } else {
            step.execute(WorkerPool(workerCount: threads, pinning: nil))
        }
        let expected = referenceDepthwiseNHWC(s, input: input, oihw: weights.scalars, bias: bias, residual: residual, lower: c.lower, upper: c.upper)
        return (Array(UnsafeBufferPointer(start: y, count: outCount)), expected, layer.split)
    }

    @Test(.requiresPackedKernels, arguments: stepCases)
    func theStepMatchesTheScalarLoopInAnyTaskOrder(_ c: StepCase) throws {
        let forward = try Self.runStep(c, order: { Array(0..<$0) })
        #expect(!forward.output.contains { $0.isNaN }, "every output is written")
        #expect(maxRelativeDifference(forward.output, forward.expected) < 1e-5)
        let backward = try Self.runStep(c, order: { Array((0..<$0).reversed()) })
        #expect(backward.output.map(\.bitPattern) == forward.output.map(\.bitPattern))
        let pooled = try Self.runStep(c, threads: 2)
        #expect(pooled.output.map(\.bitPattern) == forward.output.map(\.bitPattern), "two workers give the same bits")
        if c.height == 7 && c.channels == 24 { #expect(forward.split.channelParts == [0..<16, 16..<24]) }
    }
}
