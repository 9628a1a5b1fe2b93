// GearboxEngine/Formats/WeightFormatError: what can go wrong while building a pruned weight
// format (csr, bsr, ubp, masked) from dense weights or from stored arrays. Each case renders
// as one line naming the setting at fault and the fix.

import GearboxCore

/// Errors from building or converting weights into a pruned weight format.
public enum WeightFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A matrix dimension is negative, or rows × columns overflows.
    case invalidShape(rows: Int, columns: Int)
    /// A value buffer holds `actual` floats where `expected` were needed.
    case valueCountMismatch(what: String, expected: Int, actual: Int)
    /// A block shape is not positive, or cannot be parsed from text.
    case invalidBlockShape(String)
    /// The format needs a block shape (bsr, ubp) and none was given.
    case blockShapeRequired(format: String)
    /// A sparsity or density outside [0, 1].
    case invalidFraction(setting: String, value: Double)
    /// CSR/BSR index arrays are inconsistent (offsets not monotone, index out of range, ...).
    case invalidIndexArrays(format: String, reason: String)
    /// An unaligned block does not lie fully inside the matrix.
    case blockOutOfRange(index: Int, row: Int, column: Int, block: BlockShape, rows: Int, columns: Int)
    /// Two unaligned blocks share at least one element.
    case overlappingBlocks(first: Int, second: Int, row: Int, column: Int)
    /// A nonzero weight lies outside every block, so the conversion would lose it.
    case valueOutsideBlocks(row: Int, column: Int, format: String)
    /// No non-overlapping block placement covers this nonzero (ubp from arbitrary zeros).
    case patternNotCoverable(row: Int, column: Int, block: BlockShape)
    /// A channel mask larger than its matrix, or not nested where nesting is required.
    case invalidMask(reason: String)
    /// A mask level that the selection does not have.
    case maskLevelOutOfRange(level: Int, count: Int)
    /// The format cannot be built by this entry point.
    case unsupportedFormat(String, reason: String)

    public var description: String {
        switch self {
        case .invalidShape(let rows, let columns):
            return "invalid weight matrix shape \(rows)×\(columns): rows and columns must be ≥ 0 and fit in memory"
        case .valueCountMismatch(let what, let expected, let actual):
            return "\(what) holds \(actual) values, expected \(expected): pass exactly rows × columns values in row-major order"
        case .invalidBlockShape(let text):
            return "invalid block shape '\(text)': use RxC with positive integers, e.g. 4x4, 1x4 or 8x1"
        case .blockShapeRequired(let format):
            return "format \(format) needs a block shape: pass --block RxC (e.g. 4x4)"
        case .invalidFraction(let setting, let value):
            return "\(setting) \(value) is outside [0, 1]: pass a fraction such as 0.9"
        case .invalidIndexArrays(let format, let reason):
            return "\(format) index arrays are inconsistent: \(reason)"
        case .blockOutOfRange(let index, let row, let column, let block, let rows, let columns):
            return "ubp block \(index) at (\(row), \(column)) of size \(block) does not fit in the \(rows)×\(columns) matrix: move it inside"
        case .overlappingBlocks(let first, let second, let row, let column):
            return "ubp blocks \(first) and \(second) overlap at (\(row), \(column)): ubp blocks must not overlap"
        case .valueOutsideBlocks(let row, let column, let format):
            return "nonzero weight at (\(row), \(column)) lies outside every \(format) block: prune it first or add a block covering it"
        case .patternNotCoverable(let row, let column, let block):
            return "no non-overlapping \(block) block can cover the nonzero at (\(row), \(column)): prune with the ubp pattern maker (--sparsity) or use csr/bsr"
        case .invalidMask(let reason):
            return "invalid channel mask: \(reason)"
        case .maskLevelOutOfRange(let level, let count):
            return "mask level \(level) does not exist: choose a level in 0..<\(count)"
        case .unsupportedFormat(let format, let reason):
            return "format \(format) is not supported here: \(reason)"
        }
    }
}

extension WeightFormatError: ClassifiedError {
    /// Every case is a setting or weights the user can fix: exit 2.
    public var exitStatus: ExitStatus { .inputError }
}

extension WeightFormatError {
    /// Checks one row of compressed-row index arrays (CSR columns, BSR block columns): the
    /// indices in `range` ascend strictly and stay below `bound`. The first that does not is
    /// thrown as ``invalidIndexArrays(format:reason:)`` with `reason(index)`.
    static func checkAscending<Indices: RandomAccessCollection<Int32>>(
        _ indices: Indices, in range: Range<Int>, below bound: Int, format: String, reason: (Int) -> String
    ) throws where Indices.Index == Int {
        var previous = -1
        for position in range {
            let index = Int(indices[position])
            guard index > previous, index < bound else {
                throw WeightFormatError.invalidIndexArrays(format: format, reason: reason(index))
            }
            previous = index
        }
    }
}
