// GearboxEngine/DenseWeightMatrix: the `dense` weight format, row-major values multiplied with
// OpenBLAS sgemm. Structurally pruned models (fewer channels) are simply smaller dense matrices.
// Also the reference every other format converts from and is tested against.

/// A weight format that can compute a subset of C's rows on its own, so the engine can split a
/// layer with few columns (late, small feature maps; batch-1 Linear) across threads by rows.
public protocol RowRangeMultiplying: WeightMatrix {
    /// C[r, ·] = A[r, ·] · B for r in `rows` only. `c` points at row 0 of C (not at `rows.lowerBound`).
    func multiply(rows: Range<Int>, _ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int)
}

/// Dense M×K weights in row-major order, 64-byte aligned.
public struct DenseWeightMatrix: RowRangeMultiplying {
    public let rows: Int
    public let columns: Int
    let storage: AlignedBuffer

    /// Wraps `values` (row-major, `rows` × `columns`) without copying.
    public init(rows: Int, columns: Int, values: Tensor) {
        precondition(values.count == rows * columns, "DenseWeightMatrix: \(values.count) values for \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        storage = values.sharedStorage
    }

    /// Copies `values` (row-major).
    public init(rows: Int, columns: Int, values: [Float]) {
        self.init(rows: rows, columns: columns, values: Tensor(shape: [rows, columns], scalars: values))
    }

    public var storedBytes: Int { rows * columns * MemoryLayout<Float>.stride }
    public var formatName: String { "dense" }

    /// Element A[row, column].
    public subscript(row: Int, column: Int) -> Float { storage.baseAddress[row * columns + column] }

    /// The values as a rows × columns tensor (shares storage).
    public var values: Tensor { Tensor(shape: [rows, columns], storage: storage) }

    /// Read access to the row-major values.
    public func withUnsafeValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(storage.buffer))
    }

    public func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        multiply(rows: 0..<rows, b, ldb: ldb, n: n, into: c, ldc: ldc)
    }

    public func multiply(rows range: Range<Int>, _ b: UnsafePointer<Float>, ldb: Int, n: Int,
                         into c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard !range.isEmpty, n > 0 else { return }
        let a = UnsafePointer(storage.baseAddress + range.lowerBound * columns)
        let cRow = c + range.lowerBound * ldc
        if columns == 0 {
            for r in 0..<range.count { (cRow + r * ldc).update(repeating: 0, count: n) }
            return
        }
        if n == 1 {
            BLAS.sgemv(m: range.count, n: columns, a: a, lda: columns, x: b, incx: ldb, y: cRow, incy: ldc)
        } else {
            BLAS.sgemm(m: range.count, n: n, k: columns, a: a, lda: columns, b: b, ldb: ldb, c: cRow, ldc: ldc)
        }
    }
}
