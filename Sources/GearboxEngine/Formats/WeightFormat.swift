// GearboxEngine/Formats/WeightFormat: the names of the weight formats (as in portfolio.json)
// and the factory the model loader calls to turn a layer's dense weights — possibly holding
// exact zeros left by pruning — into a kernel format, keeping every nonzero.

import COpenBLAS

/// The weight formats a variant's Conv/Gemm layers can use.
public enum WeightFormat: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// Dense sgemm (also structurally pruned models, which are simply smaller).
    case dense
    /// Compressed sparse rows: unstructured sparsity.
    case csr
    /// Block sparse rows: r×c blocks aligned to the block grid.
    case bsr
    /// Unaligned blocks: r×c blocks at any offset, non-overlapping.
    case ubp
    /// One shared dense weight set viewed through channel-prefix masks.
    case masked

    /// Whether the format is built from blocks and needs a `BlockShape`.
    public var needsBlockShape: Bool { self == .bsr || self == .ubp }

    public var description: String { rawValue }
}

/// Builds a weight matrix of `format` from dense row-major weights, keeping their exact zeros
/// as the pruning pattern: csr stores the nonzeros, bsr the grid blocks holding a nonzero, ubp
/// a greedy cover of the nonzeros by non-overlapping blocks, masked the smallest channel
/// prefix holding every nonzero (a one-level mask), dense everything.
///
/// - Throws: `WeightFormatError` for a bad shape, a missing block shape (bsr, ubp), or a ubp
///   pattern that non-overlapping blocks cannot cover.
public func makeWeightMatrix(
    dense: UnsafeBufferPointer<Float>, rows: Int, columns: Int, format: WeightFormat, block: BlockShape?
) throws -> any WeightMatrix {
    let weights = try DenseWeights(rows: rows, columns: columns, copying: dense)
    return try makeWeightMatrix(weights, format: format, block: block)
}

/// `makeWeightMatrix(dense:rows:columns:format:block:)` for weights already in a `DenseWeights`.
public func makeWeightMatrix(_ weights: DenseWeights, format: WeightFormat, block: BlockShape?) throws -> any WeightMatrix {
    switch format {
    case .dense:
        return BLASDenseWeightMatrix(weights)
    case .csr:
        return CSRWeightMatrix(dense: weights)
    case .bsr:
        guard let block else { throw WeightFormatError.blockShapeRequired(format: format.rawValue) }
        return BlockSparseWeightMatrix(dense: weights, block: block)
    case .ubp:
        guard let block else { throw WeightFormatError.blockShapeRequired(format: format.rawValue) }
        return try UnalignedBlockWeightMatrix(dense: weights, block: block)
    case .masked:
        var lastRow = -1, lastColumn = -1
        for row in 0..<weights.rows {
            for column in 0..<weights.columns where weights.values[row * weights.columns + column] != 0 {
                lastRow = max(lastRow, row)
                lastColumn = max(lastColumn, column)
            }
        }
        return try MaskedWeightMatrix(
            storage: SharedWeightStorage(weights),
            mask: ChannelPrefixMask(activeRows: lastRow + 1, activeColumns: lastColumn + 1))
    }
}

/// Dense weights multiplied with OpenBLAS sgemm: the `dense` case of the factory and the
/// reference the format benchmark compares against. (The engine's own dense operator path
/// may replace it in the factory.)
public struct BLASDenseWeightMatrix: WeightMatrix {
    public let rows: Int
    public let columns: Int
    /// rows × columns values, row-major.
    public let values: [Float]

    public init(_ weights: DenseWeights) {
        rows = weights.rows
        columns = weights.columns
        values = weights.values
    }

    public var formatName: String { WeightFormat.dense.rawValue }
    public var storedBytes: Int { values.count * MemoryLayout<Float>.size }

    public func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard n > 0, rows > 0 else { return }
        guard columns > 0 else {
            for row in 0..<rows { zeroFill(c + row * ldc, count: n) }
            return
        }
        values.withUnsafeBufferPointer { weights in
            guard let a = weights.baseAddress else { return }
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(n), Int32(columns), 1, a,
                Int32(columns), b, Int32(ldb), 0, c, Int32(ldc))
        }
    }
}
