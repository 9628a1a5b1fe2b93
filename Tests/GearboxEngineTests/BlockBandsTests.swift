// Tests for GearboxEngine/BlockBands: blocks cut into pieces of at most four rows, grouped into
// bands by (first row, height); a band's rows that an earlier band wrote are accumulated, rows no
// band touches are listed as uncovered; the multiply equals the dense product without a clearing
// pass; tables read back are checked before the kernel follows them.

import Testing

@testable import GearboxEngine

@Suite struct BlockBandsTests {
    /// Two 8×1 ubp blocks of a 16×4 matrix, at rows 5 (column 2) and 7 (column 0): pieces start
    /// at rows 5, 9 and 7, 11, so every band after the first overlaps the rows before it by two.
    static func overlappingBlocks() throws -> BlockBands {
        let values = (0..<16).map { Float($0 + 1) }
        return BlockBands(rows: 16, columns: 4, block: try BlockShape(rows: 8, columns: 1),
                          blockRows: [5, 7], blockHeights: [8, 8], blockColumns: [2, 0], blockValues: values)
    }

    @Test func piecesOfAtMostFourRowsFormBandsByFirstRowAndEarlierRowsAccumulate() throws {
        let bands = try Self.overlappingBlocks()
        #expect(Array(bands.bandRows) == [5, 7, 9, 11])
        #expect(Array(bands.bandHeights) == [4, 4, 4, 4])
        // Band 7 covers rows 7–10 of which 7 and 8 band 5 wrote; band 9 rows 9–12 of which band 7
        // wrote 9 and 10; band 11 rows 11–14 of which 11 and 12.
        #expect(Array(bands.bandAccumulateRows) == [0, 2, 2, 2])
        #expect(Array(bands.bandOffsets) == [0, 1, 2, 3, 4])
        #expect(Array(bands.pieceColumns) == [2, 0, 2, 0])
        // Block 0's values start at 0 (its second piece 4 rows × 1 column later), block 1's at 8.
        #expect(Array(bands.pieceValueOffsets) == [0, 8, 4, 12])
        #expect(Array(bands.uncoveredRows) == [0, 1, 2, 3, 4, 15])
        #expect(bands.blockOrigins == [BlockOrigin(row: 5, column: 2), BlockOrigin(row: 7, column: 0)])
    }

    @Test func multiplyEqualsTheDenseProductAndWritesEveryRow() throws {
        let bands = try Self.overlappingBlocks()
        let dense = bands.denseWeights()
        // Block 0 (values 1…8) in column 2, rows 5…12; block 1 (9…16) in column 0, rows 7…14.
        #expect(dense.values[5 * 4 + 2] == 1 && dense.values[12 * 4 + 2] == 8)
        #expect(dense.values[7 * 4 + 0] == 9 && dense.values[14 * 4 + 0] == 16)
        #expect(dense.values.filter { $0 != 0 }.count == 16)
        let n = 11  // not a multiple of the kernel's vector width: the scalar tail runs too
        let b = (0..<(4 * n)).map { Float(($0 * 7) % 13) - 6 }
        var expected = [Float](repeating: 0, count: 16 * n)
        for i in 0..<16 {
            for j in 0..<n {
                for k in 0..<4 { expected[i * n + j] += dense.values[i * 4 + k] * b[k * n + j] }
            }
        }
        // C starts as NaN: every row must be stored or zeroed, none read before it is written.
        var c = [Float](repeating: .nan, count: 16 * n)
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                guard let bBase = pb.baseAddress, let cBase = pc.baseAddress else { return }
                bands.multiply(bBase, ldb: n, n: n, into: cBase, ldc: n)
            }
        }
        #expect(c == expected)
    }

    @Test func aBlockCutByTheBottomEdgeKeepsOnlyItsRowsInside() throws {
        // A 4×2 bsr block at row 4 of a 6-row matrix keeps 2 rows.
        let values: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        let bands = BlockBands(rows: 6, columns: 2, block: try BlockShape(rows: 4, columns: 2),
                               blockRows: [4], blockHeights: [2], blockColumns: [0], blockValues: values)
        #expect(Array(bands.bandRows) == [4] && Array(bands.bandHeights) == [2])
        #expect(Array(bands.uncoveredRows) == [0, 1, 2, 3])
        #expect(bands.denseWeights().values == [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4])
    }

    @Test func tablesReadBackRebuildTheSameLayout() throws {
        let bands = try Self.overlappingBlocks()
        let read = try BlockBands(rows: 16, columns: 4, block: bands.block, tables: bands.tables, blockValues: bands.blockValues)
        #expect(read == bands)
        #expect(BlockBands.tableNames.count == bands.tables.count)
    }

    @Test(arguments: [
        ("a band taller than four rows", 1, 0, Int32(5)),
        ("a band past the last row", 0, 3, Int32(13)),
        ("a piece past the last column", 4, 0, Int32(4)),
        ("a piece past the values", 5, 0, Int32(15)),
        ("an uncovered row outside the matrix", 6, 0, Int32(16)),
    ])
    func corruptTablesAreRefusedBeforeTheKernelFollowsThem(what: String, table: Int, index: Int, value: Int32) throws {
        let bands = try Self.overlappingBlocks()
        var tables = bands.tables.map { Array($0) }
        tables[table][index] = value
        #expect(throws: WeightFormatError.self, "\(what)") {
            try BlockBands(rows: 16, columns: 4, block: bands.block, tables: tables.map { WeightArray($0) },
                           blockValues: bands.blockValues)
        }
        #expect(throws: WeightFormatError.self, "one table missing") {
            try BlockBands(rows: 16, columns: 4, block: bands.block, tables: Array(bands.tables.dropLast()),
                           blockValues: bands.blockValues)
        }
    }
}
