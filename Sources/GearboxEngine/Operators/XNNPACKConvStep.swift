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
    /// 4 workers get equal shares), of at least 32 channels and 0.5 M multiply-accumulates,
    /// multiples of 16 channels (XNNPACK's AVX2 tile width). Layers with few pixels per weight
    /// (ResNet's last stage) stream their weights from memory; there 4 operators cost about the
    /// same as 2 single-threaded and let 2 workers share the stream more evenly (measured in
    /// the ResNet: 512→512 at 4×4, 2 threads, 0.63 → 0.57 ms).
    static func channelRanges(_ g: ConvGeometry) -> [Range<Int>] {
        let m = g.outChannels
        let wanted = max(1, min(4, g.macs / 500_000, m / 32))
        let even = wanted >= 3 ? 4 : wanted
        let per = ((m + even - 1) / even + 15) / 16 * 16
        return stride(from: 0, to: m, by: per).map { $0..<min(m, $0 + per) }
    }

    /// Packed weights at most this large are copied into one operator per row band.
    static let bandedWeightBytes = 64 * 1024
    /// Multiply-accumulates per row band, at least.
    static let bandMACs = 400_000
    static let maximumBands = 8

    /// Row bands of the output, one operator each over all channels: for single images whose
    /// weights are small enough to copy per band (the first 7×7 layer of a ResNet, small CNNs).
    /// Each band's NHWC output is still in cache when its task moves it back to NCHW, and small
    /// layers split into equal row bands where channel ranges would be too narrow.
    static func rowBands(_ g: ConvGeometry) -> [ConvRowBand]? {
        guard g.batch == 1, g.outChannels * g.reduction * 4 <= bandedWeightBytes else { return nil }
        // An even count, so that 2 (or 4) workers get equal shares (5 bands kept one of 2 workers
        // idle for a fifth of the layer).
        let count = min(maximumBands, g.outHeight, g.macs / bandMACs) & ~1
        guard count >= 2 else { return nil }
        let per = (g.outHeight + count - 1) / count
        var bands: [ConvRowBand] = []
        for start in stride(from: 0, to: g.outHeight, by: per) {
            guard let band = ConvRowBand(g, rows: start..<min(g.outHeight, start + per)) else { return nil }
            bands.append(band)
        }
        return bands
    }

    /// The layer's operators: (row band, channel range) pairs, band-major.
    static func tiles(_ g: ConvGeometry) -> [(band: ConvRowBand, channels: Range<Int>)] {
        if let bands = rowBands(g) { return bands.map { ($0, 0..<g.outChannels) } }
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
    convenience init?(_ g: ConvGeometry, weightsOIHW: UnsafePointer<Float>, bias: [Float]?) {
        let c = g.inChannels, kh = g.kernelHeight, kw = g.kernelWidth, m = g.outChannels
        self.init(g, bias: bias) { ohwi in
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
    convenience init?(_ g: ConvGeometry, packed: PackedDenseWeightMatrix, bias: [Float]?) {
        guard packed.rows == g.outChannels, packed.columns == g.reduction else { return nil }
        self.init(g, bias: bias) { packed.unpack(into: $0, regroupingColumns: g.inChannels) }
    }

    /// `fillOHWI` writes M × kH × kW × C floats, read by XNNPACK's packing and freed after it.
    init?(_ g: ConvGeometry, bias: [Float]?, fillOHWI: (UnsafeMutablePointer<Float>) -> Void) {
        guard XNNPACKSupport.isAvailable, g.groups == 1, !g.isDepthwise, g.outChannels > 0, g.inChannels > 0 else { return nil }
        let ohwi = AlignedBuffer(count: g.outChannels * g.reduction)
        fillOHWI(ohwi.baseAddress)
        var made: [XNNPACKConvolution] = []
        let biasBuffer = bias.map { AlignedBuffer(copying: $0) }
        for tile in Self.tiles(g) {
            guard let op = XNNPACKConvolution(g, weightsOHWI: UnsafePointer(ohwi.baseAddress),
                                              bias: biasBuffer.map { UnsafePointer($0.baseAddress) }, channels: tile.channels, band: tile.band)
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
            if n == Self.pixelBlock {
                // 4×4 tiles: four channel rows in, four pixel rows out.
                while channel + 4 <= c {
                    let s = source + channel * plane
                    var q = 0
                    while q < n {
                        let r0 = UnsafeRawPointer(s + q).loadUnaligned(as: SIMD4<Float>.self)
                        let r1 = UnsafeRawPointer(s + plane + q).loadUnaligned(as: SIMD4<Float>.self)
                        let r2 = UnsafeRawPointer(s + 2 * plane + q).loadUnaligned(as: SIMD4<Float>.self)
                        let r3 = UnsafeRawPointer(s + 3 * plane + q).loadUnaligned(as: SIMD4<Float>.self)
                        let d = UnsafeMutableRawPointer(destination + q * c + channel), rowBytes = c * 4
                        d.storeBytes(of: SIMD4(r0[0], r1[0], r2[0], r3[0]), as: SIMD4<Float>.self)
                        (d + rowBytes).storeBytes(of: SIMD4(r0[1], r1[1], r2[1], r3[1]), as: SIMD4<Float>.self)
                        (d + 2 * rowBytes).storeBytes(of: SIMD4(r0[2], r1[2], r2[2], r3[2]), as: SIMD4<Float>.self)
                        (d + 3 * rowBytes).storeBytes(of: SIMD4(r0[3], r1[3], r2[3], r3[3]), as: SIMD4<Float>.self)
                        q &+= 4
                    }
                    channel &+= 4
                }
            }
            while channel < c {
                let s = source + channel * plane
                var q = 0
                while q < n { destination[q &* c &+ channel] = s[q]; q &+= 1 }
                channel &+= 1
            }
            p0 += n
        }
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
