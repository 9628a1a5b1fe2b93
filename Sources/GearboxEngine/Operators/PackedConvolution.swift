// GearboxEngine/PackedConvolution: the fast path for dense convolutions. Weights are packed once
// at load into 6-row panels ([k][6], blocked by 256 columns: the micro-kernel's layout), so they
// are never repacked per call as a BLAS would; the micro-kernel (GearboxKernels) reads
// 16-pixel strips straight from the im2col rows (or from the input for 1×1 convolutions) and
// keeps a 6×16 block of C in registers.

import GearboxKernels

/// Panel height of the packed kernels, for tiling decisions.
let packedPanelRowsForTiling = packedPanelRows

/// The `dense` format in micro-kernel layout: rows packed in panels of 6 as [k][6] (zero-padded),
/// so kernels never repack weights. Convolutions use it directly; `multiply` makes it a
/// `WeightMatrix` like any other (used for Gemm layers and tests).
public struct PackedDenseWeightMatrix: RowRangeMultiplying {
    public let rows: Int
    public let columns: Int
    let panels: Int
    let storage: AlignedBuffer

    /// Packs `dense`. Only valid where `PackedDenseWeightMatrix.isSupported`.
    ///
    /// Layout: reduction blocks of `reductionBlock` columns one after another; inside a block,
    /// panel after panel, each [kLen][6]. A kernel sweeping all panels of one block then reads
    /// the weights as one sequential stream.
    public init(_ dense: DenseWeightMatrix) {
        rows = dense.rows
        columns = dense.columns
        panels = (dense.rows + packedPanelRows - 1) / packedPanelRows
        storage = AlignedBuffer(count: max(1, panels * columns * packedPanelRows))
        let p = storage.baseAddress
        let block = Self.reductionBlock
        dense.withUnsafeValues { values in
            for row in 0..<rows {
                let panel = row / packedPanelRows, lane = row % packedPanelRows
                for k in 0..<columns {
                    let k0 = k / block * block, length = min(block, columns - k0)
                    p[k0 * panels * packedPanelRows + (panel * length + (k - k0)) * packedPanelRows + lane] = values[row * columns + k]
                }
            }
        }
    }

    /// Wraps panels already in this layout (a packed file's section; `storage` holds
    /// `storageCount(rows:columns:)` floats).
    init(rows: Int, columns: Int, storage: AlignedBuffer) {
        self.rows = rows
        self.columns = columns
        panels = (rows + packedPanelRows - 1) / packedPanelRows
        self.storage = storage
    }

    /// The matrix back in row-major order (rows × columns), e.g. for another library to pack.
    func unpacked() -> [Float] {
        var values = [Float](repeating: 0, count: rows * columns)
        let p = storage.baseAddress, block = Self.reductionBlock
        for row in 0..<rows {
            let panel = row / packedPanelRows, lane = row % packedPanelRows
            for k in 0..<columns {
                let k0 = k / block * block, length = min(block, columns - k0)
                values[row * columns + k] = p[k0 * panels * packedPanelRows + (panel * length + (k - k0)) * packedPanelRows + lane]
            }
        }
        return values
    }

    /// Writes the rows into `destination` (rows × columns floats) with each row's columns
    /// regrouped from [group][area] to [area][group] (`columns` = groups × area): a Conv's OIHW
    /// rows become OHWI, XNNPACK's input layout, in one pass that reads the panels sequentially.
    func unpack(into destination: UnsafeMutablePointer<Float>, regroupingColumns groups: Int) {
        let area = columns / max(groups, 1)
        let p = UnsafePointer(storage.baseAddress), block = Self.reductionBlock
        var k0 = 0
        while k0 < columns {
            let length = min(block, columns - k0)
            for panel in 0..<panels {
                let source = p + k0 * panels * packedPanelRows + panel * length * packedPanelRows
                let firstRow = panel * packedPanelRows, lanes = min(packedPanelRows, rows - firstRow)
                for kk in 0..<length {
                    let k = k0 + kk
                    let target = destination + firstRow * columns + (k % area) * groups + k / area
                    let values = source + kk * packedPanelRows
                    for lane in 0..<lanes { target[lane * columns] = values[lane] }
                }
            }
            k0 += block
        }
    }

