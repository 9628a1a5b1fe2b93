// Tests for UnalignedBlockWeightMatrix: kernel vs the dense reference with overlapping bands,
// lossless conversion from a selection and from zeros, and rejection of invalid blocks.

import Testing
@testable import GearboxEngine

@Suite struct UnalignedBlockWeightMatrixTests {
    @Test(arguments: [0.0, 0.1, 0.4, 0.8])
    func multiplyMatchesDenseReferenceAcrossShapesAndBlocks(density: Double) throws {
        for (r, c) in BlockSparseWeightMatrixTests.blocks {
            let block = try BlockShape(rows: r, columns: c)
            for (index, (m, k, n)) in FormatFixtures.shapes.enumerated() {
                let base = FormatFixtures.weights(rows: m, columns: k, seed: UInt64(index + 21))
                let pattern = try Pruning.unalignedBlocks(base, block: block, sparsity: 1 - density)
                FormatFixtures.expectMatches(try pattern.weightMatrix(), pattern.pruned, n: n)
            }
        }
    }

    @Test func bandsThatOverlapInRowsAccumulate() throws {
        // Blocks at rows 0, 1, 2 and 5 of a 2×3 shape: rows 1–3 are shared between bands.
        let block = try BlockShape(rows: 2, columns: 3)
        let origins = [BlockOrigin(row: 1, column: 4), BlockOrigin(row: 0, column: 0),
                       BlockOrigin(row: 2, column: 1), BlockOrigin(row: 5, column: 7)]
        let base = FormatFixtures.weights(rows: 8, columns: 10, seed: 5)
        var keep = [Bool](repeating: false, count: 80)
        for o in origins { for i in 0..<2 { for j in 0..<3 { keep[(o.row + i) * 10 + o.column + j] = true } } }
        let a = base.keeping(keep)
        let ubp = try UnalignedBlockWeightMatrix(dense: a, block: block, origins: origins)
        #expect(ubp.bandCount == 4)
        #expect(ubp.origins == origins.sorted())
        #expect(ubp.denseWeights() == a)
        for n in [1, 8, 13, 200] { FormatFixtures.expectMatches(ubp, a, n: n) }
    }

    @Test func tallBlocksShareBandsWhereTheirFourRowPiecesLineUp() throws {
        // 8×1 blocks at rows 0 and 4: pieces at rows 0, 4 | 4, 8 → bands 0, 4 (two pieces), 8.
        let block = try BlockShape(rows: 8, columns: 1)
        let origins = [BlockOrigin(row: 0, column: 0), BlockOrigin(row: 4, column: 1)]
        let ubp = try UnalignedBlockWeightMatrix(rows: 12, columns: 3, block: block, origins: origins,
                                                 blockValues: (0..<16).map { Float($0 + 1) })
        #expect(ubp.bandCount == 3)
        #expect(ubp.origins == origins)
        FormatFixtures.expectMatches(ubp, ubp.denseWeights(), n: 17)
    }

    @Test func selectionKeepsTheTargetBlockCountWithoutOverlap() throws {
        let block = try BlockShape(rows: 4, columns: 4)
        let weights = FormatFixtures.weights(rows: 32, columns: 72, seed: 9)
        let pattern = try Pruning.unalignedBlocks(weights, block: block, sparsity: 0.75)
        #expect(pattern.origins.count == 32 * 72 / 4 / 16)
        #expect(abs(pattern.density - 0.25) < 1e-9)
        // Re-validating the chosen blocks throws on any overlap.
        let ubp = try pattern.weightMatrix()
        #expect(ubp.blockCount == pattern.origins.count)
        #expect(pattern.pruned.nonzeroCount == pattern.origins.count * 16)
    }

