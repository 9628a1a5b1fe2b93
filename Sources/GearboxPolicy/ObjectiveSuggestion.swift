// GearboxPolicy/ObjectiveSuggestion: picks a latency target that makes a table's trade-off
// visible, for the default pipeline: the most accurate variant meets it only near the top
// frequency, and the fastest variant still meets it at the bottom one.

import Foundation
import GearboxProfiler

extension LatencyObjective {
    /// A p99 objective for `table`: 15% above the most accurate variant's p99 at the highest
    /// frequency it was measured at, raised where needed so the fastest variant's p99 at the lowest frequency keeps a
    /// 25% margin. Rounded up to two significant digits. Nil when the table has no measured cells.
    ///
    /// "Most accurate" is by `accuracy`, or by MACs when the table has no accuracies.
    public static func suggestedP99(for table: LookupTable) -> LatencyObjective? {
        guard let bottom = table.frequenciesKHz.min() else { return nil }
        func p99(_ variant: LookupTable.Variant, _ kHz: Int) -> Double? { variant.latency[String(kHz)]?.p99Ns }
        /// The highest frequency the variant was measured at (its top cell may be missing).
        func topP99(_ variant: LookupTable.Variant) -> Double? {
            variant.latency.compactMap { key, cell in Int(key).map { ($0, cell.p99Ns) } }.max { $0.0 < $1.0 }?.1
        }
        let withAccuracy = table.variants.contains { $0.accuracy != nil }
        let accurate = table.variants.max { a, b in
            withAccuracy ? (a.accuracy ?? -1, -a.macs) < (b.accuracy ?? -1, -b.macs) : a.macs < b.macs
        }
        guard let accurate, let accurateTop = topP99(accurate) else { return nil }
        let fastestBottom = table.variants.compactMap { p99($0, bottom) }.min() ?? 0
        let target = max(accurateTop * 1.15, fastestBottom * 1.25)
        return LatencyObjective(statistic: .percentile(99), targetNs: roundedUp(target))
    }

    /// Rounds up to two significant digits (e.g. 3_412_000 → 3_500_000).
    static func roundedUp(_ value: Double) -> Double {
        guard value > 0 else { return value }
        let magnitude = pow(10, floor(log10(value)) - 1)
        return ceil(value / magnitude) * magnitude
    }
}
