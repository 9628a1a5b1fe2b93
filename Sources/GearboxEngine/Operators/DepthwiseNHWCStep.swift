// GearboxEngine/DepthwiseNHWCStep: a 3×3 depthwise convolution inside an NHWC run on
// GearboxKernels' NHWC kernel (`depthwiseNHWCRow`), which keeps each channel group's weights in
// registers across a row and shares input loads between neighbouring pixels. Tasks are fixed
// ranges of output rows, so results do not depend on the thread count.

import GearboxKernels

/// The layer's weights in the kernel's layout, made once at load.
final class DepthwiseNHWCLayer {
    let shape: DepthwiseNHWCShape
    let packed: AlignedBuffer
    /// One input row of zeros, which taps in the padding read.
    let zeros: AlignedBuffer

    /// Nil unless the kernel handles the layer: one image, 3×3, no dilation, one output channel
    /// per input channel, channels a multiple of 8, stride 1 or 2 in both directions, and a CPU
    /// with the kernels' SIMD.
    init?(_ g: ConvGeometry, weights: Tensor, bias: [Float]?) {
        let shape = DepthwiseNHWCShape(inHeight: g.inHeight, inWidth: g.inWidth, outHeight: g.outHeight, outWidth: g.outWidth,
                                       channels: g.outChannels, stride: g.strideHeight, padTop: g.padTop, padLeft: g.padLeft)
        guard KernelSupport.packedKernelsAvailable, g.batch == 1, g.isDepthwise, g.outChannelsPerGroup == 1,
              g.kernelHeight == 3, g.kernelWidth == 3, g.dilationHeight == 1, g.dilationWidth == 1,
              g.strideWidth == g.strideHeight, shape.isSupported, weights.count == 9 * g.outChannels
        else { return nil }
        self.shape = shape
        packed = AlignedBuffer(count: 10 * g.outChannels)
        zeros = AlignedBuffer(count: g.inWidth * g.outChannels)
        let biasBuffer = bias.map { AlignedBuffer(copying: $0) }
        weights.withUnsafeBufferPointer { w in
            guard let base = w.baseAddress else { return }  // count checked above: never nil
            packDepthwiseNHWCWeights(oihw: base, bias: biasBuffer.map { UnsafePointer($0.baseAddress) }, channels: g.outChannels,
                                     into: packed.baseAddress)
        }
    }

    var bytes: Int { (packed.count + zeros.count) * 4 }

    /// Tasks: ranges of output rows (8 at most), each cut into channel halves when that leaves
    /// an odd or small count of row ranges (MobileNetV2's 7² and 14² layers), so that 2 workers
    /// get equal shares. From the shape alone, so results do not depend on the thread count.
    var split: DepthwiseNHWCSplit { DepthwiseNHWCSplit(shape) }
}

struct DepthwiseNHWCSplit: Equatable {
    let rows: (tasks: Int, perTask: Int)
    /// 1 or 2 channel parts, multiples of 8 channels.
    let channelParts: [Range<Int>]
    var tasks: Int { rows.tasks * channelParts.count }

    init(_ shape: DepthwiseNHWCShape) {
        rows = taskSplit(shape.outHeight, grain: max(1, (shape.outHeight + 7) / 8))
        let c = shape.channels
        if (rows.tasks < 8 || rows.tasks % 2 == 1) && c >= 16 {
            let half = (c / 8 + 1) / 2 * 8
            channelParts = [0..<half, half..<c]
        } else {
            channelParts = [0..<c]
        }
    }

    /// Output rows and channels of task `task`.
    func task(_ task: Int, outHeight: Int) -> (rows: Range<Int>, channels: Range<Int>) {
        let first = (task / channelParts.count) * rows.perTask
        return (first..<min(outHeight, first + rows.perTask), channelParts[task % channelParts.count])
    }

    static func == (a: Self, b: Self) -> Bool { a.rows == b.rows && a.channelParts == b.channelParts }
}

final class DepthwiseNHWCStep: ExecutionStep, ParallelWork {
    let layer: DepthwiseNHWCLayer
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let residual: UnsafePointer<Float>?
    let bounds: (lower: Float, upper: Float)
    private let split: DepthwiseNHWCSplit

    init(layer: DepthwiseNHWCLayer, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
         residual: UnsafePointer<Float>?, bounds: (lower: Float, upper: Float)) {
        self.layer = layer
        self.input = input
        self.output = output
        self.residual = residual
        self.bounds = bounds
        split = layer.split
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(split.tasks, self) }

    func perform(task: Int, worker: Int) {
        let s = layer.shape, rowFloats = s.outWidth * s.channels
        let (rows, channels) = split.task(task, outHeight: s.outHeight)
        for oy in rows {
            depthwiseNHWCRow(s, oy: oy, input: input, weights: UnsafePointer(layer.packed.baseAddress),
                             zeros: UnsafePointer(layer.zeros.baseAddress), output: output + oy * rowFloats,
                             residual: residual.map { $0 + oy * rowFloats }, lower: bounds.lower, upper: bounds.upper, channels: channels)
        }
    }
}
