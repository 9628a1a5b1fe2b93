// GearboxEngine/Formats/BlockBands: the kernel layout shared by bsr and ubp. Each block is cut
// into pieces of at most four rows (the rows one kernel call keeps in registers); pieces are
// grouped into bands by (first row, height), so an 8×1 ubp block starting at row 5 adds a
// piece to band 5 and one to band 9, where it meets the pieces of other blocks that cover
// exactly those rows. A band's output rows are accumulated in registers across all its pieces;
// rows that an earlier band already wrote are added to, the rest are stored, and rows no band
// touches are written as zero, so C needs no clearing pass. For bsr, bands are block rows.

/// Blocks of one shape cut into pieces of ≤ 4 rows and grouped into bands by first row.
struct BlockBands: Hashable, Sendable {
    /// Rows one kernel call accumulates in registers.
    static let pieceRows = 4

    let rows: Int
    let columns: Int
    let block: BlockShape
    /// First output row of each band, ascending (ties: taller first).
    let bandRows: WeightArray<Int32>
    /// Rows of each band (≤ 4).
    let bandHeights: WeightArray<Int32>
    /// Leading rows of each band that earlier bands already wrote (accumulated, not stored).
    let bandAccumulateRows: WeightArray<Int32>
    /// bands + 1 offsets into the piece arrays.
    let bandOffsets: WeightArray<Int32>
    /// First column of each piece, ascending within a band.
    let pieceColumns: WeightArray<Int32>
    /// Where each piece's first row starts in `blockValues`.
    let pieceValueOffsets: WeightArray<Int32>
    /// block.rows × block.columns values per block, row-major within the block, in block order.
    let blockValues: WeightArray<Float>
    /// Rows that no band touches.
    let uncoveredRows: WeightArray<Int32>

    /// Builds the layout from blocks in storage order: each block's first row, rows kept (fewer
    /// than block.rows only where a bsr block is cut by the bottom edge) and first column.
    /// Callers validate positions by their own rules.
    init(rows: Int, columns: Int, block: BlockShape, blockRows: [Int32], blockHeights: [Int32],
         blockColumns: [Int32], blockValues: [Float]) {
        struct Piece { var row: Int32, height: Int32, column: Int32, valueOffset: Int32 }
        var pieces = [Piece]()
        pieces.reserveCapacity(blockRows.count * ((block.rows + Self.pieceRows - 1) / Self.pieceRows))
        for index in blockRows.indices {
            var top: Int32 = 0
            while top < blockHeights[index] {
                pieces.append(Piece(
                    row: blockRows[index] + top, height: min(Int32(Self.pieceRows), blockHeights[index] - top),
                    column: blockColumns[index],
                    valueOffset: Int32(index * block.elementCount) + top * Int32(block.columns)))
                top += Int32(Self.pieceRows)
            }
        }
        pieces.sort { ($0.row, -$0.height, $0.column, $0.valueOffset) < ($1.row, -$1.height, $1.column, $1.valueOffset) }

        var bandRows = [Int32](), bandHeights = [Int32](), bandOffsets: [Int32] = [0]
        for (index, piece) in pieces.enumerated() {
            if bandRows.last != piece.row || bandHeights.last != piece.height {
                if index > 0 { bandOffsets.append(Int32(index)) }
                bandRows.append(piece.row)
                bandHeights.append(piece.height)
            }
        }
        if !pieces.isEmpty { bandOffsets.append(Int32(pieces.count)) }

        // Bands sorted by first row: the rows an earlier band wrote form a prefix of each band.
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

        self.rows = rows
        self.columns = columns
        self.block = block
        self.bandRows = WeightArray(bandRows)
        self.bandHeights = WeightArray(bandHeights)
        self.bandAccumulateRows = WeightArray(accumulate)
        self.bandOffsets = WeightArray(bandOffsets)
        self.pieceColumns = WeightArray(pieces.map(\.column))
        self.pieceValueOffsets = WeightArray(pieces.map(\.valueOffset))
        self.blockValues = WeightArray(blockValues)
        self.uncoveredRows = WeightArray(covered.indices.filter { !covered[$0] }.map { Int32($0) })
    }

