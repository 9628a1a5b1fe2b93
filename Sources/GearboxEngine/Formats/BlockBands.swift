// GearboxEngine/Formats/BlockBands: the kernel layout shared by bsr and ubp. Blocks are grouped
// into bands by their first output row (for bsr a band is a block row; for ubp every distinct
// start row is a band, and bands may overlap in rows). A band's output rows are accumulated in
// registers across all its blocks; rows that an earlier band already wrote are added to, the
// rest are stored, and rows no band touches are written as zero, so C needs no clearing pass.

/// Blocks of one shape grouped into bands by first output row, sorted by row, then column.
struct BlockBands: Hashable, Sendable {
    let rows: Int
    let columns: Int
    let block: BlockShape
    /// First output row of each band, ascending.
    let bandRows: [Int32]
    /// Rows of each band: block.rows, or fewer where a bsr block row is cut by the matrix edge.
    let bandHeights: [Int32]
    /// Leading rows of each band that earlier bands already wrote (accumulated, not stored).
    let bandAccumulateRows: [Int32]
    /// bands + 1 offsets into the block arrays.
    let bandOffsets: [Int32]
    /// First column of each block.
    let blockColumns: [Int32]
    /// block.rows × block.columns values per block, row-major within the block.
    let blockValues: [Float]
    /// Rows that no band touches.
    let uncoveredRows: [Int32]

    /// Builds the layout; bands must be given in ascending row order with offsets into the
    /// block arrays (validated by the callers, which know their own rules).
    init(
        rows: Int, columns: Int, block: BlockShape, bandRows: [Int32], bandHeights: [Int32],
        bandOffsets: [Int32], blockColumns: [Int32], blockValues: [Float]
    ) {
        self.rows = rows
        self.columns = columns
        self.block = block
        self.bandRows = bandRows
        self.bandHeights = bandHeights
        self.bandOffsets = bandOffsets
        self.blockColumns = blockColumns
        self.blockValues = blockValues
        var accumulate = [Int32]()
        accumulate.reserveCapacity(bandRows.count)
        var covered = [Bool](repeating: false, count: rows)
        var writtenUpTo = 0
        for band in bandRows.indices {
            let start = Int(bandRows[band]), height = Int(bandHeights[band])
            accumulate.append(Int32(max(0, min(writtenUpTo - start, height))))
            writtenUpTo = max(writtenUpTo, start + height)
            for row in start..<(start + height) { covered[row] = true }
        }
        bandAccumulateRows = accumulate
        uncoveredRows = covered.indices.filter { !covered[$0] }.map { Int32($0) }
    }

    var bandCount: Int { bandRows.count }
    var blockCount: Int { blockColumns.count }

    /// Bytes kept resident: values plus every index array.
    var storedBytes: Int {
        blockValues.count * MemoryLayout<Float>.size
            + (bandRows.count + bandHeights.count + bandAccumulateRows.count + bandOffsets.count
                + blockColumns.count + uncoveredRows.count) * MemoryLayout<Int32>.size
    }