    /// Floats the layout takes for a rows × columns matrix.
    static func storageCount(rows: Int, columns: Int) -> Int {
        max(1, (rows + packedPanelRows - 1) / packedPanelRows * columns * packedPanelRows)
    }

    /// Reduction block of the layout (and of the kernels' k loop): 256 columns.
    static let reductionBlock = 256

    /// Whether this CPU runs the packed micro-kernels (x86-64 with AVX2+FMA, or arm64).
    public static var isSupported: Bool { KernelSupport.packedKernelsAvailable }

    public var storedBytes: Int { storage.byteCount }
    public var formatName: String { "dense" }

    /// Start of panel `panel` at column `k0`, which must start a reduction block.
    @inline(__always)
    func panel(_ panel: Int, column k0: Int) -> UnsafePointer<Float> {
        let length = min(Self.reductionBlock, columns - k0)
        return UnsafePointer(storage.baseAddress + (k0 * panels + panel * length) * packedPanelRows)
    }

    public func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        multiply(rows: 0..<rows, b, ldb: ldb, n: n, into: c, ldc: ldc)
    }

    public func multiply(rows range: Range<Int>, _ b: UnsafePointer<Float>, ldb: Int, n: Int,
                         into c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard !range.isEmpty, n > 0 else { return }
        if columns == 0 {
            for r in range { (c + r * ldc).update(repeating: 0, count: n) }
            return
        }
        let block = Self.reductionBlock
        withUnsafeTemporaryAllocation(of: Float.self, capacity: block * packedStripColumns) { strip in
            guard let s = strip.baseAddress else { return }  // never: the capacity is positive
            var kc0 = 0
            while kc0 < columns {
                let kn = min(block, columns - kc0)
                var j = 0
                while j < n {
                    let width = min(packedStripColumns, n - j)
                    for k in 0..<kn {
                        let d = s + k * packedStripColumns
                        d.update(from: b + (kc0 + k) * ldb + j, count: width)
                        if width < packedStripColumns { (d + width).update(repeating: 0, count: packedStripColumns - width) }
                    }
                    var panel = range.lowerBound / packedPanelRows
                    while panel * packedPanelRows < range.upperBound {
                        let row = panel * packedPanelRows
                        let hi = min(row + packedPanelRows, range.upperBound)
                        if row >= range.lowerBound {
                            packedKernel6x16(self.panel(panel, column: kc0), s, ldb: packedStripColumns, k: kn, c + row * ldc + j, ldc: ldc,
                                             rows: hi - row, columns: width, accumulate: kc0 > 0)
                        } else {
                            // The range starts inside this panel: compute it aside, keep the requested rows.
                            withUnsafeTemporaryAllocation(of: Float.self, capacity: packedPanelRows * packedStripColumns) { part in
                                guard let t = part.baseAddress else { return }  // never: the capacity is positive
                                packedKernel6x16(self.panel(panel, column: kc0), s, ldb: packedStripColumns, k: kn, t, ldc: packedStripColumns,
                                                 rows: hi - row, columns: width, accumulate: false)
                                for r in range.lowerBound..<hi {
                                    let out = c + r * ldc + j, value = t + (r - row) * packedStripColumns
                                    for q in 0..<width { out[q] = kc0 > 0 ? out[q] + value[q] : value[q] }
                                }
                            }
                        }
                        panel += 1
                    }
                    j += packedStripColumns
                }
                kc0 += kn
            }
        }
    }
}

final class PackedConvStep: ExecutionStep, Im2colBlockStep {
    /// Reduction block: a 256×16 activation strip (16 KiB) stays in L1 while the panels stream.
    static var reductionBlock: Int { PackedDenseWeightMatrix.reductionBlock }

