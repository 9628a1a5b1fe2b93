// GearboxBenchmarks/DecisionBenchmark: times VariantSelector decisions one by one (for
// `gearbox bench policy`), side by side with the clock's own cost and with a naive selector that
// predicts every variant on each call, so the figures read as ratios measured in one run.

import GearboxCore
import GearboxPolicy
import GearboxProfiler
import GearboxRuntime

/// Per-decision timing of the selector against the timer and a naive, unprecomputed selector.
public enum DecisionBenchmark {
    /// Percentiles of one timed series, in ns (each includes one clock read).
    public struct Series: Sendable, Equatable {
        public var p50Ns: Nanoseconds
        public var p99Ns: Nanoseconds
        public var maxNs: Nanoseconds
    }

    public struct Result: Sendable {
        public var decisions: Int
        /// Two back-to-back clock reads: the floor under every figure.
        public var timer: Series
        /// ``VariantSelector/decide(frequencyKHz:atNs:)`` with its precomputed tables.
        public var selector: Series
        /// Predicting every variant from the table on each call (what the tables avoid).
        public var naive: Series
        /// Sum of chosen indices, so no work is optimised away.
        public var blackhole: Int
    }

    /// Times `decisions` decisions over `frequenciesKHz` (cycled, with feedback in between).
    public static func run(table: LookupTable, objective: LatencyObjective, frequenciesKHz: [Int], decisions: Int) throws -> Result {
        let selector = try VariantSelector(table: table, objective: objective)
        let predictor = LatencyPredictor(table: table)
        let indices = selector.variants.map { v in table.variants.firstIndex { $0.name == v.name } ?? 0 }
        let clock = VariantSelector.monotonicNs
        let n = max(1, decisions), m = max(1, frequenciesKHz.count)
        var timer = [Double](repeating: 0, count: n)
        var fast = [Double](repeating: 0, count: n)
        var slow = [Double](repeating: 0, count: max(1, n / 10))
        var sink = 0
        for i in 0..<n {
            let a = clock(), b = clock()
            timer[i] = Double(b - a)
        }
        for i in 0..<n {
            let kHz = frequenciesKHz[i % m]
            let start = clock()
            let d = selector.decide(frequencyKHz: kHz, atNs: start)
            let stop = clock()
            fast[i] = Double(stop - start)
            sink &+= d.variantIndex
            selector.observe(latencyNs: selector.predictedMeanNs(variantIndex: d.variantIndex, frequencyKHz: kHz))
        }
        // The naive selector is much slower; a tenth of the decisions give stable percentiles.
        for i in 0..<slow.count {
            let kHz = frequenciesKHz[i % m]
            let start = clock()
            var best = 0, bestScore = -Double.infinity
            for (v, t) in indices.enumerated() {
                guard let p = predictor.predict(variant: t, kHz: kHz) else { continue }
                let score = selector.score(ofVariant: v)
                if p.distribution.value(of: objective.statistic) <= selector.budgetNs && score > bestScore { best = v; bestScore = score }
            }
            let stop = clock()
            slow[i] = Double(stop - start)
            sink &+= best
        }
        return Result(decisions: n, timer: series(timer), selector: series(fast), naive: series(slow), blackhole: sink)
    }

    static func series(_ values: [Double]) -> Series {
        let sorted = values.sorted()
        return Series(
            p50Ns: Nanoseconds(ValidationMetrics.percentile(sorted, 0.5)),
            p99Ns: Nanoseconds(ValidationMetrics.percentile(sorted, 0.99)), maxNs: Nanoseconds(sorted.last ?? 0))
    }
}
