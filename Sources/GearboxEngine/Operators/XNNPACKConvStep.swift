// GearboxEngine/XNNPACKConvStep: dense, ungrouped convolutions on XNNPACK. The engine's tensors
// are NCHW and XNNPACK's are NHWC, so the step converts at the layer boundary: (1) the input is
// transposed into shared scratch by pixel-range tasks, (2) each task runs one XNNPACK operator
// for a fixed range of output channels or output rows (bias included) and transposes its outputs
// back to NCHW while applying the residual Add and activation. The ranges depend only on the
// layer's shape, so every output element is computed by the same operator for any thread count.

/// XNNPACK operators of one layer, one per (row band, output-channel range), created once at load.
final class XNNPACKConvolutionLayer {
    let chunks: [XNNPACKConvolution]

    /// Heap bytes XNNPACK holds for this layer's weights (packed at creation), measured.
    var packedBytes: Int { chunks.reduce(0) { $0 + $1.packedBytes } }
    /// Heap bytes XNNPACK added when the operators were bound (indirection buffers), measured.
    var bindingBytes: Int { chunks.reduce(0) { $0 + $1.bindingBytes } }

    /// Output-channel ranges, one XNNPACK operator (and one task) each: 1, 2 or 4 (so that 2 or
    /// 4 workers get equal shares), of at least 32 channels and `macsPerRange`
    /// multiply-accumulates, multiples of 16 channels (XNNPACK's AVX2 tile width). Layers with few
    /// pixels per weight (ResNet's last stage) stream their weights from memory; there 4 operators
    /// cost about the same as 2 single-threaded and let 2 workers share the stream more evenly.
    /// Dense layers below `fourRangeMACs` (MobileNetV2's 1×1 layers at 14² and 7²) take 2: each
    /// operator re-reads the whole input, and 4 were a little slower at 1 and 2 threads.
    static func channelRanges(_ g: ConvGeometry) -> [Range<Int>] {
        let m = g.outChannels
        let wanted = max(1, min(4, g.macs / macsPerRange(g), m / 32))
        var count = wanted >= 3 && (g.isDepthwise || g.macs >= fourRangeMACs) ? 4 : min(wanted, 2)
        var per = ((m + count - 1) / count + 15) / 16 * 16
        // Rounding to 16 channels can leave 3 ranges of 4 (96 channels: 32 + 32 + 32), which 2
        // workers share 2 : 1; take 2 then.
        if (m + per - 1) / per == 3 {
            count = 2
            per = ((m + 1) / 2 + 15) / 16 * 16
        }
        return stride(from: 0, to: m, by: per).map { $0..<min(m, $0 + per) }
    }

    /// Depthwise layers do 9 multiply-accumulates per value they read, so a share of a small one
    /// is worth a task sooner than a share of a dense layer (MobileNetV2's 14² and 7² depthwise
    /// layers ran slower on 2 workers as one task than on 1).
    static func macsPerRange(_ g: ConvGeometry) -> Int { g.isDepthwise ? 150_000 : 500_000 }
    static let fourRangeMACs = 16_000_000

    /// Packed weights at most this large are copied into one operator per row band.
    static let bandedWeightBytes = 64 * 1024
    /// Multiply-accumulates per row band, at least; half that for layers narrower than one
    /// channel range (32 channels), which have no other way to share two workers.
    static func bandMACs(_ g: ConvGeometry) -> Int { g.outChannels < 32 ? 200_000 : 400_000 }
    static let maximumBands = 8

    /// Row bands of the output, one operator each over all channels: for single images whose
    /// weights are small enough to copy per band (the first 7×7 layer of a ResNet, small CNNs).
    /// Each band's NHWC output is still in cache when its task moves it back to NCHW, and small
    /// layers split into equal row bands where channel ranges would be too narrow.
    static func rowBands(_ g: ConvGeometry) -> [ConvRowBand]? {
        guard g.batch == 1, g.outChannels * g.reduction * 4 <= bandedWeightBytes else { return nil }
        // An even count, so that 2 (or 4) workers get equal shares (5 bands kept one of 2 workers
        // idle for a fifth of the layer).
        let count = min(maximumBands, g.outHeight, g.macs / bandMACs(g)) & ~1
        guard count >= 2 else { return nil }
        let per = (g.outHeight + count - 1) / count
        var bands: [ConvRowBand] = []
        for start in stride(from: 0, to: g.outHeight, by: per) {
            guard let band = ConvRowBand(g, rows: start..<min(g.outHeight, start + per)) else { return nil }
            bands.append(band)
        }
        return bands
    }

