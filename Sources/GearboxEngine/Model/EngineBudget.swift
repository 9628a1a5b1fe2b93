// GearboxEngine/EngineBudget: how much memory a model may ask for, checked when its shapes are
// known and before any buffer is sized, so that a huge input shape (a `--shape`, a TensorProto
// input or a portfolio's `inputShape`) is refused in one line instead of allocating until the
// machine kills the process.

/// The engine's memory limits. Far above the edge models Gearbox runs (an input of a few
/// hundred thousand floats, an arena of a few MB), far below what would exhaust a board.
public enum EngineBudget {
    /// Most elements one runtime input may have: 2^26 (256 MiB of float32, e.g. 16 × 3 × 1024 × 1024).
    public static let maximumInputElements = 1 << 26
    /// Most bytes the planned activations and scratch space of one model may take: 4 GiB.
    public static let maximumWorkspaceBytes = 4 << 30

    /// Element count of `shape`, or nil when a dimension is negative or the product exceeds
    /// `limit` (or overflows).
    public static func elementCount(_ shape: [Int], limit: Int = maximumInputElements) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= limit else { return nil }
            count = product
        }
        return count
    }
}
