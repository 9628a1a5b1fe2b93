// GearboxEngine/WinogradConvStep: dense 3×3 stride-1 convolutions inside an NHWC run by
// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, 2016): each 2×2 output tile costs 16
// multiplications per input-output channel pair instead of 36, so the layer is 16 GEMMs over
// transformed tiles, 2.25× fewer multiply-adds than a direct convolution. The transforms of
// F(2×2, 3×3) only add and subtract, which keeps its rounding error at the direct
// convolution's scale (larger tiles trade accuracy and 4× the weight memory for speed).
//
// Weights are transformed once at load into 16 matrices U[k] (Cin × Cout). A task takes a fixed
// block of tiles (chosen from the layer's shape only, so results are identical for any thread
// count): it transforms their 4×4 input windows into 16 matrices V[k] (tiles × Cin) in its
// worker's scratch, multiplies M[k] = V[k]·U[k] with single-threaded sgemm, and transforms M
// back into 2×2 output pixels with bias, residual Add and clamp applied while they are in cache.

/// The transformed weights of one 3×3 layer: U[k] = G·g·Gᵀ for every (output, input) channel
/// pair, as 16 row-major Cin × Cout matrices.
final class WinogradWeights {
    let inChannels: Int, outChannels: Int
    let transformed: AlignedBuffer
    let bias: AlignedBuffer

    /// Bytes the transformed weights and bias hold (16/9 of the dense 3×3 weights).
    var bytes: Int { (transformed.count + bias.count) * MemoryLayout<Float>.stride }

    /// Nil unless `weightsOIHW` holds outChannels × inChannels × 3 × 3 values.
    init?(_ g: ConvGeometry, weightsOIHW: UnsafeBufferPointer<Float>, bias: [Float]?) {
        let cin = g.inChannels, cout = g.outChannels
        guard WinogradTiling.applies(to: g), weightsOIHW.count == cout * cin * 9 else { return nil }
        inChannels = cin
        outChannels = cout
        transformed = AlignedBuffer(count: 16 * cin * cout)
        self.bias = AlignedBuffer(count: cout)
        if let bias { for (i, value) in bias.prefix(cout).enumerated() { self.bias.baseAddress[i] = value } }
        // G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]; computed in Double, rounded once.
        let gMatrix: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        let u = transformed.baseAddress
        for o in 0..<cout {
            for i in 0..<cin {
                let base = (o * cin + i) * 9
                var gg = [[Double]](repeating: [0, 0, 0], count: 4)  // G·g (4×3)
                for r in 0..<4 {
                    for c in 0..<3 {
                        var sum = 0.0
                        for t in 0..<3 { sum += gMatrix[r][t] * Double(weightsOIHW[base + t * 3 + c]) }
                        gg[r][c] = sum
                    }
                }
                for r in 0..<4 {
                    for c in 0..<4 {
                        var sum = 0.0
                        for t in 0..<3 { sum += gg[r][t] * gMatrix[c][t] }
                        u[((r * 4 + c) * cin + i) * cout + o] = Float(sum)
                    }
                }
            }
        }
    }
}

/// How a layer's 2×2 output tiles are split into tasks, and the scratch a task needs.
struct WinogradTiling: Equatable {
    let tilesHigh: Int, tilesWide: Int
    /// Tiles over all images.
    let tiles: Int
    let tasks: Int
    let tilesPerTask: Int

    /// Scratch floats per worker are kept under this (V and M of one task: 4 MiB).
    static let scratchBudgetFloats = 1 << 20
    static let maximumTilesPerTask = 128