    /// The layer's operators: (row band, channel range) pairs, band-major. A depthwise layer
    /// with a channel multiplier above 1 that is not split in bands runs as one operator (its
    /// channel ranges would have to hold whole groups).
    static func tiles(_ g: ConvGeometry) -> [(band: ConvRowBand, channels: Range<Int>)] {
        if let bands = rowBands(g) { return bands.map { ($0, 0..<g.outChannels) } }
        if g.isDepthwise && g.outChannelsPerGroup > 1 { return [(ConvRowBand(g), 0..<g.outChannels)] }
        return channelRanges(g).map { (ConvRowBand(g), $0) }
    }

    /// The documented rule for `automatic`: XNNPACK where its speed pays for the two layout
    /// transposes, i.e. at least 32 multiply-accumulates per float moved (every 3×3 and 7×7
    /// layer of the ResNet, its deeper 1×1 stride-2 projections and the Fashion-MNIST CNN's
    /// second conv); layers below that (the first 1×1 stride-2 projection, which reads a quarter
    /// of the pixels it would transpose, and the one-channel first conv) stay on Gearbox's
    /// packed kernels, which read NCHW directly and measured faster there.
    static func pays(for g: ConvGeometry) -> Bool {
        let moved = g.batch * (g.inChannels * g.inHeight * g.inWidth + g.outChannels * g.pixels)
        return g.macs >= 32 * max(moved, 1)
    }

    /// - Parameter weightsOIHW: M × C × kH × kW (ONNX layout); nil if XNNPACK cannot run the layer.
    convenience init?(_ g: ConvGeometry, weightsOIHW: UnsafePointer<Float>, bias: [Float]?,
                      outputBounds: (lower: Float, upper: Float) = (-.infinity, .infinity)) {
        let c = g.inChannels, kh = g.kernelHeight, kw = g.kernelWidth, m = g.outChannels
        self.init(g, bias: bias, outputBounds: outputBounds) { ohwi in
            for o in 0..<m {
                for i in 0..<c {
                    for y in 0..<kh {
                        for x in 0..<kw { ohwi[((o * kh + y) * kw + x) * c + i] = weightsOIHW[((o * c + i) * kh + y) * kw + x] }
                    }
                }
            }
        }
    }

    /// From Gearbox's panel layout (a packed file's section or an ONNX load's packed matrix),
    /// regrouped to OHWI in one pass without an intermediate OIHW copy.
    convenience init?(_ g: ConvGeometry, packed: PackedDenseWeightMatrix, bias: [Float]?,
                      outputBounds: (lower: Float, upper: Float) = (-.infinity, .infinity)) {
        guard packed.rows == g.outChannels, packed.columns == g.reduction else { return nil }
        self.init(g, bias: bias, outputBounds: outputBounds) { packed.unpack(into: $0, regroupingColumns: g.inChannels) }
    }

    /// `fillOHWI` writes M × kH × kW × C floats, read by XNNPACK's packing and freed after it.
    /// `outputBounds` is the clamp XNNPACK applies (NHWC runs fuse ReLU/ReLU6 this way).
    init?(_ g: ConvGeometry, bias: [Float]?, outputBounds: (lower: Float, upper: Float) = (-.infinity, .infinity),
          fillOHWI: (UnsafeMutablePointer<Float>) -> Void) {
        guard XNNPACKSupport.isAvailable, g.groups == 1, !g.isDepthwise, g.outChannels > 0, g.inChannels > 0 else { return nil }
        let ohwi = AlignedBuffer(count: g.outChannels * g.reduction)
        fillOHWI(ohwi.baseAddress)
        guard let made = Self.operators(g, weights: UnsafePointer(ohwi.baseAddress), bias: bias, outputBounds: outputBounds) else { return nil }
        chunks = made
    }

