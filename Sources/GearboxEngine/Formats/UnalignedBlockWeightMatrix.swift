// GearboxEngine/Formats/UnalignedBlockWeightMatrix: the `ubp` format for unaligned block
// pruning (Lee & Shin, "Realizing Unaligned Block-wise Pruning for DNN Acceleration on Mobile
// Devices", arXiv 2407.19644). Every block is a full r×c rectangle that may start at any row
// and column, stored with its explicit origin. Rule: blocks lie fully inside the matrix and
// never overlap (the paper's selection keeps non-overlapping blocks; inputs that break this
// are rejected). Kernel: blocks are grouped by start row into bands and run through the same
// register-blocked band kernel as `bsr`; only the band bookkeeping differs (bands may overlap
// in rows, so rows an earlier band wrote are accumulated), so there is no per-element index
// decoding and speed at equal density stays close to `bsr`.

/// Where an unaligned block starts: its top-left element.
public struct BlockOrigin: Hashable, Sendable, Codable, Comparable {
    public let row: Int
    public let column: Int

    public init(row: Int, column: Int) {
        self.row = row
        self.column = column
    }

    public static func < (lhs: BlockOrigin, rhs: BlockOrigin) -> Bool {
        (lhs.row, lhs.column) < (rhs.row, rhs.column)
    }
}

/// A weight matrix made of non-overlapping r×c blocks at arbitrary offsets.
public struct UnalignedBlockWeightMatrix: WeightMatrix, Hashable {
    public let rows: Int
    public let columns: Int
    /// The r×c shape of every block.
    public let block: BlockShape
    let bands: BlockBands

    /// Wraps stored blocks: `origins` in any order, `blockValues` holding r·c row-major
    /// values per block in the same order. Rejects blocks outside the matrix or overlapping.
    public init(rows: Int, columns: Int, block: BlockShape, origins: [BlockOrigin], blockValues: [Float]) throws {
        try DenseWeights.checkShape(rows: rows, columns: columns)
        guard blockValues.count == origins.count * block.elementCount else {
            throw WeightFormatError.valueCountMismatch(
                what: "ubp block values", expected: origins.count * block.elementCount, actual: blockValues.count)
        }
        let order = try Self.validatedOrder(origins, block: block, rows: rows, columns: columns)
        var sortedValues = [Float]()
        sortedValues.reserveCapacity(blockValues.count)
        for index in order {
            let start = index * block.elementCount
            sortedValues.append(contentsOf: blockValues[start..<(start + block.elementCount)])
        }
        self.init(rows: rows, columns: columns, block: block, sortedOrigins: order.map { origins[$0] },
                  sortedValues: sortedValues)
    }

    /// Cuts the given blocks out of `dense`. Throws if a block is invalid or if a nonzero of
    /// `dense` lies outside every block (the conversion must be lossless).
    public init(dense: DenseWeights, block: BlockShape, origins: [BlockOrigin]) throws {
        let order = try Self.validatedOrder(origins, block: block, rows: dense.rows, columns: dense.columns)
        var covered = BitGrid(rows: dense.rows, columns: dense.columns)
        for origin in origins { covered.set(origin, block) }
        for row in 0..<dense.rows {
            for column in 0..<dense.columns where dense.values[row * dense.columns + column] != 0 {
                guard covered[row, column] else {
                    throw WeightFormatError.valueOutsideBlocks(row: row, column: column, format: "ubp")
                }
            }
        }
        let sorted = order.map { origins[$0] }
        self.init(rows: dense.rows, columns: dense.columns, block: block, sortedOrigins: sorted,
                  sortedValues: Self.cut(sorted, block: block, from: dense))
    }

    /// Covers the nonzeros of `dense` with non-overlapping blocks, greedily in row-major order:
    /// each uncovered nonzero gets the free block placement nearest below-right of it. Exact
    /// for patterns made of non-overlapping blocks (e.g. from `UnalignedBlockSelection`);
    /// throws `patternNotCoverable` where no free placement covers a nonzero.
    public init(dense: DenseWeights, block: BlockShape) throws {
        var occupied = BitGrid(rows: dense.rows, columns: dense.columns)
        var origins = [BlockOrigin]()
        for row in 0..<dense.rows {
            for column in 0..<dense.columns
            where dense.values[row * dense.columns + column] != 0 && !occupied[row, column] {
                guard let origin = Self.freePlacement(
                    covering: row, column, block: block, occupied: occupied, rows: dense.rows, columns: dense.columns)
                else { throw WeightFormatError.patternNotCoverable(row: row, column: column, block: block) }
                occupied.set(origin, block)
                origins.append(origin)
            }
        }
        origins.sort()
        self.init(rows: dense.rows, columns: dense.columns, block: block, sortedOrigins: origins,
                  sortedValues: Self.cut(origins, block: block, from: dense))
    }

    private init(rows: Int, columns: Int, block: BlockShape, sortedOrigins: [BlockOrigin], sortedValues: [Float]) {
        self.rows = rows
        self.columns = columns
        self.block = block
        self.bands = BlockBands(
            rows: rows, columns: columns, block: block, blockRows: sortedOrigins.map { Int32($0.row) },
            blockHeights: [Int32](repeating: Int32(block.rows), count: sortedOrigins.count),
            blockColumns: sortedOrigins.map { Int32($0.column) }, blockValues: sortedValues)
    }