    /// Dense (ungrouped) 3×3 convolutions with stride 1 and dilation 1 whose channel counts are
    /// multiples of 8 (the transforms work on 8-channel vectors).
    static func applies(to g: ConvGeometry) -> Bool {
        g.groups == 1 && g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1 && g.inChannels % 8 == 0 && g.outChannels % 8 == 0
            && g.inChannels >= minimumChannels && g.outChannels >= minimumChannels
            && g.outHeight >= 2 && g.outWidth >= 2
            && g.batch * ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2) >= minimumTiles(g)
    }

    /// Each task streams all 16 transformed weight matrices once, so with few tiles the GEMMs are
    /// too short to pay for that unless the matrices stay in cache from task to task: ResNet-18's
    /// 512-channel 7×7 outputs (16 tiles, 16 MiB of matrices) are faster on XNNPACK, ResNet-8's
    /// 64-channel 8×8 outputs (16 tiles, 256 KiB) faster here (docs/measurements.md, "Winograd").
    static func minimumTiles(_ g: ConvGeometry) -> Int {
        16 * g.inChannels * g.outChannels * MemoryLayout<Float>.size <= cachedWeightBytes ? 16 : 32
    }
    /// Transformed weights at most this large are read from L2 by every task after the first.
    static let cachedWeightBytes = 256 * 1024
    /// Below this the per-position GEMMs are too narrow to beat XNNPACK's direct kernel
    /// (docs/measurements.md, "Winograd").
    static let minimumChannels = 32

    init(_ g: ConvGeometry) {
        tilesHigh = (g.outHeight + 1) / 2
        tilesWide = (g.outWidth + 1) / 2
        tiles = g.batch * tilesHigh * tilesWide
        let fitting = max(1, min(Self.maximumTilesPerTask, Self.scratchBudgetFloats / (16 * (g.inChannels + g.outChannels))))
        // At least four tasks where there are tiles for them, in multiples of four, so that one,
        // two or four workers get equal shares.
        var count = max((tiles + fitting - 1) / fitting, min(tiles, 4))
        if count > 4 { count = (count + 3) / 4 * 4 }
        tilesPerTask = (tiles + count - 1) / count
        tasks = (tiles + tilesPerTask - 1) / tilesPerTask
    }

    /// The image and the tile row and column of tile `tile` (tiles run image by image, row-major).
    func position(ofTile tile: Int) -> (image: Int, row: Int, column: Int) {
        let perImage = tilesHigh * tilesWide
        return (tile / perImage, (tile % perImage) / tilesWide, tile % tilesWide)
    }

    /// V (16 × tiles × Cin) and M (16 × tiles × Cout) of one task.
    func scratchFloats(_ g: ConvGeometry) -> Int { 16 * tilesPerTask * (g.inChannels + g.outChannels) }
}

final class WinogradNHWCConvStep: ExecutionStep, ParallelWork {
    let g: ConvGeometry
    let weights: WinogradWeights
    let tiling: WinogradTiling
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    /// NHWC, same shape as the output; nil without a fused residual Add.
    let residual: UnsafePointer<Float>?
    /// Applied last (after bias and residual).
    let bounds: (lower: Float, upper: Float)
    let scratch: UnsafeMutablePointer<Float>
    let scratchStride: Int

    init(geometry: ConvGeometry, weights: WinogradWeights, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
         residual: UnsafePointer<Float>?, bounds: (lower: Float, upper: Float), scratch: UnsafeMutablePointer<Float>, scratchStride: Int) {
        g = geometry
        self.weights = weights
        tiling = WinogradTiling(geometry)
        self.input = UnsafePointer(input)
        self.output = output
        self.residual = residual
        self.bounds = bounds
        self.scratch = scratch
        self.scratchStride = scratchStride
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(tiling.tasks, self) }

    func perform(task: Int, worker: Int) {
        let first = task * tiling.tilesPerTask
        let count = min(tiling.tilesPerTask, tiling.tiles - first)
        guard count > 0 else { return }
        let cin = g.inChannels, cout = g.outChannels
        let v = scratch + worker * scratchStride
        let m = v + 16 * tiling.tilesPerTask * cin
        for t in 0..<count { transformInput(tile: first + t, into: v + t * cin, stride: tiling.tilesPerTask * cin) }
        for k in 0..<16 {
            BLAS.sgemm(m: count, n: cout, k: cin, a: v + k * tiling.tilesPerTask * cin, lda: cin,
                       b: weights.transformed.baseAddress + k * cin * cout, ldb: cout,
                       c: m + k * tiling.tilesPerTask * cout, ldc: cout)
        }
        for t in 0..<count { transformOutput(tile: first + t, from: m + t * cout, stride: tiling.tilesPerTask * cout) }
    }

    private typealias Vector = SIMD8<Float>