    /// A depthwise layer (any channel multiplier) from its [M, 1, kH, kW] weights.
    init?(depthwise g: ConvGeometry, weights: UnsafePointer<Float>, bias: [Float]?, outputBounds: (lower: Float, upper: Float)) {
        guard XNNPACKSupport.isAvailable, g.isDepthwise, g.outChannels > 0 else { return nil }
        guard let made = Self.operators(g, weights: weights, bias: bias, outputBounds: outputBounds) else { return nil }
        chunks = made
    }

    private static func operators(_ g: ConvGeometry, weights: UnsafePointer<Float>, bias: [Float]?,
                                  outputBounds: (lower: Float, upper: Float)) -> [XNNPACKConvolution]? {
        let biasBuffer = bias.map { AlignedBuffer(copying: $0) }
        var made: [XNNPACKConvolution] = []
        for tile in tiles(g) {
            guard let op = XNNPACKConvolution(g, weights: weights, bias: biasBuffer.map { UnsafePointer($0.baseAddress) },
                                              channels: tile.channels, band: tile.band, outputBounds: outputBounds)
            else { return nil }
            made.append(op)
        }
        return made
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
        transposeSplit = LayoutTranspose.split(pixels: geometry.batch * geometry.inHeight * geometry.inWidth, channels: geometry.inChannels)
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
        let first = task * transposeSplit.perTask
        let last = min(g.batch * g.inHeight * g.inWidth, first + transposeSplit.perTask)
        LayoutTranspose.toNHWC(UnsafePointer(input), inputNHWC, channels: g.inChannels, plane: g.inHeight * g.inWidth, pixels: first..<last)
    }

    /// Runs one (band, channel range) operator, then moves its outputs back to NCHW while they
    /// are still in cache.
    private func convolve(chunk: Int) {
        let op = layer.chunks[chunk]
        op.run()
        let m = g.outChannels, plane = g.pixels
        let firstPixel = op.band.rows.lowerBound * g.outWidth
        let count = op.band.rows.upperBound * g.outWidth - firstPixel
        // Channel-major: four channels' runs over all of the band's pixels at a time, so that the
        // NCHW writes form four sequential streams and each run gets its epilogue while in L1.
        for image in 0..<g.batch {
            let source = outputNHWC + (image * plane + firstPixel) * m
            var first = op.channels.lowerBound
            if m % 4 == 0 {
                let vectorPixels = count & ~3
                while first + 4 <= op.channels.upperBound {
                    let out = output + (image * m + first) * plane + firstPixel
                    var q = 0
                    while q < vectorPixels {
                        // 4×4 tile: four pixel rows in, four channel rows out.
                        let s = UnsafeRawPointer(source + q * m + first), rowBytes = m * 4
                        let r0 = s.loadUnaligned(as: SIMD4<Float>.self)
                        let r1 = (s + rowBytes).loadUnaligned(as: SIMD4<Float>.self)
                        let r2 = (s + 2 * rowBytes).loadUnaligned(as: SIMD4<Float>.self)
                        let r3 = (s + 3 * rowBytes).loadUnaligned(as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(out + q).storeBytes(of: SIMD4(r0[0], r1[0], r2[0], r3[0]), as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(out + plane + q).storeBytes(of: SIMD4(r0[1], r1[1], r2[1], r3[1]), as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(out + 2 * plane + q).storeBytes(of: SIMD4(r0[2], r1[2], r2[2], r3[2]), as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(out + 3 * plane + q).storeBytes(of: SIMD4(r0[3], r1[3], r2[3], r3[3]), as: SIMD4<Float>.self)
                        q &+= 4
                    }
                    while q < count {
                        let s = source + q * m + first
                        out[q] = s[0]; out[plane + q] = s[1]; out[2 * plane + q] = s[2]; out[3 * plane + q] = s[3]
                        q &+= 1
                    }
                    if !epilogue.isEmpty {
                        for channel in first..<(first + 4) {
                            let offset = (image * m + channel) * plane + firstPixel
                            epilogue.apply(row: output + offset, count: count, channel: channel, offset: offset)
                        }
                    }
                    first += 4
                }
            }
            for channel in first..<op.channels.upperBound {
                let offset = (image * m + channel) * plane + firstPixel
                let row = output + offset
                var q = 0
                while q < count { row[q] = source[q &* m &+ channel]; q &+= 1 }
                if !epilogue.isEmpty { epilogue.apply(row: row, count: count, channel: channel, offset: offset) }
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