    /// The kernel tables as stored (a packed file's sections), in the order of `tables`.
    static let tableNames = ["bandRows", "bandHeights", "bandAccumulateRows", "bandOffsets", "pieceColumns",
                             "pieceValueOffsets", "uncoveredRows"]

    /// The Int32 tables, in `tableNames` order, for writing a packed file.
    var tables: [WeightArray<Int32>] {
        [bandRows, bandHeights, bandAccumulateRows, bandOffsets, pieceColumns, pieceValueOffsets, uncoveredRows]
    }

    /// Rebuilds the layout from tables read back (e.g. mapped from a packed file), after checking
    /// every index the kernel follows stays inside its arrays and the matrix, so a corrupt file
    /// fails here instead of reading out of bounds.
    init(rows: Int, columns: Int, block: BlockShape, tables: [WeightArray<Int32>], blockValues: WeightArray<Float>) throws {
        func fail(_ reason: String) -> WeightFormatError { .invalidIndexArrays(format: "bands", reason: reason) }
        guard tables.count == Self.tableNames.count else { throw fail("\(tables.count) tables, expected \(Self.tableNames.count)") }
        let (bandRows, bandHeights, accumulate, bandOffsets) = (tables[0], tables[1], tables[2], tables[3])
        let (pieceColumns, pieceValueOffsets, uncovered) = (tables[4], tables[5], tables[6])
        let bands = bandRows.count
        guard bandHeights.count == bands, accumulate.count == bands, bandOffsets.count == bands + 1, bandOffsets[0] == 0,
              Int(bandOffsets[bands]) == pieceColumns.count, pieceValueOffsets.count == pieceColumns.count,
              blockValues.count % block.elementCount == 0
        else { throw fail("table lengths disagree") }
        let staticWidth = columns % block.columns == 0
        for band in 0..<bands {
            let row = Int(bandRows[band]), height = Int(bandHeights[band])
            guard row >= 0, (1...Self.pieceRows).contains(height), row + height <= rows,
                  (0...height).contains(Int(accumulate[band])), bandOffsets[band] <= bandOffsets[band + 1]
            else { throw fail("band \(band) lies outside the matrix") }
            for piece in Int(bandOffsets[band])..<Int(bandOffsets[band + 1]) {
                let column = Int(pieceColumns[piece]), offset = Int(pieceValueOffsets[piece])
                guard column >= 0, column < columns, !staticWidth || column + block.columns <= columns, offset >= 0,
                      offset + height * block.columns <= blockValues.count
                else { throw fail("piece \(piece) lies outside the matrix or the values") }
            }
        }
        for index in 0..<uncovered.count where !(0..<rows).contains(Int(uncovered[index])) {
            throw fail("uncovered row \(uncovered[index]) is outside the matrix")
        }
        self.rows = rows
        self.columns = columns
        self.block = block
        self.bandRows = bandRows
        self.bandHeights = bandHeights
        self.bandAccumulateRows = accumulate
        self.bandOffsets = bandOffsets
        self.pieceColumns = pieceColumns
        self.pieceValueOffsets = pieceValueOffsets
        self.blockValues = blockValues
        self.uncoveredRows = uncovered
    }

    var bandCount: Int { bandRows.count }
    var blockCount: Int { blockValues.count / block.elementCount }

    /// Bytes kept resident: values plus every index array.
    var storedBytes: Int {
        blockValues.count * MemoryLayout<Float>.size
            + (bandRows.count + bandHeights.count + bandAccumulateRows.count + bandOffsets.count
                + pieceColumns.count + pieceValueOffsets.count + uncoveredRows.count) * MemoryLayout<Int32>.size
    }

    /// Each block's (first row, first column), in block order.
    var blockOrigins: [BlockOrigin] {
        var origins = [BlockOrigin](repeating: BlockOrigin(row: 0, column: 0), count: blockCount)
        for band in 0..<bandCount {
            for piece in Int(bandOffsets[band])..<Int(bandOffsets[band + 1]) {
                let offset = Int(pieceValueOffsets[piece])
                if offset % block.elementCount == 0 {  // the block's top piece
                    origins[offset / block.elementCount] =
                        BlockOrigin(row: Int(bandRows[band]), column: Int(pieceColumns[piece]))
                }
            }
        }
        return origins
    }