    @inline(__always)
    private func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    @inline(__always)
    private func store(_ value: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: value, as: Vector.self) }

    /// Bᵀ·d·B of the tile's 4×4 input window (zeros outside the input), 8 channels at a time;
    /// element k of the 4×4 result goes to `v + k * stride`.
    private func transformInput(tile: Int, into v: UnsafeMutablePointer<Float>, stride: Int) {
        let (image, ty, tx) = tiling.position(ofTile: tile)
        let y0 = 2 * ty - g.padTop, x0 = 2 * tx - g.padLeft
        let cin = g.inChannels, width = g.inWidth
        let source = input + image * g.inHeight * width * cin
        var rowMask = 0, columnMask = 0
        for i in 0..<4 {
            if y0 + i >= 0 && y0 + i < g.inHeight { rowMask |= 1 << i }
            if x0 + i >= 0 && x0 + i < width { columnMask |= 1 << i }
        }
        var c = 0
        while c < cin {
            @inline(__always) func d(_ i: Int, _ j: Int) -> Vector {
                (rowMask >> i) & (columnMask >> j) & 1 != 0 ? load(source + ((y0 + i) * width + x0 + j) * cin + c) : .zero
            }
            // Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]], down each column, then along each row.
            let (t00, t10, t20, t30) = Self.inputTransform(d(0, 0), d(1, 0), d(2, 0), d(3, 0))
            let (t01, t11, t21, t31) = Self.inputTransform(d(0, 1), d(1, 1), d(2, 1), d(3, 1))
            let (t02, t12, t22, t32) = Self.inputTransform(d(0, 2), d(1, 2), d(2, 2), d(3, 2))
            let (t03, t13, t23, t33) = Self.inputTransform(d(0, 3), d(1, 3), d(2, 3), d(3, 3))
            @inline(__always) func storeRow(_ row: Int, _ a: Vector, _ b: Vector, _ e: Vector, _ f: Vector) {
                let (v0, v1, v2, v3) = Self.inputTransform(a, b, e, f)
                store(v0, v + (row * 4) * stride + c)
                store(v1, v + (row * 4 + 1) * stride + c)
                store(v2, v + (row * 4 + 2) * stride + c)
                store(v3, v + (row * 4 + 3) * stride + c)
            }
            storeRow(0, t00, t01, t02, t03)
            storeRow(1, t10, t11, t12, t13)
            storeRow(2, t20, t21, t22, t23)
            storeRow(3, t30, t31, t32, t33)
            c += 8
        }
    }

    @inline(__always)
    private static func inputTransform(_ a: Vector, _ b: Vector, _ c: Vector, _ d: Vector) -> (Vector, Vector, Vector, Vector) {
        (a - c, b + c, c - b, b - d)
    }

    /// Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]] applied to four values.
    @inline(__always)
    private static func outputTransform(_ a: Vector, _ b: Vector, _ c: Vector, _ d: Vector) -> (Vector, Vector) {
        (a + b + c, b - c - d)
    }

    /// Aᵀ·m·A of the tile's 16 products, plus bias, into the output pixels inside the layer;
    /// then residual and clamp over each finished pixel.
    private func transformOutput(tile: Int, from m: UnsafePointer<Float>, stride: Int) {
        let (image, ty, tx) = tiling.position(ofTile: tile)
        let cout = g.outChannels
        let oy = 2 * ty, ox = 2 * tx
        let rows = min(2, g.outHeight - oy), columns = min(2, g.outWidth - ox)
        let first = output + image * g.pixels * cout + (oy * g.outWidth + ox) * cout
        let below = first + g.outWidth * cout
        let bias = weights.bias.baseAddress
        var c = 0
        while c < cout {
            @inline(__always) func x(_ k: Int) -> Vector { load(m + k * stride + c) }
            let (s00, s10) = Self.outputTransform(x(0), x(4), x(8), x(12))
            let (s01, s11) = Self.outputTransform(x(1), x(5), x(9), x(13))
            let (s02, s12) = Self.outputTransform(x(2), x(6), x(10), x(14))
            let (s03, s13) = Self.outputTransform(x(3), x(7), x(11), x(15))
            let b = load(bias + c)
            let (y00, y01) = Self.outputTransform(s00, s01, s02, s03)
            store(y00 + b, first + c)
            if columns == 2 { store(y01 + b, first + cout + c) }
            if rows == 2 {
                let (y10, y11) = Self.outputTransform(s10, s11, s12, s13)
                store(y10 + b, below + c)
                if columns == 2 { store(y11 + b, below + cout + c) }
            }
            c += 8
        }
        guard residual != nil || bounds.lower > -.infinity || bounds.upper < .infinity else { return }
        for i in 0..<rows {
            // A tile row's pixels are adjacent in NHWC: one run of columns × Cout values.
            let offset = image * g.pixels * cout + ((oy + i) * g.outWidth + ox) * cout
            NHWCEpilogue.addResidualAndClamp(output + offset, residual.map { $0 + offset }, count: columns * cout, bounds: bounds)
        }
    }
}