    let g: ConvGeometry
    let weights: [PackedDenseWeightMatrix]
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let epilogue: Epilogue
    let packed: UnsafeMutablePointer<Float>
    let scratch: UnsafeMutablePointer<Float>
    let scratchStride: Int
    let tiling: ConvTiling
    let gemmTasks: Int
    let columnSplit: (tasks: Int, perTask: Int)
    /// Row stride of the im2col block.
    let stride: Int
    var image = 0, blockStart = 0, blockColumns = 0
    var fillingColumns = false

    /// Per-worker scratch: a pointwise tail strip.
    static func scratchFloats(_ g: ConvGeometry) -> Int {
        g.isPointwise ? min(g.reduction, reductionBlock) * packedStripColumns : 0
    }

    /// Row stride of the im2col block: the block width, nudged off multiples of 1024 floats so
    /// that a strip's rows do not all land in the same L1 sets.
    static func rowStride(_ g: ConvGeometry) -> Int {
        let width = ConvTiling.packed(g).blockWidth
        let padded = (width + packedStripColumns - 1) / packedStripColumns * packedStripColumns
        return padded % 1024 == 0 ? padded + packedStripColumns : padded
    }

    /// Shared scratch: the block's im2col rows (all groups), plus one strip of slack because
    /// the kernel loads whole 16-column strips at the block's ragged end.
    static func sharedFloats(_ g: ConvGeometry) -> Int {
        guard !g.isPointwise else { return 0 }
        return g.inChannels * g.kernelHeight * g.kernelWidth * rowStride(g) + packedStripColumns
    }

    init(geometry: ConvGeometry, weights: [PackedDenseWeightMatrix], input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
         epilogue: Epilogue, packed: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, scratchStride: Int) {
        g = geometry
        self.weights = weights
        self.input = input
        self.output = output
        self.epilogue = epilogue
        self.packed = packed
        self.scratch = scratch
        self.scratchStride = scratchStride
        stride = Self.rowStride(geometry)
        tiling = ConvTiling.packed(geometry)
        gemmTasks = geometry.groups * tiling.tiles * tiling.panels
        columnSplit = tiling.columnRowSplit(geometry)
    }

    func execute(_ pool: WorkerPool) { executeBlocks(pool) }

    func perform(task: Int, worker: Int) {
        if fillingColumns { fillColumnRows(task: task, into: packed, rowStride: stride) } else { multiply(task: task, worker: worker) }
    }

