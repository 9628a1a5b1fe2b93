// Tests for BlockSparseWeightMatrix: block kernel vs the dense reference (ragged edges, every
// row-group size), conversion, stored-array validation.

import Testing
@testable import GearboxEngine

@Suite struct BlockSparseWeightMatrixTests {
    static let blocks: [(Int, Int)] = [(1, 1), (1, 4), (2, 2), (3, 5), (4, 4), (8, 1), (5, 3), (8, 8)]

    @Test(arguments: [0.0, 0.2, 0.6, 1.0])
    func multiplyMatchesDenseReferenceAcrossShapesAndBlocks(density: Double) throws {
        for (r, c) in Self.blocks {
            let block = try BlockShape(rows: r, columns: c)
            for (index, (m, k, n)) in FormatFixtures.shapes.enumerated() {
                let base = FormatFixtures.weights(rows: m, columns: k, seed: UInt64(index + 11))
                let a = try Pruning.alignedBlocks(base, block: block, sparsity: 1 - density)
                FormatFixtures.expectMatches(BlockSparseWeightMatrix(dense: a, block: block), a, n: n)
            }
        }
    }

    @Test func conversionIsExactAndKeepsOnlyBlocksWithNonzeros() throws {
        let block = try BlockShape(rows: 4, columns: 4)
        var a = try DenseWeights.zeros(rows: 10, columns: 10)
        a[0, 0] = 1; a[5, 9] = 2; a[9, 4] = 3; a[9, 5] = -1
        let bsr = BlockSparseWeightMatrix(dense: a, block: block)
        #expect(bsr.blockCount == 3)
        #expect(bsr.blockRowOffsets == [0, 1, 2, 3])
        #expect(bsr.blockColumnIndices == [0, 2, 1])
        #expect(bsr.denseWeights() == a)
        FormatFixtures.expectMatches(bsr, a, n: 11)
    }

    @Test func storedArraysRoundTripThroughTheValidatingInitializer() throws {
        let block = try BlockShape(rows: 2, columns: 3)
        let a = try Pruning.alignedBlocks(FormatFixtures.weights(rows: 7, columns: 11), block: block, sparsity: 0.5)
        let bsr = BlockSparseWeightMatrix(dense: a, block: block)
        let rebuilt = try BlockSparseWeightMatrix(
            rows: 7, columns: 11, block: block, blockRowOffsets: bsr.blockRowOffsets,
            blockColumnIndices: bsr.blockColumnIndices, blockValues: bsr.blockValues)
        #expect(rebuilt == bsr)
        #expect(rebuilt.denseWeights() == a)
    }

    @Test func inconsistentArraysAreRejected() throws {
        let block = try BlockShape(rows: 2, columns: 2)
        #expect(throws: WeightFormatError.self) {  // block column 2 of a 4-wide matrix (2 block columns)
            try BlockSparseWeightMatrix(rows: 4, columns: 4, block: block, blockRowOffsets: [0, 1, 1],
                                        blockColumnIndices: [2], blockValues: [1, 2, 3, 4])
        }
        #expect(throws: WeightFormatError.self) {  // values for one block short
            try BlockSparseWeightMatrix(rows: 4, columns: 4, block: block, blockRowOffsets: [0, 1, 1],
                                        blockColumnIndices: [0], blockValues: [1, 2, 3])
        }
        #expect(throws: WeightFormatError.self) {  // wrong number of block rows
            try BlockSparseWeightMatrix(rows: 4, columns: 4, block: block, blockRowOffsets: [0, 1],
                                        blockColumnIndices: [0], blockValues: [1, 2, 3, 4])
        }
    }

    @Test func blockColumnsThatDoNotAscendAreNamed() throws {
        let block = try BlockShape(rows: 2, columns: 2)
        #expect(throws: WeightFormatError.invalidIndexArrays(
            format: "bsr", reason: "block row 0 has block column 0: block columns must ascend and be < 2")) {
            try BlockSparseWeightMatrix(rows: 4, columns: 4, block: block, blockRowOffsets: [0, 2, 2],
                                        blockColumnIndices: [1, 0], blockValues: [Float](repeating: 1, count: 8))
        }
        #expect(throws: WeightFormatError.invalidIndexArrays(
            format: "csr", reason: "row 1 has column 3: columns must ascend within a row and be < 3")) {
            try CSRWeightMatrix(rows: 2, columns: 3, rowOffsets: [0, 1, 2], columnIndices: [0, 3], values: [1, 2])
        }
    }

    @Test func blockShapesParseFromText() throws {
        #expect(try BlockShape(parsing: "4x4") == BlockShape(rows: 4, columns: 4))
        #expect(try BlockShape(parsing: "8×1") == BlockShape(rows: 8, columns: 1))
        for bad in ["4", "0x4", "x4", "4x-1", "4x4x4", "axb"] {
            #expect(throws: WeightFormatError.self) { try BlockShape(parsing: bad) }
        }
    }
}
