// Tests for the pattern makers: sparsity reached, the right weights kept, channel orders.

import Testing
@testable import GearboxEngine

@Suite struct PruningTests {
    @Test(arguments: [0.0, 0.5, 0.9, 0.95, 1.0])
    func magnitudePruningReachesTheSparsityKeepingTheLargestWeights(sparsity: Double) throws {
        let weights = FormatFixtures.weights(rows: 20, columns: 50, seed: 51)
        let pruned = try Pruning.magnitude(weights, sparsity: sparsity)
        let kept = Int(((1 - sparsity) * 1000).rounded())
        #expect(pruned.nonzeroCount == kept)
        let smallestKept = pruned.values.filter { $0 != 0 }.map(abs).min() ?? .infinity
        let largestDropped = zip(weights.values, pruned.values).filter { $1 == 0 }.map { abs($0.0) }.max() ?? 0
        #expect(smallestKept >= largestDropped)
    }

    @Test func alignedBlockPruningKeepsWholeGridBlocksByNorm() throws {
        let block = try BlockShape(rows: 2, columns: 2)
        var weights = try DenseWeights.zeros(rows: 4, columns: 4)
        for (row, column, value) in [(0, 0, 1), (1, 1, 1), (2, 2, 5), (0, 3, 0.5), (3, 0, 0.1)] as [(Int, Int, Float)] {
            weights[row, column] = value
        }
        let pruned = try Pruning.alignedBlocks(weights, block: block, sparsity: 0.5)
        #expect(pruned[2, 2] == 5 && pruned[0, 0] == 1 && pruned[1, 1] == 1)
        #expect(pruned[0, 3] == 0 && pruned[3, 0] == 0)
    }

    @Test func unalignedSelectionFindsAnOffsetBlockThatAlignedPruningSplits() throws {
        // One heavy 2×2 block at (1, 1): the aligned grid cuts it into four pieces.
        var weights = FormatFixtures.weights(rows: 6, columns: 6, seed: 52)
        for i in 0..<6 { for j in 0..<6 { weights[i, j] *= 0.01 } }
        for i in 1...2 { for j in 1...2 { weights[i, j] = 10 } }
        let block = try BlockShape(rows: 2, columns: 2)
        let pattern = try Pruning.unalignedBlocks(weights, block: block, sparsity: 1 - 4.0 / 36)
        #expect(pattern.origins == [BlockOrigin(row: 1, column: 1)])
    }

    @Test func invalidSparsityIsRejected() throws {
        let weights = FormatFixtures.weights(rows: 2, columns: 2)
        for bad in [-0.1, 1.5, Double.nan] {
            #expect(throws: WeightFormatError.self) { try Pruning.magnitude(weights, sparsity: bad) }
            #expect(throws: WeightFormatError.self) {
                try Pruning.unalignedBlocks(weights, block: BlockShape(rows: 1, columns: 1), sparsity: bad)
            }
        }
    }

    @Test func channelOrderPutsTheHeaviestFiltersFirstAndPermutationsPair() throws {
        var weights = try DenseWeights.zeros(rows: 3, columns: 2)
        weights[0, 0] = 0.1; weights[1, 1] = -3; weights[2, 0] = 1
        let order = Pruning.outputChannelOrder(weights)
        #expect(order == [1, 2, 0])
        let reordered = try weights.permutingRows(order)
        #expect(reordered[0, 1] == -3 && reordered[1, 0] == 1 && reordered[2, 0] == 0.1)
        // Next layer: 1 output, 3 input channels of kernel area 2; permuting inputs keeps the product.
        let next = try DenseWeights(rows: 1, columns: 6, values: [1, 2, 3, 4, 5, 6])
        #expect(try next.permutingInputChannels(order, kernelArea: 2).values == [3, 4, 5, 6, 1, 2])
        #expect(throws: WeightFormatError.self) { try weights.permutingRows([0, 0, 1]) }
    }
}