    private func multiply(task: Int, worker: Int) {
        guard let (panelTask, group, t0, width) = tiling.gemmTask(task, columns: blockColumns) else { return }
        let firstStrip = t0 / packedStripColumns
        let strips = (width + packedStripColumns - 1) / packedStripColumns
        let mg = g.outChannelsPerGroup, kg = g.reduction, pixels = g.pixels
        let rowStart = panelTask * tiling.panelRows
        let rowEnd = min(mg, rowStart + tiling.panelRows)
        let firstPanel = rowStart / packedPanelRows
        let panelEnd = (rowEnd + packedPanelRows - 1) / packedPanelRows
        let w = weights[group]
        let outBase = output + (image * g.outChannels + group * mg) * pixels + blockStart
        let tail = scratch + worker * scratchStride
        var kc0 = 0
        while kc0 < kg {
            let kn = min(Self.reductionBlock, kg - kc0)
            var s = 0
            while s < strips {
                let strip = firstStrip + s
                let column = strip * packedStripColumns
                let columns = min(packedStripColumns, blockColumns - column)
                let b: UnsafePointer<Float>
                let ldb: Int
                if g.isPointwise {
                    let source = input + (image * g.inChannels + group * g.inChannelsPerGroup + kc0) * pixels + blockStart + column
                    if columns == packedStripColumns {
                        b = UnsafePointer(source)
                        ldb = pixels
                    } else {
                        // Tail strip: copy into scratch, zero-padded, so the kernel never reads past the input.
                        for k in 0..<kn {
                            let d = tail + k * packedStripColumns
                            d.update(from: source + k * pixels, count: columns)
                            (d + columns).update(repeating: 0, count: packedStripColumns - columns)
                        }
                        b = UnsafePointer(tail)
                        ldb = packedStripColumns
                    }
                } else {
                    // Columns past the block's end in a ragged last strip are read but never stored.
                    b = UnsafePointer(packed + (group * kg + kc0) * stride + column)
                    ldb = stride
                }
                var panel = firstPanel
                while panel < panelEnd {
                    let row = panel * packedPanelRows
                    if columns <= 8 {
                        packedKernel6x8(w.panel(panel, column: kc0), b, ldb: ldb, k: kn, outBase + row * pixels + column, ldc: pixels,
                                        rows: min(packedPanelRows, rowEnd - row), columns: columns, accumulate: kc0 > 0)
                    } else {
                        packedKernel6x16(w.panel(panel, column: kc0), b, ldb: ldb, k: kn, outBase + row * pixels + column, ldc: pixels,
                                         rows: min(packedPanelRows, rowEnd - row), columns: columns, accumulate: kc0 > 0)
                    }
                    panel += 1
                }
                if kc0 + kn == kg && !epilogue.isEmpty {
                    // The strip's finished outputs get the epilogue while they are still in L1
                    // (after the whole tile, a 112² expansion layer re-read them from memory).
                    let outOffset = (image * g.outChannels + group * mg) * pixels + blockStart + column
                    for m in rowStart..<rowEnd {
                        let offset = outOffset + m * pixels
                        epilogue.apply(row: output + offset, count: columns, channel: group * mg + m, offset: offset)
                    }
                }
                s += 1
            }
            kc0 += kn
        }
    }

}

/// Rows `rows` of image `image`'s im2col matrix (row r = (channel, ky, kx), all groups stacked)
/// for output pixels p0..<p0+width, row r written at `destination + r·rowStride`. Shared by the
/// OpenBLAS path (rows as wide as the block) and the packed path (strided rows); inlined into
/// both so each keeps its own specialised loop.
@inline(__always)
func convolutionIm2colRows(_ g: ConvGeometry, input: UnsafeMutablePointer<Float>, image: Int, rows: Range<Int>,
                           into destination: UnsafeMutablePointer<Float>, rowStride: Int, p0: Int, width: Int) {
    let kernelArea = g.kernelHeight * g.kernelWidth
    let plane = g.inHeight * g.inWidth
    let source = input + image * g.inChannels * plane
    var r = rows.lowerBound
    while r < rows.upperBound {
        let c = r / kernelArea, k = r % kernelArea
        convolutionIm2colRow(g, source + c * plane, destination + r * rowStride, ky: k / g.kernelWidth, kx: k % g.kernelWidth,
                             p0: p0, width: width)
        r += 1
    }
}

