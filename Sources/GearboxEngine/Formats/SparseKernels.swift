// GearboxEngine/Formats/SparseKernels: the SIMD micro-kernels behind csr, bsr and ubp. Each
// computes a tile of C = A·B with the tile's accumulators held in registers: `RowKernel` walks
// one CSR row (one index per nonzero), `BandKernel` walks a band of ≤ 4 output rows through
// dense r×c blocks (one index per block, none inside a block), so one load of a B row feeds
// up to four FMAs. Tiles are sized for the 16 vector registers of AVX2/NEON; columns are swept
// in panels so the B panel stays in L2 while the band's values stay in L1.

/// The vector type of every kernel: 8 floats (one AVX register, two NEON registers).
typealias FloatVector = SIMD8<Float>

/// Floats per `FloatVector`.
let floatVectorWidth = 8

/// Columns of C swept per panel: a multiple of every tile width (64, 32 and 24 columns), small
/// enough that K × panel floats of B stay in L2.
let kernelPanelColumns = 192

@inline(__always)
func loadVector(_ pointer: UnsafePointer<Float>) -> FloatVector {
    UnsafeRawPointer(pointer).loadUnaligned(as: FloatVector.self)
}

@inline(__always)
func storeVector(_ vector: FloatVector, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: FloatVector.self)
}

/// accumulator + x·y, fused where the target has FMA (aarch64 always; x86-64 built as v3).
@inline(__always)
func multiplyAdd(_ accumulator: FloatVector, _ x: FloatVector, _ y: FloatVector) -> FloatVector {
    #if arch(arm64) || GEARBOX_FMA
    return accumulator.addingProduct(x, y)
    #else
    return accumulator + x * y
    #endif
}

/// Writes zeros to `count` floats at `pointer`.
@inline(__always)
func zeroFill(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
    if count > 0 { pointer.update(repeating: 0, count: count) }
}

// MARK: - CSR rows

/// One CSR row times a tile of `W` vectors of B columns, accumulated in registers.
enum RowKernel<let W: Int> {
    /// C[row, 0..<8W] = Σ_nz value · B[column, 0..<8W].
    @inline(__always)
    static func tile(
        count: Int, columns: UnsafePointer<Int32>, values: UnsafePointer<Float>,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>
    ) {
        var accumulators = InlineArray<W, FloatVector>(repeating: .zero)
        for index in 0..<count {
            let row = b + Int(columns[index]) &* ldb
            let weight = FloatVector(repeating: values[index])
            for w in 0..<W {
                accumulators[w] = multiplyAdd(accumulators[w], loadVector(row + w &* floatVectorWidth), weight)
            }
        }
        for w in 0..<W { storeVector(accumulators[w], c + w &* floatVectorWidth) }
    }

    /// One row over the vector columns [start, end) (a multiple of 8 wide): tiles of `W`
    /// vectors, then the remaining vectors in tiles of 4, 2 and 1.
    @inline(__always)
    static func sweep(
        count: Int, columns: UnsafePointer<Int32>, values: UnsafePointer<Float>,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, from start: Int, to end: Int
    ) {
        var n0 = start
        let tileWidth = W &* floatVectorWidth
        while n0 &+ tileWidth <= end {
            tile(count: count, columns: columns, values: values, b: b + n0, ldb: ldb, c: c + n0)
            n0 &+= tileWidth
        }
        if W > 4, n0 &+ 4 &* floatVectorWidth <= end {
            RowKernel<4>.tile(count: count, columns: columns, values: values, b: b + n0, ldb: ldb, c: c + n0)
            n0 &+= 4 &* floatVectorWidth
        }
        if W > 2, n0 &+ 2 &* floatVectorWidth <= end {
            RowKernel<2>.tile(count: count, columns: columns, values: values, b: b + n0, ldb: ldb, c: c + n0)
            n0 &+= 2 &* floatVectorWidth
        }
        while n0 < end {
            RowKernel<1>.tile(count: count, columns: columns, values: values, b: b + n0, ldb: ldb, c: c + n0)
            n0 &+= floatVectorWidth
        }
    }
}

// MARK: - Bands of dense blocks

