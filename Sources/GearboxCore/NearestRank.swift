// GearboxCore/NearestRank: the one percentile rule for raw sample lists (run latencies,
// validation timelines, the profiler's visit spreads): the smallest value with at least a
// fraction q of the values at or below it, no interpolation, so it is always a measured value.

/// Nearest-rank percentiles of an ascending array.
public enum NearestRank {
    /// The value of rank ⌈q·n⌉ (clamped to 1…n) in ascending `sorted`; nil when it is empty.
    /// `q` is a fraction in (0, 1]: 0.5 for the median, 0.99 for p99.
    public static func value<Value>(in sorted: [Value], at q: Double) -> Value? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}