/// One row of the im2col matrix (input channel plane, kernel tap (ky, kx)) for output pixels
/// p0..<p0+width, written contiguously to `row`; padding reads as zero.
@inline(__always)
func convolutionIm2colRow(_ g: ConvGeometry, _ plane: UnsafeMutablePointer<Float>, _ row: UnsafeMutablePointer<Float>,
                          ky: Int, kx: Int, p0: Int, width: Int) {
    let outW = g.outWidth, inH = g.inHeight, inW = g.inWidth
    if p0 % outW == 0 && width % outW == 0 {
        // Whole output rows (the usual case): the valid column range depends only on kx, so it
        // is computed once and each output row is zeros | one copy or gather | zeros.
        let sW = g.strideWidth
        let ixBase = kx * g.dilationWidth - g.padLeft
        let lo = min(outW, ixBase >= 0 ? 0 : (-ixBase + sW - 1) / sW)
        let hi = max(lo, min(outW, inW - ixBase <= 0 ? 0 : (inW - ixBase + sW - 1) / sW))
        let oy0 = p0 / outW
        var dst = row
        for oy in oy0..<(oy0 + width / outW) {
            let iy = oy * g.strideHeight - g.padTop + ky * g.dilationHeight
            if iy < 0 || iy >= inH {
                var j = 0
                while j < outW { dst[j] = 0; j &+= 1 }
            } else {
                var j = 0
                while j < lo { dst[j] = 0; j &+= 1 }
                let line = plane + iy * inW + ixBase
                if sW == 1 {
                    copyFloats(from: line + lo, to: dst + lo, count: hi - lo)
                } else {
                    var source = line + lo * sW
                    j = lo
                    while j < hi { dst[j] = source.pointee; source += sW; j &+= 1 }
                }
                j = hi
                while j < outW { dst[j] = 0; j &+= 1 }
            }
            dst += outW
        }
        return
    }
    let sH = g.strideHeight, sW = g.strideWidth
    var p = p0
    var dst = row
    let end = p0 + width
    while p < end {
        let oy = p / outW
        let ox0 = p - oy * outW
        let n = min(outW - ox0, end - p)
        let iy = oy * sH - g.padTop + ky * g.dilationHeight
        if iy < 0 || iy >= inH {
            var j = 0
            while j < n { dst[j] = 0; j &+= 1 }
        } else {
            let line = plane + iy * inW
            let ixBase = ox0 * sW - g.padLeft + kx * g.dilationWidth
            if sW == 1 {
                let lo = min(n, max(0, -ixBase))
                let hi = max(lo, min(n, inW - ixBase))
                // Rows of small images are short: inline loops beat a memmove call per run.
                var j = 0
                while j < lo { dst[j] = 0; j &+= 1 }
                copyFloats(from: line + ixBase + lo, to: dst + lo, count: hi - lo)
                j = hi
                while j < n { dst[j] = 0; j &+= 1 }
            } else {
                // Valid j: 0 <= ixBase + j·sW < inW.
                let lo = min(n, ixBase >= 0 ? 0 : (-ixBase + sW - 1) / sW)
                let hi = max(lo, min(n, inW - ixBase <= 0 ? 0 : (inW - ixBase + sW - 1) / sW))
                var j = 0
                while j < lo { dst[j] = 0; j &+= 1 }
                var source = line + ixBase + lo * sW
                while j < hi {
                    dst[j] = source.pointee
                    source += sW
                    j &+= 1
                }
                while j < n { dst[j] = 0; j &+= 1 }
            }
        }
        dst += n
        p += n
    }
}

/// Copies `count` floats with 4-lane vector moves; short runs (rows of small images) are common
/// in im2col, where a memmove call per run costs more than the copy.
@inline(__always)
func copyFloats(from source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
    if count > 256 {
        destination.update(from: source, count: count)
        return
    }
    let s = UnsafeRawPointer(source), d = UnsafeMutableRawPointer(destination)
    var offset = 0
    let vectorBytes = (count & ~3) &* 4
    while offset < vectorBytes {
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self), toByteOffset: offset, as: SIMD4<Float>.self)
        offset &+= 16
    }
    var j = count & ~3
    while j < count { destination[j] = source[j]; j &+= 1 }
}

/// Stride-1 convolutions without im2col ("implicit GEMM"): the input is copied once into a
/// zero-padded buffer, and row k = (channel, ky, kx) of the virtual im2col matrix is that
/// buffer shifted by (ky·dH·Wp + kx·dW). Output pixels are computed on the padded row width
/// (Wp ≥ outW; the extra columns are discarded), into per-worker scratch, and the epilogue
/// moves the valid columns to the output while adding bias and residual and activating.
final class ImplicitConvStep: ExecutionStep, ParallelWork {
    let g: ConvGeometry
    let weights: [PackedDenseWeightMatrix]
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let epilogue: Epilogue
    let padded: UnsafeMutablePointer<Float>
    let scratch: UnsafeMutablePointer<Float>
    let scratchStride: Int
    /// Offsets of the (ky, kx, channel-in-group) rows within one group's padded planes.
    let offsets: UnsafeMutablePointer<Int>
    let paddedWidth: Int, paddedHeight: Int, planeStride: Int
    /// Virtual pixels per image: (outH − 1)·Wp + outW.
    let virtualPixels: Int
    let tiling: ConvTiling
    let gemmTasks: Int
    private var image = 0
    private var padding = false

