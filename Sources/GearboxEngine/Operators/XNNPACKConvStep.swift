// GearboxEngine/XNNPACKConvStep: dense, ungrouped convolutions on XNNPACK. The engine's tensors
// are NCHW and XNNPACK's are NHWC, so the step converts at the layer boundary: (1) the input is
// transposed into shared scratch by pixel-range tasks, (2) each task runs one XNNPACK operator
// for a fixed range of output channels (bias included) and transposes its channels back to NCHW
// while applying the residual Add and activation. The channel ranges depend only on the layer's
// shape, so every output element is computed by the same operator for any thread count.

/// XNNPACK operators of one layer, one per output-channel range, created once at load.
final class XNNPACKConvolutionLayer {
    let chunks: [XNNPACKConvolution]

    /// Output-channel ranges: multiples of 16 channels (XNNPACK's AVX2 tile width), about one
    /// per million multiply-accumulates, at most 8.
    static func channelRanges(_ g: ConvGeometry) -> [Range<Int>] {
        let m = g.outChannels
        let wanted = min(8, max(1, g.macs / 1_000_000), max(1, m / 16))
        let per = ((m + wanted - 1) / wanted + 15) / 16 * 16
        return stride(from: 0, to: m, by: per).map { $0..<min(m, $0 + per) }
    }

    /// - Parameter weightsOIHW: M × C × kH × kW (ONNX layout); nil if XNNPACK cannot run the layer.
    init?(_ g: ConvGeometry, weightsOIHW: UnsafePointer<Float>, bias: [Float]?) {
        guard XNNPACKSupport.isAvailable, g.groups == 1, !g.isDepthwise, g.outChannels > 0, g.inChannels > 0 else { return nil }
        let c = g.inChannels, kh = g.kernelHeight, kw = g.kernelWidth, m = g.outChannels
        let ohwi = AlignedBuffer(count: m * kh * kw * c)
        for o in 0..<m {
            for i in 0..<c {
                for y in 0..<kh {
                    for x in 0..<kw { ohwi.baseAddress[((o * kh + y) * kw + x) * c + i] = weightsOIHW[((o * c + i) * kh + y) * kw + x] }
                }
            }
        }
        var made: [XNNPACKConvolution] = []
        let biasBuffer = bias.map { AlignedBuffer(copying: $0) }
        for range in Self.channelRanges(g) {
            guard let op = XNNPACKConvolution(g, weightsOHWI: UnsafePointer(ohwi.baseAddress),
                                              bias: biasBuffer.map { UnsafePointer($0.baseAddress) }, channels: range)
            else { return nil }
            made.append(op)
        }
        chunks = made
    }

    /// Shared scratch: the NHWC input and the NHWC output, each rounded to 16 floats.
    static func sharedFloats(_ g: ConvGeometry) -> Int {
        let input = (g.batch * g.inChannels * g.inHeight * g.inWidth + 15) / 16 * 16
        return input + g.batch * g.outChannels * g.pixels
    }
}

final class XNNPACKConvStep: ExecutionStep, ParallelWork {
    let g: ConvGeometry
    let layer: XNNPACKConvolutionLayer
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    /// Residual and activation (the bias is XNNPACK's).
    let epilogue: Epilogue
    let inputNHWC: UnsafeMutablePointer<Float>
    let outputNHWC: UnsafeMutablePointer<Float>
    let transposeSplit: (tasks: Int, perTask: Int)
    private var transposing = false

    /// Pixels per transpose block: a block of NHWC rows stays in L1 while its channels are visited.
    static let pixelBlock = 32

    /// Nil when XNNPACK refuses the addresses (the caller then uses Gearbox's kernels).
    init?(geometry: ConvGeometry, layer: XNNPACKConvolutionLayer, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
          epilogue: Epilogue, shared: UnsafeMutablePointer<Float>) {
        g = geometry
        self.layer = layer
        self.input = input
        self.output = output
        self.epilogue = epilogue
        inputNHWC = shared
        outputNHWC = shared + (geometry.batch * geometry.inChannels * geometry.inHeight * geometry.inWidth + 15) / 16 * 16
        let inPixels = geometry.batch * geometry.inHeight * geometry.inWidth
        transposeSplit = taskSplit(inPixels, grain: max(Self.pixelBlock, 32_768 / max(geometry.inChannels, 1) / Self.pixelBlock * Self.pixelBlock))
        for op in layer.chunks {
            guard op.bind(geometry, input: UnsafePointer(inputNHWC), output: outputNHWC) else { return nil }
        }
    }

    func execute(_ pool: WorkerPool) {
        transposing = true
        pool.parallelFor(transposeSplit.tasks, self)
        transposing = false
        pool.parallelFor(layer.chunks.count, self)
    }

    func perform(task: Int, worker: Int) {
        if transposing { transposeIn(task: task) } else { convolve(chunk: task) }
    }

    /// NCHW → NHWC for a range of (image, pixel) positions.
    private func transposeIn(task: Int) {
        let plane = g.inHeight * g.inWidth, c = g.inChannels
        let first = task * transposeSplit.perTask
        let last = min(g.batch * plane, first + transposeSplit.perTask)
        var p0 = first
        while p0 < last {
            let image = p0 / plane, q0 = p0 % plane
            let n = min(Self.pixelBlock, last - p0, plane - q0)
            let source = input + image * c * plane + q0
            let destination = inputNHWC + p0 * c
            var channel = 0
            while channel < c {
                let s = source + channel * plane
                var q = 0
                while q < n { destination[q &* c &+ channel] = s[q]; q &+= 1 }
                channel &+= 1
            }
            p0 += n
        }
    }

    /// Runs one channel range's operator, then moves those channels back to NCHW.
    private func convolve(chunk: Int) {
        let op = layer.chunks[chunk]
        op.run()
        let m = g.outChannels, plane = g.pixels
        for image in 0..<g.batch {
            var q0 = 0
            while q0 < plane {
                let n = min(Self.pixelBlock, plane - q0)
                let source = outputNHWC + (image * plane + q0) * m
                for channel in op.channels {
                    let offset = (image * m + channel) * plane + q0
                    let row = output + offset
                    var q = 0
                    while q < n { row[q] = source[q &* m &+ channel]; q &+= 1 }
                    if !epilogue.isEmpty { epilogue.apply(row: row, count: n, channel: channel, offset: offset) }
                }
                q0 += n
            }
        }
    }
}

/// A step that owns its scratch (a fallback when a layer planned for XNNPACK cannot bind).
final class OwningStep: ExecutionStep {
    let inner: any ExecutionStep
    let storage: AlignedBuffer
    init(_ inner: any ExecutionStep, storage: AlignedBuffer) {
        self.inner = inner
        self.storage = storage
    }
    func execute(_ pool: WorkerPool) { inner.execute(pool) }
}