    /// Wraps a validated kernel layout (a packed file's tables).
    init(bands: BlockBands) {
        rows = bands.rows
        columns = bands.columns
        block = bands.block
        self.bands = bands
    }

    public var formatName: String { WeightFormat.ubp.rawValue }

    /// Blocks stored.
    public var blockCount: Int { bands.blockCount }

    /// Kernel bands: groups of ≤ 4-row block pieces sharing their first row.
    public var bandCount: Int { bands.bandCount }

    /// Origin of each block, sorted by row, then column.
    public var origins: [BlockOrigin] { bands.blockOrigins }

    /// r·c values per block, row-major within the block, in `origins` order.
    public var blockValues: [Float] { Array(bands.blockValues) }

    public var storedBytes: Int { bands.storedBytes }

    public func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        bands.multiply(b, ldb: ldb, n: n, into: c, ldc: ldc)
    }

    /// The dense matrix these blocks represent.
    public func denseWeights() -> DenseWeights { bands.denseWeights() }

    // MARK: - Validation

    /// Checks every block fits and no two overlap; returns the block indices sorted by origin.
    static func validatedOrder(_ origins: [BlockOrigin], block: BlockShape, rows: Int, columns: Int) throws -> [Int] {
        for (index, origin) in origins.enumerated() {
            guard origin.row >= 0, origin.column >= 0, origin.row + block.rows <= rows,
                  origin.column + block.columns <= columns
            else {
                throw WeightFormatError.blockOutOfRange(
                    index: index, row: origin.row, column: origin.column, block: block, rows: rows, columns: columns)
            }
        }
        let order = origins.indices.sorted { origins[$0] < origins[$1] }
        // Blocks starting at each row, as a range of `order`.
        var rowStart = [Int](repeating: 0, count: rows + 1)
        for origin in origins { rowStart[origin.row + 1] += 1 }
        for row in 0..<rows { rowStart[row + 1] += rowStart[row] }
        // Two equal-shape blocks overlap iff their rows differ by < r and columns by < c.
        for (position, index) in order.enumerated() {
            let origin = origins[index]
            for otherRow in max(0, origin.row - block.rows + 1)...origin.row {
                // First block in that row whose column is > origin.column - c.
                var low = rowStart[otherRow], high = rowStart[otherRow + 1]
                while low < high {
                    let middle = (low + high) / 2
                    if origins[order[middle]].column <= origin.column - block.columns { low = middle + 1 } else { high = middle }
                }
                var candidate = low
                if candidate == position { candidate += 1 }
                guard candidate < rowStart[otherRow + 1] else { continue }
                let other = origins[order[candidate]]
                if other.column < origin.column + block.columns {
                    throw WeightFormatError.overlappingBlocks(
                        first: min(index, order[candidate]), second: max(index, order[candidate]),
                        row: max(origin.row, other.row), column: max(origin.column, other.column))
                }
            }
        }
        return order
    }

    private static func freePlacement(
        covering row: Int, _ column: Int, block: BlockShape, occupied: BitGrid, rows: Int, columns: Int
    ) -> BlockOrigin? {
        guard rows >= block.rows, columns >= block.columns else { return nil }
        let lastRow = min(row, rows - block.rows), firstRow = max(0, row - block.rows + 1)
        let lastColumn = min(column, columns - block.columns), firstColumn = max(0, column - block.columns + 1)
        guard firstRow <= lastRow, firstColumn <= lastColumn else { return nil }
        for startRow in stride(from: lastRow, through: firstRow, by: -1) {
            for startColumn in stride(from: lastColumn, through: firstColumn, by: -1) {
                let origin = BlockOrigin(row: startRow, column: startColumn)
                if occupied.isFree(origin, block) { return origin }
            }
        }
        return nil
    }

    private static func cut(_ origins: [BlockOrigin], block: BlockShape, from dense: DenseWeights) -> [Float] {
        var values = [Float]()
        values.reserveCapacity(origins.count * block.elementCount)
        for origin in origins {
            for i in 0..<block.rows {
                let start = (origin.row + i) * dense.columns + origin.column
                values.append(contentsOf: dense.values[start..<(start + block.columns)])
            }
        }
        return values
    }
}

/// One bit per matrix element: which elements a set of blocks covers.
struct BitGrid {
    let rows: Int
    let columns: Int
    private var words: [UInt64]

    init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        words = [UInt64](repeating: 0, count: (rows * columns + 63) / 64)
    }

    subscript(row: Int, column: Int) -> Bool {
        let bit = row * columns + column
        return words[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    mutating func set(_ origin: BlockOrigin, _ block: BlockShape) {
        for row in origin.row..<(origin.row + block.rows) {
            for column in origin.column..<(origin.column + block.columns) {
                let bit = row * columns + column
                words[bit >> 6] |= 1 << UInt64(bit & 63)
            }
        }
    }

    func isFree(_ origin: BlockOrigin, _ block: BlockShape) -> Bool {
        for row in origin.row..<(origin.row + block.rows) {
            for column in origin.column..<(origin.column + block.columns) where self[row, column] {
                return false
            }
        }
        return true
    }
}