    /// C[M×N] = A·B.
    func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        for row in uncoveredRows { zeroFill(c + Int(row) &* ldc, count: n) }
        guard n > 0, !bandRows.isEmpty else { return }
        blockColumns.withUnsafeBufferPointer { columnBuffer in
            blockValues.withUnsafeBufferPointer { valueBuffer in
                guard let columnBase = columnBuffer.baseAddress, let valueBase = valueBuffer.baseAddress else { return }
                let vectorEnd = n / floatVectorWidth * floatVectorWidth
                var panel = 0
                while panel < vectorEnd {
                    let panelEnd = min(panel + kernelPanelColumns, vectorEnd)
                    for band in 0..<bandCount {
                        sweep(band: band, columns: columnBase, values: valueBase, b: b, ldb: ldb, c: c, ldc: ldc,
                              from: panel, to: panelEnd)
                    }
                    panel = panelEnd
                }
                if vectorEnd < n {
                    for band in 0..<bandCount {
                        scalarTail(band: band, columns: columnBase, values: valueBase, b: b, ldb: ldb, c: c, ldc: ldc,
                                   from: vectorEnd, to: n)
                    }
                }
            }
        }
    }

    /// One band over the vector columns [start, end), in row groups of at most four.
    @inline(__always)
    private func sweep(
        band: Int, columns: UnsafePointer<Int32>, values: UnsafePointer<Float>,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, from start: Int, to end: Int
    ) {
        let firstBlock = Int(bandOffsets[band])
        let height = Int(bandHeights[band])
        let accumulate = Int(bandAccumulateRows[band])
        let stride = block.elementCount
        var blocks = BandBlocks(
            count: Int(bandOffsets[band + 1]) - firstBlock, columns: columns + firstBlock,
            values: values + firstBlock * stride, blockColumns: block.columns, blockStride: stride,
            columnLimit: self.columns)
        var out = c + Int(bandRows[band]) &* ldc
        var group = 0
        while group < height {
            let groupRows = min(4, height - group)
            let groupAccumulate = max(0, accumulate - group)
            switch groupRows {
            case 4:
                BandKernel<4, 3>.sweep(blocks: blocks, b: b, ldb: ldb, c: out, ldc: ldc,
                                       accumulateRows: groupAccumulate, from: start, to: end)
            case 3:
                BandKernel<3, 3>.sweep(blocks: blocks, b: b, ldb: ldb, c: out, ldc: ldc,
                                       accumulateRows: groupAccumulate, from: start, to: end)
            case 2:
                BandKernel<2, 4>.sweep(blocks: blocks, b: b, ldb: ldb, c: out, ldc: ldc,
                                       accumulateRows: groupAccumulate, from: start, to: end)
            default:
                BandKernel<1, 8>.sweep(blocks: blocks, b: b, ldb: ldb, c: out, ldc: ldc,
                                       accumulateRows: groupAccumulate, from: start, to: end)
            }
            group += groupRows
            blocks.values += groupRows * block.columns
            out += groupRows &* ldc
        }
    }

    /// The last n mod 8 columns, one dot product at a time.
    private func scalarTail(
        band: Int, columns: UnsafePointer<Int32>, values: UnsafePointer<Float>,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, from start: Int, to end: Int
    ) {
        let firstBlock = Int(bandOffsets[band]), lastBlock = Int(bandOffsets[band + 1])
        let startRow = Int(bandRows[band])
        let accumulate = Int(bandAccumulateRows[band])
        let stride = block.elementCount, blockWidth = block.columns
        for i in 0..<Int(bandHeights[band]) {
            for column in start..<end {
                var sum: Float = 0
                for index in firstBlock..<lastBlock {
                    let first = Int(columns[index])
                    let width = min(blockWidth, self.columns - first)
                    let weights = values + index * stride + i * blockWidth
                    for j in 0..<width { sum += weights[j] * b[(first + j) &* ldb &+ column] }
                }
                let out = c + ((startRow + i) &* ldc &+ column)
                out.pointee = i < accumulate ? out.pointee + sum : sum
            }
        }
    }

    /// The dense matrix these blocks represent.
    func denseWeights() -> DenseWeights {
        var values = [Float](repeating: 0, count: rows * columns)
        for band in 0..<bandCount {
            let startRow = Int(bandRows[band])
            for index in Int(bandOffsets[band])..<Int(bandOffsets[band + 1]) {
                let first = Int(blockColumns[index])
                for i in 0..<Int(bandHeights[band]) {
                    for j in 0..<min(block.columns, columns - first) {
                        values[(startRow + i) * columns + first + j] +=
                            blockValues[index * block.elementCount + i * block.columns + j]
                    }
                }
            }
        }
        return DenseWeights(uncheckedRows: rows, columns: columns, values: values)
    }
}