    /// C[M×N] = A·B.
    func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        // Index loops, not for-in over arrays: unspecialized (debug) iterators allocate, and the
        // engine's steady state must not, in any build.
        for index in 0..<uncoveredRows.count { zeroFill(c + Int(uncoveredRows[index]) &* ldc, count: n) }
        guard n > 0, !bandRows.isEmpty else { return }
        pieceColumns.withUnsafeBufferPointer { columnBuffer in
            pieceValueOffsets.withUnsafeBufferPointer { offsetBuffer in
                blockValues.withUnsafeBufferPointer { valueBuffer in
                    guard let columnBase = columnBuffer.baseAddress, let offsetBase = offsetBuffer.baseAddress,
                          let valueBase = valueBuffer.baseAddress
                    else { return }
                    let vectorEnd = n / floatVectorWidth * floatVectorWidth
                    var panel = 0
                    while panel < vectorEnd {
                        let panelEnd = min(panel + kernelPanelColumns, vectorEnd)
                        for band in 0..<bandCount {
                            sweep(band: band, columns: columnBase, offsets: offsetBase, values: valueBase,
                                  b: b, ldb: ldb, c: c, ldc: ldc, from: panel, to: panelEnd)
                        }
                        panel = panelEnd
                    }
                    if vectorEnd < n {
                        for band in 0..<bandCount {
                            scalarTail(band: band, columns: columnBase, offsets: offsetBase, values: valueBase,
                                       b: b, ldb: ldb, c: c, ldc: ldc, from: vectorEnd, to: n)
                        }
                    }
                }
            }
        }
    }

    /// One band over the vector columns [start, end).
    @inline(__always)
    private func sweep(
        band: Int, columns: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>, values: UnsafePointer<Float>,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, from start: Int, to end: Int
    ) {
        let firstPiece = Int(bandOffsets[band])
        let blocks = BandBlocks(
            count: Int(bandOffsets[band + 1]) - firstPiece, columns: columns + firstPiece,
            valueOffsets: offsets + firstPiece, values: values, blockColumns: block.columns,
            columnLimit: self.columns)
        // Pieces never cross the right edge when c divides K (always for ubp): width is static.
        let staticWidth = self.columns % block.columns == 0 ? block.columns : 0
        sweepBandGroup(
            rows: Int(bandHeights[band]), staticWidth: staticWidth, blocks: blocks, b: b, ldb: ldb,
            c: c + Int(bandRows[band]) &* ldc, ldc: ldc, accumulateRows: Int(bandAccumulateRows[band]),
            from: start, to: end)
    }

    /// The last n mod 8 columns, one dot product at a time.
    private func scalarTail(
        band: Int, columns: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>, values: UnsafePointer<Float>,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, from start: Int, to end: Int
    ) {
        let firstPiece = Int(bandOffsets[band]), lastPiece = Int(bandOffsets[band + 1])
        let startRow = Int(bandRows[band])
        let accumulate = Int(bandAccumulateRows[band])
        let blockWidth = block.columns
        for i in 0..<Int(bandHeights[band]) {
            for column in start..<end {
                var sum: Float = 0
                for piece in firstPiece..<lastPiece {
                    let first = Int(columns[piece])
                    let width = min(blockWidth, self.columns - first)
                    let weights = values + Int(offsets[piece]) + i * blockWidth
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
            for piece in Int(bandOffsets[band])..<Int(bandOffsets[band + 1]) {
                let first = Int(pieceColumns[piece]), offset = Int(pieceValueOffsets[piece])
                for i in 0..<Int(bandHeights[band]) {
                    for j in 0..<min(block.columns, columns - first) {
                        values[(startRow + i) * columns + first + j] += blockValues[offset + i * block.columns + j]
                    }
                }
            }
        }
        return DenseWeights(uncheckedRows: rows, columns: columns, values: values)
    }
}
