// GearboxEngine/Formats/BlockShape: the r×c shape of the dense blocks kept by block pruning
// (aligned `bsr` and unaligned `ubp`), parsed from and printed as "RxC".

/// The shape of one dense block: `rows` output channels × `columns` reduction elements.
public struct BlockShape: Hashable, Sendable, Codable, CustomStringConvertible {
    /// r: output rows covered by one block.
    public let rows: Int
    /// c: reduction columns covered by one block.
    public let columns: Int

    /// A block of `rows` × `columns`; both must be in 1...256.
    public init(rows: Int, columns: Int) throws {
        guard (1...256).contains(rows), (1...256).contains(columns) else {
            throw WeightFormatError.invalidBlockShape("\(rows)x\(columns)")
        }
        self.rows = rows
        self.columns = columns
    }

    /// For constants known to be valid.
    init(validRows rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
    }

    /// Parses "RxC" (also "R×C"), e.g. "4x4", "1x4", "8x1".
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(whereSeparator: { $0 == "x" || $0 == "×" })
        guard parts.count == 2, let rows = Int(parts[0]), let columns = Int(parts[1]) else {
            throw WeightFormatError.invalidBlockShape(text)
        }
        try self.init(rows: rows, columns: columns)
    }

    /// Elements per block (r·c).
    public var elementCount: Int { rows * columns }

    public var description: String { "\(rows)x\(columns)" }
}

extension BlockShape {
    /// 4×4 blocks.
    public static let fourByFour = BlockShape(validRows: 4, columns: 4)
    /// 1×4 blocks (one output row, four reduction columns).
    public static let oneByFour = BlockShape(validRows: 1, columns: 4)
    /// 8×1 blocks (eight output rows, one reduction column).
    public static let eightByOne = BlockShape(validRows: 8, columns: 1)
}
