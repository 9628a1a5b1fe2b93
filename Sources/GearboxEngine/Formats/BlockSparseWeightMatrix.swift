// GearboxEngine/Formats/BlockSparseWeightMatrix: the `bsr` format for aligned block sparsity.
// Blocks of r×c sit on the r×c grid; each block row keeps the grid columns of its nonzero
// blocks and their dense values. The kernel accumulates a block row's r output rows (four at a
// time) in registers across all its blocks, loading each B row once per block column.

/// A weight matrix in block sparse row form with blocks aligned to the block grid.
public struct BlockSparseWeightMatrix: WeightMatrix, Hashable {
    public let rows: Int
    public let columns: Int
    /// The r×c shape of every block.
    public let block: BlockShape
    let bands: BlockBands

    /// Wraps stored BSR arrays: `blockRowOffsets` (ceil(rows/r) + 1 entries) index into
    /// `blockColumnIndices` (grid columns, ascending within a block row), and `blockValues`
    /// holds r·c values per block, row-major; entries past a ragged matrix edge are ignored.
    public init(
        rows: Int, columns: Int, block: BlockShape, blockRowOffsets: [Int32], blockColumnIndices: [Int32],
        blockValues: [Float]
    ) throws {
        try DenseWeights.checkShape(rows: rows, columns: columns)
        let blockRowCount = (rows + block.rows - 1) / block.rows
        let blockColumnCount = (columns + block.columns - 1) / block.columns
        guard blockRowOffsets.count == blockRowCount + 1, blockRowOffsets.first == 0,
              Int(blockRowOffsets[blockRowCount]) == blockColumnIndices.count
        else {
            throw WeightFormatError.invalidIndexArrays(
                format: "bsr",
                reason: "block row offsets must hold ceil(rows/r) + 1 = \(blockRowCount + 1) entries from 0 to the block count")
        }
        guard blockValues.count == blockColumnIndices.count * block.elementCount else {
            throw WeightFormatError.valueCountMismatch(
                what: "bsr block values", expected: blockColumnIndices.count * block.elementCount,
                actual: blockValues.count)
        }
        var blockRows = [Int32](), blockHeights = [Int32]()
        for blockRow in 0..<blockRowCount {
            let start = Int(blockRowOffsets[blockRow]), end = Int(blockRowOffsets[blockRow + 1])
            guard start <= end else {
                throw WeightFormatError.invalidIndexArrays(
                    format: "bsr", reason: "block row offsets decrease at block row \(blockRow)")
            }
            try WeightFormatError.checkAscending(blockColumnIndices, in: start..<end, below: blockColumnCount, format: "bsr") { blockColumn in
                "block row \(blockRow) has block column \(blockColumn): block columns must ascend and be < \(blockColumnCount)"
            }
            blockRows.append(contentsOf: repeatElement(Int32(blockRow * block.rows), count: end - start))
            blockHeights.append(contentsOf: repeatElement(Int32(min(block.rows, rows - blockRow * block.rows)), count: end - start))
        }
        self.rows = rows
        self.columns = columns
        self.block = block
        self.bands = BlockBands(
            rows: rows, columns: columns, block: block, blockRows: blockRows, blockHeights: blockHeights,
            blockColumns: blockColumnIndices.map { $0 * Int32(block.columns) }, blockValues: blockValues)
    }

    /// Keeps every grid block of `dense` that holds at least one nonzero (zeros inside a kept
    /// block are stored; the conversion is exact).
    public init(dense: DenseWeights, block: BlockShape) {
        let blockRowCount = (dense.rows + block.rows - 1) / block.rows
        let blockColumnCount = (dense.columns + block.columns - 1) / block.columns
        var blockRows = [Int32](), blockHeights = [Int32](), blockColumns = [Int32](), blockValues = [Float]()
        for blockRow in 0..<blockRowCount {
            let firstRow = blockRow * block.rows
            let height = min(block.rows, dense.rows - firstRow)
            for blockColumn in 0..<blockColumnCount {
                let firstColumn = blockColumn * block.columns
                let width = min(block.columns, dense.columns - firstColumn)
                var values = [Float](repeating: 0, count: block.elementCount)
                var nonzero = false
                for i in 0..<height {
                    for j in 0..<width {
                        let value = dense.values[(firstRow + i) * dense.columns + firstColumn + j]
                        values[i * block.columns + j] = value
                        nonzero = nonzero || value != 0
                    }
                }
                if nonzero {
                    blockRows.append(Int32(firstRow))
                    blockHeights.append(Int32(height))
                    blockColumns.append(Int32(firstColumn))
                    blockValues.append(contentsOf: values)
                }
            }
        }
        self.rows = dense.rows
        self.columns = dense.columns
        self.block = block
        self.bands = BlockBands(
            rows: dense.rows, columns: dense.columns, block: block, blockRows: blockRows, blockHeights: blockHeights,
            blockColumns: blockColumns, blockValues: blockValues)
    }

    /// Wraps a validated kernel layout (a packed file's tables).
    init(bands: BlockBands) {
        rows = bands.rows
        columns = bands.columns
        block = bands.block
        self.bands = bands
    }

    public var formatName: String { WeightFormat.bsr.rawValue }

    /// Blocks stored.
    public var blockCount: Int { bands.blockCount }

    /// ceil(rows/r) + 1 offsets into `blockColumnIndices`.
    public var blockRowOffsets: [Int32] {
        let blockRowCount = (rows + block.rows - 1) / block.rows
        var offsets = [Int32](repeating: 0, count: blockRowCount + 1)
        for origin in bands.blockOrigins { offsets[origin.row / block.rows + 1] += 1 }
        for index in 1..<offsets.count { offsets[index] += offsets[index - 1] }
        return offsets
    }

    /// Grid column (in blocks) of each block, ascending within a block row.
    public var blockColumnIndices: [Int32] { bands.blockOrigins.map { Int32($0.column / block.columns) } }

    /// r·c values per block, row-major within the block.
    public var blockValues: [Float] { Array(bands.blockValues) }

    public var storedBytes: Int { bands.storedBytes }

    public func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        bands.multiply(b, ldb: ldb, n: n, into: c, ldc: ldc)
    }

    /// The dense matrix these blocks represent.
    public func denseWeights() -> DenseWeights { bands.denseWeights() }
}
