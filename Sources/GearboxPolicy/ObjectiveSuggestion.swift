// GearboxPolicy/ObjectiveSuggestion: picks a latency target that makes a table's trade-off
// visible, for the default pipeline: the most accurate variant meets it only near the top
// frequency, and the fastest variant still meets it at the bottom one.

import Foundation
import GearboxCore
import GearboxProfiler
import GearboxRuntime

extension LatencyObjective {
    /// A p99 objective for `table`: 15% above the most accurate variant's p99 at the highest
    /// frequency it was measured at, raised where needed so the fastest variant's p99 at the lowest
    /// frequency keeps a 25% margin — or only 10% when that is what it takes for the most accurate
    /// variant to miss the target at the lowest frequency. Rounded up to two significant digits.
    /// Nil when the table has no measured cells.
    ///
    /// "Most accurate" is by `accuracy`, or by MACs when the table has no accuracies.
    public static func suggestedP99(for table: LookupTable) -> LatencyObjective? {
        guard let bottom = table.frequenciesKHz.min() else { return nil }
        func p99(_ variant: LookupTable.Variant, _ kHz: Int) -> Double? { variant.latency[String(kHz)]?.p99Ns.value }
        /// The highest frequency the variant was measured at (its top cell may be missing).
        func topP99(_ variant: LookupTable.Variant) -> Double? {
            variant.latency.compactMap { key, cell in Int(key).map { ($0, cell.p99Ns.value) } }.max { $0.0 < $1.0 }?.1
        }
        let withAccuracy = table.variants.contains { $0.accuracy != nil }
        let accurate = table.variants.max { a, b in
            withAccuracy ? (a.accuracy ?? -1, -a.macs) < (b.accuracy ?? -1, -b.macs) : a.macs < b.macs
        }
        guard let accurate, let accurateTop = topP99(accurate) else { return nil }
        let fastestBottom = table.variants.compactMap { p99($0, bottom) }.min() ?? 0
        var target = roundedUp(max(accurateTop * 1.15, fastestBottom * 1.25))
        // When the variants' latencies are close (small models, where fixed costs dominate), that
        // target is met by the most accurate variant even at the bottom step and shows no
        // trade-off: tighten it to a 10% margin over the fastest variant there, if that makes
        // the most accurate one miss at the bottom.
        if let accurateBottom = p99(accurate, bottom), accurateBottom <= target {
            let tight = roundedUp(max(accurateTop * 1.15, fastestBottom * 1.10))
            if tight < accurateBottom { target = tight }
        }
        return LatencyObjective(statistic: .percentile(99), targetNs: Nanoseconds(target))
    }

    /// Rounds up to two significant digits (e.g. 3_412_000 → 3_500_000).
    static func roundedUp(_ value: Double) -> Double {
        guard value > 0 else { return value }
        let magnitude = pow(10, floor(log10(value)) - 1)
        return ceil(value / magnitude) * magnitude
    }

    /// Per measured frequency (highest first), how many of `table`'s variants meet this objective
    /// by their table statistic, and the most accurate one that does: what the suggestion buys.
    /// A percentile objective is read at the table's next percentile at or above it (p50, p90,
    /// p99, p99.9), so "meets" never flatters.
    public func coverage(in table: LookupTable) -> [Coverage] {
        table.frequenciesKHz.sorted(by: >).map { kHz in
            var meeting: [LookupTable.Variant] = []
            var measured = 0
            var predicted = 0
            for variant in table.variants {
                guard let cell = variant.latency[String(kHz)] else { continue }
                measured += 1
                if cell.source == .predicted { predicted += 1 }
                let value: Nanoseconds
                switch statistic {
                case .mean: value = cell.meanNs
                case let .percentile(p):  // the table's percentile at or above p
                    value = p <= 50 ? cell.p50Ns : p <= 90 ? cell.p90Ns : p <= 99 ? cell.p99Ns : (cell.p999Ns ?? cell.maxNs ?? cell.p99Ns)
                }
                if value <= targetNs { meeting.append(variant) }
            }
            let best = meeting.max { ($0.accuracy ?? -1, -$0.macs) < ($1.accuracy ?? -1, -$1.macs) }
            return Coverage(kHz: kHz, meeting: meeting.count, measured: measured, mostAccurateMeeting: best?.name, predicted: predicted)
        }
    }

    /// How many variants meet an objective at one frequency.
    public struct Coverage: Equatable, Sendable {
        public var kHz: Int
        public var meeting: Int
        /// Cells the table has at this frequency (measured or predicted).
        public var measured: Int
        public var mostAccurateMeeting: String?
        /// How many of those cells are predicted by the frequency model, not measured (a
        /// `--quick` profile measures three steps and predicts the rest).
        public var predicted: Int = 0

        /// One line for a listing: "1250000 kHz: 15/15 variants (most accurate: dense)", ending in
        /// "predicted" when the cells behind it are predicted rather than measured.
        public var line: String {
            let source = predicted == 0 ? "" : predicted == measured
                ? " — predicted (frequency model, not measured)"
                : " — \(predicted) of \(measured) cells predicted (frequency model, not measured)"
            return "\(kHz) kHz: \(meeting)/\(measured) variants" + (mostAccurateMeeting.map { " (most accurate: \($0))" } ?? "") + source
        }
    }
}
