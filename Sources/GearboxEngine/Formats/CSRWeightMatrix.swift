// GearboxEngine/Formats/CSRWeightMatrix: the `csr` format for unstructured sparsity. Row
// offsets, a column index and a value per nonzero; the kernel walks each row's nonzeros once
// per tile of 64 columns of B, broadcasting the weight and accumulating the tile in registers
// (so work is proportional to the nonzeros; zeros are never stored or multiplied).

/// A weight matrix in compressed sparse row form.
public struct CSRWeightMatrix: RowRangeMultiplying, Hashable {
    public let rows: Int
    public let columns: Int
    /// rows + 1 offsets into `columnIndices`/`values`; row i's nonzeros are offsets[i]..<offsets[i+1].
    public var rowOffsets: [Int32] { Array(offsetArray) }
    /// Column of each nonzero, ascending within a row.
    public var columnIndices: [Int32] { Array(indexArray) }
    /// Value of each nonzero.
    public var values: [Float] { Array(valueArray) }

    /// The arrays the kernel reads (owned, or borrowed from a packed file's mapping).
    let offsetArray: WeightArray<Int32>
    let indexArray: WeightArray<Int32>
    let valueArray: WeightArray<Float>

    /// Wraps stored CSR arrays after checking that they describe a rows × columns matrix.
    public init(rows: Int, columns: Int, rowOffsets: [Int32], columnIndices: [Int32], values: [Float]) throws {
        try self.init(rows: rows, columns: columns, offsets: WeightArray(rowOffsets), indices: WeightArray(columnIndices),
                      values: WeightArray(values))
    }

    /// Wraps kernel arrays (e.g. mapped from a packed file) after the same checks, so corrupt
    /// indices are an error here rather than an out-of-bounds read in the kernel.
    init(rows: Int, columns: Int, offsets rowOffsets: WeightArray<Int32>, indices columnIndices: WeightArray<Int32>,
         values: WeightArray<Float>) throws {
        try DenseWeights.checkShape(rows: rows, columns: columns)
        guard rowOffsets.count == rows + 1, rowOffsets.first == 0 else {
            throw WeightFormatError.invalidIndexArrays(
                format: "csr", reason: "row offsets must hold rows + 1 = \(rows + 1) entries starting at 0")
        }
        guard columnIndices.count == values.count, Int(rowOffsets[rows]) == values.count else {
            throw WeightFormatError.invalidIndexArrays(
                format: "csr", reason: "last row offset, column index count and value count must all be equal")
        }
        for row in 0..<rows {
            let start = Int(rowOffsets[row]), end = Int(rowOffsets[row + 1])
            guard start <= end, end <= values.count else {
                throw WeightFormatError.invalidIndexArrays(format: "csr", reason: "row offsets decrease at row \(row)")
            }
            try WeightFormatError.checkAscending(columnIndices, in: start..<end, below: columns, format: "csr") { column in
                "row \(row) has column \(column): columns must ascend within a row and be < \(columns)"
            }
        }
        self.rows = rows
        self.columns = columns
        self.offsetArray = rowOffsets
        self.indexArray = columnIndices
        self.valueArray = values
    }

    /// Keeps every entry of `dense` that is not exactly zero.
    public init(dense: DenseWeights) {
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(dense.rows + 1)
        var columnIndices = [Int32](), values = [Float]()
        for row in 0..<dense.rows {
            for column in 0..<dense.columns {
                let value = dense.values[row * dense.columns + column]
                if value != 0 {
                    columnIndices.append(Int32(column))
                    values.append(value)
                }
            }
            offsets.append(Int32(values.count))
        }
        self.rows = dense.rows
        self.columns = dense.columns
        self.offsetArray = WeightArray(offsets)
        self.indexArray = WeightArray(columnIndices)
        self.valueArray = WeightArray(values)
    }

    public var formatName: String { WeightFormat.csr.rawValue }

    /// Nonzeros stored.
    public var nonzeroCount: Int { valueArray.count }

    public var storedBytes: Int {
        (valueArray.count + indexArray.count + offsetArray.count) * MemoryLayout<Float>.size
    }

    public func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        multiply(rows: 0..<rows, b, ldb: ldb, n: n, into: c, ldc: ldc)
    }

    /// C[r, ·] = A[r, ·] · B for r in `range` only (`c` points at row 0 of C).
    public func multiply(rows range: Range<Int>, _ b: UnsafePointer<Float>, ldb: Int, n: Int,
                         into c: UnsafeMutablePointer<Float>, ldc: Int) {
        let range = range.clamped(to: 0..<rows)
        guard n > 0, !range.isEmpty else { return }
        indexArray.withUnsafeBufferPointer { columnBuffer in
            valueArray.withUnsafeBufferPointer { valueBuffer in
                offsetArray.withUnsafeBufferPointer { offsets in
                    guard let columnBase = columnBuffer.baseAddress, let valueBase = valueBuffer.baseAddress else {
                        // No nonzeros at all: C is zero.
                        for row in range { zeroFill(c + row &* ldc, count: n) }
                        return
                    }
                    let vectorEnd = n / floatVectorWidth * floatVectorWidth
                    var panel = 0
                    while panel < vectorEnd {
                        let panelEnd = min(panel + kernelPanelColumns, vectorEnd)
                        for row in range {
                            let start = Int(offsets[row])
                            RowKernel<8>.sweep(
                                count: Int(offsets[row + 1]) - start, columns: columnBase + start,
                                values: valueBase + start, b: b, ldb: ldb, c: c + row &* ldc,
                                from: panel, to: panelEnd)
                        }
                        panel = panelEnd
                    }
                    guard vectorEnd < n else { return }
                    for row in range {
                        for column in vectorEnd..<n {
                            var sum: Float = 0
                            for index in Int(offsets[row])..<Int(offsets[row + 1]) {
                                sum += valueBase[index] * b[Int(columnBase[index]) &* ldb &+ column]
                            }
                            c[row &* ldc &+ column] = sum
                        }
                    }
                }
            }
        }
    }

    /// The dense matrix this CSR matrix represents.
    public func denseWeights() -> DenseWeights {
        var dense = [Float](repeating: 0, count: rows * columns)
        for row in 0..<rows {
            for index in Int(offsetArray[row])..<Int(offsetArray[row + 1]) {
                dense[row * columns + Int(indexArray[index])] = valueArray[index]
            }
        }
        return DenseWeights(uncheckedRows: rows, columns: columns, values: dense)
    }
}