    @Test func selectionKeepsMoreMagnitudeThanAlignedBlocks() throws {
        let block = try BlockShape(rows: 4, columns: 4)
        let weights = FormatFixtures.weights(rows: 64, columns: 144, seed: 12)
        let aligned = try Pruning.alignedBlocks(weights, block: block, sparsity: 0.8)
        let unaligned = try Pruning.unalignedBlocks(weights, block: block, sparsity: 0.8).pruned
        let kept = { (w: DenseWeights) in w.values.reduce(Float(0)) { $0 + $1 * $1 } }
        #expect(kept(unaligned) > kept(aligned))
    }

    @Test func zerosFromAnUnalignedPatternAreCoveredExactly() throws {
        let block = try BlockShape(rows: 2, columns: 4)
        let pattern = try Pruning.unalignedBlocks(
            FormatFixtures.weights(rows: 16, columns: 40, seed: 2), block: block, sparsity: 0.7)
        let ubp = try UnalignedBlockWeightMatrix(dense: pattern.pruned, block: block)
        #expect(ubp.denseWeights() == pattern.pruned)
        #expect(ubp.blockCount <= pattern.origins.count)
        FormatFixtures.expectMatches(ubp, pattern.pruned, n: 21)
    }

    @Test func overlappingBlocksAreRejected() throws {
        let block = try BlockShape(rows: 2, columns: 2)
        let values = [Float](repeating: 1, count: 8)
        for pair in [[(0, 0), (1, 1)], [(0, 0), (0, 1)], [(3, 3), (2, 2)], [(1, 1), (1, 1)], [(2, 0), (1, 1)]] {
            let origins = pair.map { BlockOrigin(row: $0.0, column: $0.1) }
            #expect(throws: WeightFormatError.self) {
                try UnalignedBlockWeightMatrix(rows: 6, columns: 6, block: block, origins: origins, blockValues: values)
            }
        }
        // Touching but not overlapping is fine.
        let touching = [BlockOrigin(row: 0, column: 0), BlockOrigin(row: 0, column: 2), BlockOrigin(row: 2, column: 1)]
        _ = try UnalignedBlockWeightMatrix(rows: 6, columns: 6, block: block, origins: touching,
                                           blockValues: [Float](repeating: 1, count: 12))
    }

    @Test func outOfRangeBlocksAreRejectedWithOneLineErrors() throws {
        let block = try BlockShape(rows: 2, columns: 2)
        for (row, column) in [(-1, 0), (0, -1), (5, 0), (0, 5), (9, 9)] {
            do {
                _ = try UnalignedBlockWeightMatrix(rows: 6, columns: 6, block: block,
                                                   origins: [BlockOrigin(row: row, column: column)],
                                                   blockValues: [1, 1, 1, 1])
                Issue.record("block at (\(row), \(column)) was accepted")
            } catch let error as WeightFormatError {
                guard case .blockOutOfRange = error else { Issue.record("wrong error \(error)"); continue }
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func nonzerosOutsideTheGivenBlocksAreRejected() throws {
        let block = try BlockShape(rows: 1, columns: 2)
        var a = try DenseWeights.zeros(rows: 2, columns: 4)
        a[0, 0] = 1; a[1, 3] = 2
        #expect(throws: WeightFormatError.valueOutsideBlocks(row: 1, column: 3, format: "ubp")) {
            try UnalignedBlockWeightMatrix(dense: a, block: block, origins: [BlockOrigin(row: 0, column: 0)])
        }
    }

    @Test func uncoverablePatternsAreRejected() throws {
        // 1×4 blocks in a 1×5 row with nonzeros at both ends: the second block would overlap.
        var a = try DenseWeights.zeros(rows: 1, columns: 5)
        a[0, 0] = 1; a[0, 4] = 1
        #expect(throws: WeightFormatError.patternNotCoverable(row: 0, column: 4, block: try BlockShape(rows: 1, columns: 4))) {
            try UnalignedBlockWeightMatrix(dense: a, block: BlockShape(rows: 1, columns: 4))
        }
    }
}
