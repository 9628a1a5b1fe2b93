// GearboxEngine/Formats/DenseWeights: a row-major M×K weight matrix held as plain floats, the
// common currency of the pattern makers and the format converters (not a kernel format).

/// A layer's weights A[M×K] in row-major order, as read from a model or produced by pruning.
public struct DenseWeights: Hashable, Sendable {
    /// M: output channels or features.
    public let rows: Int
    /// K: reduction length (inputChannels·kH·kW for a Conv).
    public let columns: Int
    /// rows × columns values, row-major.
    public var values: [Float]

    /// Wraps `values` (row-major, exactly rows × columns of them).
    public init(rows: Int, columns: Int, values: [Float]) throws {
        try Self.checkShape(rows: rows, columns: columns)
        guard values.count == rows * columns else {
            throw WeightFormatError.valueCountMismatch(what: "weights", expected: rows * columns, actual: values.count)
        }
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// For callers in this module that built exactly rows × columns values.
    init(uncheckedRows rows: Int, columns: Int, values: [Float]) {
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// Copies `buffer` (row-major, exactly rows × columns of them).
    public init(rows: Int, columns: Int, copying buffer: UnsafeBufferPointer<Float>) throws {
        try self.init(rows: rows, columns: columns, values: Array(buffer))
    }

    /// The all-zero matrix.
    public static func zeros(rows: Int, columns: Int) throws -> DenseWeights {
        try checkShape(rows: rows, columns: columns)
        return try DenseWeights(rows: rows, columns: columns, values: Array(repeating: 0, count: rows * columns))
    }

    /// A(row, column).
    public subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// Number of entries that are not exactly zero.
    public var nonzeroCount: Int { values.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

    /// Fraction of entries that are not exactly zero (1 for an empty matrix).
    public var density: Double {
        values.isEmpty ? 1 : Double(nonzeroCount) / Double(values.count)
    }

    /// The same matrix with every weight outside `keep` set to zero.
    public func keeping(_ keep: [Bool]) -> DenseWeights {
        var copy = self
        for index in copy.values.indices where !keep[index] { copy.values[index] = 0 }
        return copy
    }

    static func checkShape(rows: Int, columns: Int) throws {
        guard rows >= 0, columns >= 0, !rows.multipliedReportingOverflow(by: columns).overflow,
              rows * columns <= Int(Int32.max)
        else { throw WeightFormatError.invalidShape(rows: rows, columns: columns) }
    }
}