    /// Stride-1, non-pointwise layers whose padded rows waste little work: the virtual pixels,
    /// rounded to whole strips, may exceed the real ones by at most 15% (large and medium maps);
    /// small maps go through im2col, whose matrix is small there anyway.
    static func applies(to g: ConvGeometry) -> Bool {
        guard g.strideHeight == 1 && g.strideWidth == 1 && !g.isPointwise && !g.isDepthwise else { return false }
        let virtual = (layout(g).virtualPixels + packedStripColumns - 1) / packedStripColumns * packedStripColumns
        return virtual * 100 <= g.pixels * 115
    }

    static func layout(_ g: ConvGeometry) -> (width: Int, height: Int, plane: Int, virtualPixels: Int) {
        let width = g.inWidth + g.padLeft + g.padRight, height = g.inHeight + g.padTop + g.padBottom
        // Plane stride nudged off multiples of 1024 floats (L1 set aliasing between channels).
        var plane = width * height
        if plane % 1024 == 0 { plane += 16 }
        return (width, height, plane, (g.outHeight - 1) * width + g.outWidth)
    }

    /// The tiling of the virtual pixel range (one block; tiles and 6-row panels).
    static func tiling(_ g: ConvGeometry) -> ConvTiling {
        var flat = g
        flat.inChannels = g.inChannels * g.kernelHeight * g.kernelWidth
        flat.kernelHeight = 1; flat.kernelWidth = 1
        flat.padTop = 0; flat.padLeft = 0; flat.padBottom = 0; flat.padRight = 0
        flat.dilationHeight = 1; flat.dilationWidth = 1
        flat.outHeight = 1; flat.outWidth = layout(g).virtualPixels
        return ConvTiling.packed(flat)
    }

    static func scratchFloats(_ g: ConvGeometry) -> Int {
        let t = tiling(g)
        let rows = (min(t.panelRows, g.outChannelsPerGroup) + packedPanelRows - 1) / packedPanelRows * packedPanelRows
        let columns = (t.tileWidth + packedStripColumns - 1) / packedStripColumns * packedStripColumns
        return rows * columns
    }

    /// Padded input planes plus slack for the last strip's overrun.
    static func sharedFloats(_ g: ConvGeometry) -> Int {
        let l = layout(g)
        return g.inChannels * l.plane + (g.kernelWidth - 1) * g.dilationWidth + 4 * packedStripColumns
    }

    init(geometry: ConvGeometry, weights: [PackedDenseWeightMatrix], input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
         epilogue: Epilogue, padded: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, scratchStride: Int) {
        g = geometry
        self.weights = weights
        self.input = input
        self.output = output
        self.epilogue = epilogue
        self.padded = padded
        self.scratch = scratch
        self.scratchStride = scratchStride
        let l = Self.layout(geometry)
        paddedWidth = l.width
        paddedHeight = l.height
        planeStride = l.plane
        virtualPixels = l.virtualPixels
        tiling = Self.tiling(geometry)
        gemmTasks = geometry.groups * tiling.tiles * tiling.panels
        // Row order matches the weights' columns: (channel, ky, kx).
        offsets = .allocate(capacity: max(1, geometry.reduction))
        var index = 0
        for c in 0..<geometry.inChannelsPerGroup {
            for ky in 0..<geometry.kernelHeight {
                for kx in 0..<geometry.kernelWidth {
                    offsets[index] = c * l.plane + ky * geometry.dilationHeight * l.width + kx * geometry.dilationWidth
                    index += 1
                }
            }
        }
        // Slack past the planes is read by ragged strips; keep it finite.
        let slackStart = geometry.inChannels * l.plane
        (padded + slackStart).update(repeating: 0, count: Self.sharedFloats(geometry) - slackStart)
    }

