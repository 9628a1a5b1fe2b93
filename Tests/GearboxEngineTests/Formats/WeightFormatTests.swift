// Tests for the WeightFormat factory: every format built from dense weights with zeros keeps
// the product exact, and missing block shapes are one-line errors.

import Testing
@testable import GearboxEngine

@Suite struct WeightFormatTests {
    @Test(arguments: WeightFormat.allCases)
    func factoryKeepsTheProductOfDenseWeightsWithZeros(format: WeightFormat) throws {
        let block = try BlockShape(rows: 2, columns: 4)
        let base = FormatFixtures.weights(rows: 18, columns: 44, seed: 41)
        // A pattern every format can hold: unaligned blocks (bsr then stores whole grid blocks).
        let pruned = try Pruning.unalignedBlocks(base, block: block, sparsity: 0.75).pruned
        let matrix = try pruned.values.withUnsafeBufferPointer {
            try makeWeightMatrix(dense: $0, rows: 18, columns: 44, format: format, block: format.needsBlockShape ? block : nil)
        }
        #expect(matrix.formatName == format.rawValue)
        #expect(matrix.rows == 18 && matrix.columns == 44)
        FormatFixtures.expectMatches(matrix, pruned, n: 37)
    }

    @Test func maskedFactoryUsesTheSmallestPrefixHoldingEveryNonzero() throws {
        var a = try DenseWeights.zeros(rows: 6, columns: 9)
        a[0, 0] = 1; a[3, 2] = 2; a[1, 6] = 3
        let matrix = try makeWeightMatrix(a, format: .masked, block: nil)
        let masked = try #require(matrix as? MaskedWeightMatrix)
        #expect(masked.activeMask == ChannelPrefixMask(activeRows: 4, activeColumns: 7))
        FormatFixtures.expectMatches(masked, a, n: 10)
    }

    @Test func blockFormatsWithoutABlockShapeAreRejected() throws {
        let a = FormatFixtures.weights(rows: 2, columns: 2)
        for format in [WeightFormat.bsr, .ubp] {
            #expect(throws: WeightFormatError.blockShapeRequired(format: format.rawValue)) {
                try makeWeightMatrix(a, format: format, block: nil)
            }
        }
    }

    @Test func wrongValueCountsAreRejected() throws {
        let values: [Float] = [1, 2, 3]
        #expect(throws: WeightFormatError.self) {
            try values.withUnsafeBufferPointer { try makeWeightMatrix(dense: $0, rows: 2, columns: 2, format: .csr, block: nil) }
        }
    }

    @Test func everyErrorRendersAsOneLine() throws {
        let block = try BlockShape(rows: 2, columns: 2)
        let errors: [WeightFormatError] = [
            .invalidShape(rows: -1, columns: 2), .valueCountMismatch(what: "weights", expected: 4, actual: 3),
            .invalidBlockShape("0x4"), .blockShapeRequired(format: "bsr"), .invalidFraction(setting: "sparsity", value: 2),
            .invalidIndexArrays(format: "csr", reason: "x"),
            .blockOutOfRange(index: 0, row: 5, column: 5, block: block, rows: 4, columns: 4),
            .overlappingBlocks(first: 0, second: 1, row: 1, column: 1), .valueOutsideBlocks(row: 0, column: 0, format: "ubp"),
            .patternNotCoverable(row: 0, column: 0, block: block), .invalidMask(reason: "x"),
            .maskLevelOutOfRange(level: 2, count: 2), .unsupportedFormat("x", reason: "y"),
        ]
        for error in errors {
            #expect(!error.description.isEmpty && !error.description.contains("\n"))
        }
    }
}
