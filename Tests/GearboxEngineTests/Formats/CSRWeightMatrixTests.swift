// Tests for CSRWeightMatrix: kernel vs the dense reference, conversion, stored-array validation.

import Testing
@testable import GearboxEngine

@Suite struct CSRWeightMatrixTests {
    @Test(arguments: [0.0, 0.05, 0.3, 0.7, 1.0])
    func multiplyMatchesDenseReferenceAcrossShapes(density: Double) {
        for (index, (m, k, n)) in FormatFixtures.shapes.enumerated() {
            let a = FormatFixtures.weights(rows: m, columns: k, density: density, seed: UInt64(index + 1))
            FormatFixtures.expectMatches(CSRWeightMatrix(dense: a), a, n: n)
        }
    }

    @Test func emptyRowsAreWrittenAsZero() {
        var a = FormatFixtures.weights(rows: 6, columns: 10, density: 1)
        for row in [0, 3, 5] { for column in 0..<10 { a[row, column] = 0 } }
        let csr = CSRWeightMatrix(dense: a)
        #expect(csr.rowOffsets[1] == 0)
        FormatFixtures.expectMatches(csr, a, n: 19)
    }

    @Test func conversionKeepsExactlyTheNonzeros() {
        let a = FormatFixtures.weights(rows: 9, columns: 31, density: 0.4, seed: 3)
        let csr = CSRWeightMatrix(dense: a)
        #expect(csr.nonzeroCount == a.nonzeroCount)
        #expect(csr.denseWeights() == a)
        #expect(csr.storedBytes == (2 * a.nonzeroCount + 10) * 4)
    }

    @Test func storedArraysRoundTripThroughTheValidatingInitializer() throws {
        let a = FormatFixtures.weights(rows: 7, columns: 12, density: 0.5, seed: 4)
        let csr = CSRWeightMatrix(dense: a)
        let rebuilt = try CSRWeightMatrix(
            rows: 7, columns: 12, rowOffsets: csr.rowOffsets, columnIndices: csr.columnIndices, values: csr.values)
        #expect(rebuilt == csr)
    }

    @Test func inconsistentArraysAreRejectedWithOneLineErrors() {
        let cases: [([Int32], [Int32], [Float])] = [
            ([0, 1], [0], [1]),  // too few offsets for 2 rows
            ([0, 2, 1], [0, 1], [1, 2]),  // offsets decrease
            ([0, 1, 2], [0, 9], [1, 2]),  // column out of range
            ([0, 2, 2], [1, 1], [1, 2]),  // columns not ascending
            ([0, 1, 2], [0, 1], [1]),  // values/indices mismatch
        ]
        for (offsets, columns, values) in cases {
            #expect(throws: WeightFormatError.self) {
                try CSRWeightMatrix(rows: 2, columns: 3, rowOffsets: offsets, columnIndices: columns, values: values)
            }
            do {
                _ = try CSRWeightMatrix(rows: 2, columns: 3, rowOffsets: offsets, columnIndices: columns, values: values)
            } catch {
                #expect(!"\(error)".contains("\n"))
            }
        }
    }
}