    deinit { offsets.deallocate() }

    func execute(_ pool: WorkerPool) {
        for n in 0..<g.batch {
            image = n
            padding = true
            pool.parallelFor(g.inChannels, self)
            padding = false
            pool.parallelFor(gemmTasks, self)
        }
    }

    func perform(task: Int, worker: Int) {
        if padding { pad(channel: task) } else { multiply(task: task, worker: worker) }
    }

    /// Copies one input channel into its zero-bordered padded plane.
    private func pad(channel c: Int) {
        let source = input + (image * g.inChannels + c) * g.inHeight * g.inWidth
        let plane = padded + c * planeStride
        let w = paddedWidth
        var j = 0
        while j < g.padTop * w { plane[j] = 0; j &+= 1 }
        for y in 0..<g.inHeight {
            let row = plane + (g.padTop + y) * w
            j = 0
            while j < g.padLeft { row[j] = 0; j &+= 1 }
            copyFloats(from: source + y * g.inWidth, to: row + g.padLeft, count: g.inWidth)
            j = g.padLeft + g.inWidth
            while j < w { row[j] = 0; j &+= 1 }
        }
        let bottom = plane + (g.padTop + g.inHeight) * w
        j = 0
        while j < g.padBottom * w { bottom[j] = 0; j &+= 1 }
    }

    private func multiply(task: Int, worker: Int) {
        guard let (panelTask, group, t0, width) = tiling.gemmTask(task, columns: virtualPixels) else { return }
        let strips = (width + packedStripColumns - 1) / packedStripColumns
        let mg = g.outChannelsPerGroup, kg = g.reduction
        let rowStart = panelTask * tiling.panelRows
        let rowEnd = min(mg, rowStart + tiling.panelRows)
        let firstPanel = rowStart / packedPanelRows
        let panelEnd = (rowEnd + packedPanelRows - 1) / packedPanelRows
        let w = weights[group]
        let temp = scratch + worker * scratchStride
        let ldt = strips * packedStripColumns
        let base = UnsafePointer(padded + group * g.inChannelsPerGroup * planeStride + t0)
        let table = UnsafePointer(offsets)
        var kc0 = 0
        while kc0 < kg {
            let kn = min(PackedDenseWeightMatrix.reductionBlock, kg - kc0)
            var s = 0
            while s < strips {
                var panel = firstPanel
                while panel < panelEnd {
                    // Scratch rows are padded to whole panels and strips, so every store is a full 6×16.
                    packedKernel6x16Indirect(w.panel(panel, column: kc0), base: base + s * packedStripColumns, offsets: table + kc0, k: kn,
                                             temp + (panel * packedPanelRows - rowStart) * ldt + s * packedStripColumns, ldc: ldt,
                                             rows: packedPanelRows, columns: packedStripColumns, accumulate: kc0 > 0)
                    panel += 1
                }
                s += 1
            }
            kc0 += kn
        }
        // Move valid columns (q mod Wp < outW) to the output, applying the epilogue per run.
        let wp = paddedWidth, outW = g.outWidth, pixels = g.pixels
        let outBase = (image * g.outChannels + group * mg) * pixels
        var oy = t0 / wp
        while oy * wp < t0 + width {
            let q0 = max(t0, oy * wp), q1 = min(t0 + width, oy * wp + outW)
            if q1 > q0 {
                let p = oy * outW + (q0 - oy * wp)
                for m in rowStart..<rowEnd {
                    let offset = outBase + m * pixels + p
                    let source = UnsafePointer(temp + (m - rowStart) * ldt + (q0 - t0))
                    if epilogue.isEmpty {
                        copyFloats(from: source, to: output + offset, count: q1 - q0)
                    } else {
                        epilogue.apply(from: source, to: output + offset, count: q1 - q0, channel: group * mg + m, offset: offset)
                    }
                }
            }
            oy += 1
        }
    }
}
