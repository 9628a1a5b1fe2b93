// Tests for MaskedWeightMatrix: masked sub-matrix product vs the reference, switching levels
// without copying weights, skipped work (masked weights and inputs are never read), and mask
// validation.

import Testing
@testable import GearboxEngine

@Suite struct MaskedWeightMatrixTests {
    /// The weights as the active mask sees them: active block kept, the rest zero.
    static func maskedReference(_ a: DenseWeights, _ mask: ChannelPrefixMask) -> DenseWeights {
        var keep = [Bool](repeating: false, count: a.values.count)
        for row in 0..<mask.activeRows { for column in 0..<mask.activeColumns { keep[row * a.columns + column] = true } }
        return a.keeping(keep)
    }

    @Test func everyLevelMatchesTheMaskedReference() throws {
        let a = FormatFixtures.weights(rows: 32, columns: 18 * 9, seed: 31)
        let masks = try Pruning.channelPrefixMasks(outputChannels: 32, inputChannels: 18, kernelArea: 9,
                                                   fractions: [0.25, 0.5, 0.75, 1])
        let selection = try MaskSelection(levelCount: 4)
        let layer = try MaskedWeightMatrix(storage: SharedWeightStorage(a), masks: masks, selection: selection)
        for level in 0..<4 {
            try selection.select(level: level)
            #expect(layer.activeMask == masks[level])
            for n in [1, 9, 70] { FormatFixtures.expectMatches(layer, Self.maskedReference(a, masks[level]), n: n) }
        }
        #expect(masks.map(\.activeRows) == [8, 16, 24, 32])
        #expect(masks.map(\.activeColumns) == [5 * 9, 9 * 9, 14 * 9, 18 * 9])
    }

    @Test func switchingLevelsSharesOneWeightBufferAcrossLayersAndLevels() throws {
        let a = FormatFixtures.weights(rows: 8, columns: 12, seed: 32)
        let storage = SharedWeightStorage(a)
        let selection = try MaskSelection(levelCount: 2)
        let masks = [ChannelPrefixMask(activeRows: 4, activeColumns: 6), ChannelPrefixMask(activeRows: 8, activeColumns: 12)]
        let first = try MaskedWeightMatrix(storage: storage, masks: masks, selection: selection)
        let second = try MaskedWeightMatrix(storage: storage, masks: masks, selection: selection)
        let address = storage.baseAddress
        try selection.select(level: 1)
        #expect(first.activeMask == masks[1] && second.activeMask == masks[1])
        try selection.select(level: 0)
        #expect(first.activeMask == masks[0] && second.activeMask == masks[0])
        #expect(first.storage === second.storage)
        #expect(first.storage.baseAddress == address && address != nil)
    }

    @Test func maskedWeightsAndInputsAreNeverRead() throws {
        // NaN everywhere outside the active sub-matrix (weights) and the active rows of B: a
        // kernel that multiplied masked channels by zero would propagate the NaNs.
        var a = FormatFixtures.weights(rows: 12, columns: 20, seed: 33)
        let mask = ChannelPrefixMask(activeRows: 5, activeColumns: 7)
        for row in 0..<12 { for column in 0..<20 where row >= 5 || column >= 7 { a[row, column] = .nan } }
        let layer = try MaskedWeightMatrix(storage: SharedWeightStorage(a), mask: mask)
        let n = 11
        var b = FormatFixtures.activations(count: 20 * n, seed: 34)
        for index in (7 * n)..<(20 * n) { b[index] = .nan }
        var c = [Float](repeating: 42, count: 12 * n)
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in layer.multiply(bp.baseAddress!, ldb: n, n: n, into: cp.baseAddress!, ldc: n) }
        }
        #expect(c.allSatisfy { $0.isFinite })
        #expect(c[(5 * n)...].allSatisfy { $0 == 0 })
        let expected = FormatFixtures.reference(Self.maskedReference(a, mask), b, ldb: n, n: n)
        for index in 0..<(5 * n) { #expect(abs(Double(c[index]) - expected[index]) < 1e-4) }
        #expect(layer.activeMask.multiplyAddsPerColumn == 35)
    }

    @Test func emptyMasksWriteZeros() throws {
        let a = FormatFixtures.weights(rows: 4, columns: 6, seed: 35)
        for mask in [ChannelPrefixMask(activeRows: 0, activeColumns: 6), ChannelPrefixMask(activeRows: 4, activeColumns: 0)] {
            let layer = try MaskedWeightMatrix(storage: SharedWeightStorage(a), mask: mask)
            FormatFixtures.expectMatches(layer, Self.maskedReference(a, mask), n: 5)
        }
    }

    @Test func invalidMasksAndLevelsAreRejected() throws {
        let storage = SharedWeightStorage(FormatFixtures.weights(rows: 4, columns: 6))
        #expect(throws: WeightFormatError.self) {
            try MaskedWeightMatrix(storage: storage, mask: ChannelPrefixMask(activeRows: 5, activeColumns: 6))
        }
        #expect(throws: WeightFormatError.self) {
            try MaskedWeightMatrix(storage: storage, masks: [ChannelPrefixMask(activeRows: 1, activeColumns: 1)],
                                   selection: MaskSelection(levelCount: 2))
        }
        let selection = try MaskSelection(levelCount: 3)
        #expect(throws: WeightFormatError.maskLevelOutOfRange(level: 3, count: 3)) { try selection.select(level: 3) }
        #expect(selection.level == 0)
        #expect(throws: WeightFormatError.self) { try MaskSelection(levelCount: 0) }
    }
}