/// `R` consecutive output rows of a band of block pieces, times a tile of `W` vectors of B
/// columns. A piece's `R` rows × `c` columns are applied with one B-row load per column shared
/// by the `R` rows; values are read in place from the block (row stride `c`). `C` is
/// the block width when known at compile time (the loop over it unrolls), or 0 for a width
/// read at run time and clipped at a ragged right edge.
enum BandKernel<let R: Int, let W: Int, let C: Int> {
    @inline(__always)
    static func tile(
        blocks: BandBlocks, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulateRows: Int
    ) {
        var accumulators = InlineArray<R, InlineArray<W, FloatVector>>(
            repeating: InlineArray<W, FloatVector>(repeating: .zero))
        let blockColumns = C > 0 ? C : blocks.blockColumns
        for index in 0..<blocks.count {
            let values = blocks.values + Int(blocks.valueOffsets[index])
            let firstColumn = Int(blocks.columns[index])
            let width = C > 0 ? C : min(blockColumns, blocks.columnLimit &- firstColumn)
            var row = b + firstColumn &* ldb
            for j in 0..<width {
                if R == 1 {
                    // One row: fold each load into its FMA instead of holding W loads in registers.
                    let weight = FloatVector(repeating: values[j])
                    for w in 0..<W {
                        accumulators[0][w] = multiplyAdd(accumulators[0][w], loadVector(row + w &* floatVectorWidth), weight)
                    }
                } else {
                    var loaded = InlineArray<W, FloatVector>(repeating: .zero)
                    for w in 0..<W { loaded[w] = loadVector(row + w &* floatVectorWidth) }
                    for i in 0..<R {
                        let weight = FloatVector(repeating: values[i &* blockColumns &+ j])
                        for w in 0..<W { accumulators[i][w] = multiplyAdd(accumulators[i][w], loaded[w], weight) }
                    }
                }
                row += ldb
            }
        }
        for i in 0..<R {
            let out = c + i &* ldc
            if i < accumulateRows {
                for w in 0..<W {
                    let p = out + w &* floatVectorWidth
                    storeVector(loadVector(p) + accumulators[i][w], p)
                }
            } else {
                for w in 0..<W { storeVector(accumulators[i][w], out + w &* floatVectorWidth) }
            }
        }
    }

    /// `R` rows of one band over the vector columns [start, end): tiles of `W` vectors, then
    /// the remaining vectors in tiles of 4, 2 and 1 (so the tail still has independent chains).
    @inline(__always)
    static func sweep(
        blocks: BandBlocks, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulateRows: Int, from start: Int, to end: Int
    ) {
        var n0 = start
        let tileWidth = W &* floatVectorWidth
        while n0 &+ tileWidth <= end {
            tile(blocks: blocks, b: b + n0, ldb: ldb, c: c + n0, ldc: ldc, accumulateRows: accumulateRows)
            n0 &+= tileWidth
        }
        if W > 4, n0 &+ 4 &* floatVectorWidth <= end {
            BandKernel<R, 4, C>.tile(
                blocks: blocks, b: b + n0, ldb: ldb, c: c + n0, ldc: ldc, accumulateRows: accumulateRows)
            n0 &+= 4 &* floatVectorWidth
        }
        if W > 2, n0 &+ 2 &* floatVectorWidth <= end {
            BandKernel<R, 2, C>.tile(
                blocks: blocks, b: b + n0, ldb: ldb, c: c + n0, ldc: ldc, accumulateRows: accumulateRows)
            n0 &+= 2 &* floatVectorWidth
        }
        while n0 < end {
            BandKernel<R, 1, C>.tile(
                blocks: blocks, b: b + n0, ldb: ldb, c: c + n0, ldc: ldc, accumulateRows: accumulateRows)
            n0 &+= floatVectorWidth
        }
    }
}

/// Runs one row group of a band with the kernel for its row count and block width.
@inline(__always)
func sweepBandGroup(
    rows: Int, staticWidth: Int, blocks: BandBlocks, b: UnsafePointer<Float>, ldb: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulateRows: Int, from start: Int, to end: Int
) {
    switch (rows, staticWidth) {
    case (4, 1): BandKernel<4, 3, 1>.sweep(blocks: blocks, b: b, ldb: ldb, c: c, ldc: ldc, accumulateRows: accumulateRows, from: start, to: end)
    case (4, 4): BandKernel<4, 3, 4>.sweep(blocks: blocks, b: b, ldb: ldb, c: c, ldc: ldc, accumulateRows: accumulateRows, from: start, to: end)
    case (4, _): BandKernel<4, 3, 0>.sweep(blocks: blocks, b: b, ldb: ldb, c: c, ldc: ldc, accumulateRows: accumulateRows, from: start, to: end)
    case (3, _): BandKernel<3, 3, 0>.sweep(blocks: blocks, b: b, ldb: ldb, c: c, ldc: ldc, accumulateRows: accumulateRows, from: start, to: end)
    case (2, 4): BandKernel<2, 4, 4>.sweep(blocks: blocks, b: b, ldb: ldb, c: c, ldc: ldc, accumulateRows: accumulateRows, from: start, to: end)
    case (2, _): BandKernel<2, 4, 0>.sweep(blocks: blocks, b: b, ldb: ldb, c: c, ldc: ldc, accumulateRows: accumulateRows, from: start, to: end)
    case (1, 4): BandKernel<1, 8, 4>.sweep(blocks: blocks, b: b, ldb: ldb, c: c, ldc: ldc, accumulateRows: accumulateRows, from: start, to: end)
    default: BandKernel<1, 8, 0>.sweep(blocks: blocks, b: b, ldb: ldb, c: c, ldc: ldc, accumulateRows: accumulateRows, from: start, to: end)
    }
}

/// The pieces of one band as the kernels see them: `count` pieces whose first columns are at
/// `columns` and whose values start at `values + valueOffsets[i]` (row stride `blockColumns`),
/// and `columnLimit` (K) to clip pieces at a ragged right edge.
struct BandBlocks {
    var count: Int
    var columns: UnsafePointer<Int32>
    var valueOffsets: UnsafePointer<Int32>
    var values: UnsafePointer<Float>
    var blockColumns: Int
    var columnLimit: Int
}
