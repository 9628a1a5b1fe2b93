// Tests for the SIMD micro-kernels behind csr, bsr and ubp (`RowKernel`, `BandKernel` through
// `sweepBandGroup`, and the vector helpers), called directly against a naive sparse × dense
// product: every tile width and remainder tile of a column range, every row count and static or
// run-time block width of a band, ragged right-edge pieces, accumulating rows, and no write
// outside the requested columns.

import GearboxCore
import Testing
@testable import GearboxEngine

@Suite struct SparseKernelsTests {
    static let sentinel: Float = 4321

    // MARK: Vector helpers

    @Test func vectorHelpersLoadStoreAndFillExactly() {
        var buffer = (0..<20).map { Float($0) }
        let loaded = buffer.withUnsafeBufferPointer { p in p.baseAddress.map { loadVector($0 + 3) } }
        #expect(loaded == FloatVector((3..<11).map { Float($0) }), "an unaligned load of 8 floats")
        buffer.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            storeVector(FloatVector(repeating: -1), base + 5)
            zeroFill(base + 15, count: 3)
            zeroFill(base, count: 0)
        }
        #expect(Array(buffer[0..<5]) == [0, 1, 2, 3, 4])
        #expect(Array(buffer[5..<13]) == [Float](repeating: -1, count: 8))
        #expect(Array(buffer[13..<15]) == [13, 14])
        #expect(Array(buffer[15..<18]) == [0, 0, 0])
        #expect(Array(buffer[18..<20]) == [18, 19])
        #expect(floatVectorWidth == FloatVector.scalarCount)
    }

    @Test func multiplyAddAddsTheProduct() {
        let a = FloatVector(1, 2, 3, 4, -5, 6, 0, 1e8)
        let x = FloatVector(0.5, -2, 3, 0, 2, 1.5, 7, 1)
        let y = FloatVector(4, 4, -1, 9, 2.5, 2, 3, 1)
        let r = multiplyAdd(a, x, y)
        for i in 0..<8 {
            #expect(r[i] == a[i].addingProduct(x[i], y[i]) || r[i] == a[i] + x[i] * y[i], "lane \(i)")
        }
        #expect(r == FloatVector(3, -6, 0, 4, 0, 9, 21, 1e8 + 1))
    }

    @Test func panelsAreAMultipleOfEveryTileWidth() {
        for tile in [64, 32, 24, 8] { #expect(kernelPanelColumns % tile == 0, "\(tile)") }
    }

    // MARK: CSR rows

    /// A CSR row: `count` distinct sorted columns below `k` and their values.
    static func row(count: Int, k: Int, seed: UInt64) -> (columns: [Int32], values: [Float]) {
        var rng = SplitMix64(seed: seed)
        var chosen = Set<Int32>()
        while chosen.count < min(count, k) { chosen.insert(Int32(rng.next() % UInt64(k))) }
        let values = Tensor.random(shape: [max(1, chosen.count)], seed: seed + 1).scalars
        return (chosen.sorted(), Array(values.prefix(chosen.count)))
    }

    /// Runs a row kernel over columns [start, end) of a C row of `n` floats filled with the sentinel.
    static func sweepRow(width: Int, columns: [Int32], values: [Float], b: [Float], ldb: Int, n: Int, start: Int, end: Int) -> [Float] {
        var c = [Float](repeating: sentinel, count: n)
        let cols = columns.isEmpty ? [Int32(0)] : columns, vals = values.isEmpty ? [Float(0)] : values
        c.withUnsafeMutableBufferPointer { cp in
            guard let cBase = cp.baseAddress else { return }
            switch width {
            case 8: RowKernel<8>.sweep(count: columns.count, columns: cols, values: vals, b: b, ldb: ldb, c: cBase, from: start, to: end)
            case 4: RowKernel<4>.sweep(count: columns.count, columns: cols, values: vals, b: b, ldb: ldb, c: cBase, from: start, to: end)
            case 2: RowKernel<2>.sweep(count: columns.count, columns: cols, values: vals, b: b, ldb: ldb, c: cBase, from: start, to: end)
            default: RowKernel<1>.sweep(count: columns.count, columns: cols, values: vals, b: b, ldb: ldb, c: cBase, from: start, to: end)
            }
        }
        return c
    }

    @Test(arguments: [8, 4, 2, 1])
    func rowKernelsMatchTheNaiveProductOverEveryColumnRange(tileVectors: Int) {
        let k = 37, n = 8 * 23, ldb = n + 5
        let b = Tensor.random(shape: [k * ldb], seed: 21, in: -2...2).scalars
        for nonzeros in [0, 1, 5, 37] {
            let (columns, values) = Self.row(count: nonzeros, k: k, seed: UInt64(nonzeros))
            // Ranges of 1…23 vectors: whole tiles of every width plus remainders of 4, 2 and 1 vectors.
            for (startVector, endVector) in [(0, 23), (0, 1), (1, 3), (2, 9), (3, 18), (0, 15), (8, 16), (5, 22)] {
                let start = 8 * startVector, end = 8 * endVector
                let c = Self.sweepRow(width: tileVectors, columns: columns, values: values, b: b, ldb: ldb, n: n, start: start, end: end)
                var worst: Float = 0, outsideKept = true
                for j in 0..<n {
                    if j >= start && j < end {
                        var sum = 0.0, scale = 1.0
                        for (column, value) in zip(columns, values) {
                            let term = Double(value) * Double(b[Int(column) * ldb + j])
                            sum += term
                            scale += abs(term)
                        }
                        worst = max(worst, Float(abs(Double(c[j]) - sum) / scale))
                    } else {
                        outsideKept = outsideKept && c[j] == Self.sentinel
                    }
                }
                #expect(worst < 1e-5, "\(nonzeros) nonzeros, vectors \(startVector)..<\(endVector): error \(worst)")
                #expect(outsideKept, "\(nonzeros) nonzeros, vectors \(startVector)..<\(endVector): wrote outside the range")
            }
        }
    }

    @Test func anEmptyRowWritesZeros() {
        let b = [Float](repeating: 1, count: 64)
        let c = Self.sweepRow(width: 8, columns: [], values: [], b: b, ldb: 64, n: 64, start: 0, end: 64)
        #expect(c.allSatisfy { $0 == 0 })
    }

    // MARK: Bands of blocks

    struct BandCase: CustomTestStringConvertible, Sendable {
        var rows: Int, blockColumns: Int, staticWidth: Int, k: Int
        var testDescription: String { "\(rows) rows, blocks \(rows)×\(blockColumns) (static \(staticWidth)), K \(k)" }
    }

    static let bandCases: [BandCase] = (1...4).flatMap { rows in
        [BandCase(rows: rows, blockColumns: 1, staticWidth: 1, k: 29),
         BandCase(rows: rows, blockColumns: 4, staticWidth: 4, k: 32),
         BandCase(rows: rows, blockColumns: 4, staticWidth: 0, k: 30),  // the last piece is clipped at K
         BandCase(rows: rows, blockColumns: 3, staticWidth: 0, k: 31),
         BandCase(rows: rows, blockColumns: 2, staticWidth: 0, k: 16)]
    }

    @Test(arguments: bandCases)
    func bandKernelsMatchTheNaiveProduct(_ t: BandCase) throws {
        let n = 8 * 30, ldb = n + 3, ldc = n + 9
        let b = Tensor.random(shape: [t.k * ldb], seed: 31, in: -2...2).scalars
        // Pieces at block-aligned columns (every other one, and always the last, possibly ragged).
        let slots = (t.k + t.blockColumns - 1) / t.blockColumns
        var firstColumns = stride(from: 0, to: slots, by: 2).map { Int32($0 * t.blockColumns) }
        if slots % 2 == 0 { firstColumns.append(Int32((slots - 1) * t.blockColumns)) }
        let pieceFloats = t.rows * t.blockColumns
        let values = Tensor.random(shape: [firstColumns.count * pieceFloats], seed: 32).scalars
        let offsets = (0..<firstColumns.count).map { Int32($0 * pieceFloats) }
        let initial = Tensor.random(shape: [t.rows * ldc], seed: 33).scalars

        for accumulateRows in 0...t.rows {
            for (startVector, endVector) in [(0, 30), (1, 2), (3, 10), (7, 30), (0, 5)] {
                let start = 8 * startVector, end = 8 * endVector
                var c = initial
                // Columns outside the range carry the sentinel: they must keep it.
                for i in 0..<t.rows { for j in 0..<ldc where j < start || j >= end { c[i * ldc + j] = Self.sentinel } }
                let before = c
                c.withUnsafeMutableBufferPointer { cp in
                    guard let cBase = cp.baseAddress else { return }
                    firstColumns.withUnsafeBufferPointer { columnBuffer in
                        offsets.withUnsafeBufferPointer { offsetBuffer in
                            values.withUnsafeBufferPointer { valueBuffer in
                                b.withUnsafeBufferPointer { bBuffer in
                                    guard let columns = columnBuffer.baseAddress, let offs = offsetBuffer.baseAddress,
                                          let vals = valueBuffer.baseAddress, let bBase = bBuffer.baseAddress else { return }
                                    let blocks = BandBlocks(count: firstColumns.count, columns: columns, valueOffsets: offs, values: vals,
                                                            blockColumns: t.blockColumns, columnLimit: t.k)
                                    sweepBandGroup(rows: t.rows, staticWidth: t.staticWidth, blocks: blocks, b: bBase, ldb: ldb, c: cBase, ldc: ldc,
                                                   accumulateRows: accumulateRows, from: start, to: end)
                                }
                            }
                        }
                    }
                }
                var worst: Float = 0, outsideKept = true
                for i in 0..<t.rows {
                    for j in 0..<ldc {
                        guard j >= start && j < end else {
                            outsideKept = outsideKept && c[i * ldc + j] == Self.sentinel
                            continue
                        }
                        var sum = i < accumulateRows ? Double(before[i * ldc + j]) : 0, scale = 1 + abs(sum)
                        for (piece, first) in firstColumns.enumerated() {
                            for jj in 0..<t.blockColumns where Int(first) + jj < t.k {
                                let term = Double(values[piece * pieceFloats + i * t.blockColumns + jj]) * Double(b[(Int(first) + jj) * ldb + j])
                                sum += term
                                scale += abs(term)
                            }
                        }
                        worst = max(worst, Float(abs(Double(c[i * ldc + j]) - sum) / scale))
                    }
                }
                #expect(worst < 1e-5, "accumulate \(accumulateRows), vectors \(startVector)..<\(endVector): error \(worst)")
                #expect(outsideKept, "accumulate \(accumulateRows), vectors \(startVector)..<\(endVector): wrote outside the range")
            }
        }
    }

    @Test func aRaggedPieceReadsNoRowOfBPastK() throws {
        // K = 5 with 4-wide blocks: the piece at column 4 has one real column. B rows past K are
        // NaN, so reading one would poison the result.
        let k = 5, n = 16, ldb = n
        var b = Tensor.random(shape: [(k + 3) * ldb], seed: 41).scalars
        for j in (k * ldb)..<b.count { b[j] = .nan }
        let values: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]  // two pieces of 1×4
        let columns: [Int32] = [0, 4], offsets: [Int32] = [0, 4]
        var c = [Float](repeating: 0, count: n)
        c.withUnsafeMutableBufferPointer { cp in
            guard let cBase = cp.baseAddress else { return }
            columns.withUnsafeBufferPointer { cb in
                offsets.withUnsafeBufferPointer { ob in
                    values.withUnsafeBufferPointer { vb in
                        guard let cs = cb.baseAddress, let os = ob.baseAddress, let vs = vb.baseAddress else { return }
                        let blocks = BandBlocks(count: 2, columns: cs, valueOffsets: os, values: vs, blockColumns: 4, columnLimit: k)
                        sweepBandGroup(rows: 1, staticWidth: 0, blocks: blocks, b: b, ldb: ldb, c: cBase, ldc: n, accumulateRows: 0, from: 0, to: n)
                    }
                }
            }
        }
        #expect(!c.contains { $0.isNaN })
        for j in 0..<n {
            let expected = (0..<4).reduce(0.0) { $0 + Double(values[$1]) * Double(b[$1 * ldb + j]) } + Double(values[4]) * Double(b[4 * ldb + j])
            #expect(abs(Double(c[j]) - expected) < 1e-4, "column \(j)")
        }
    }
}
