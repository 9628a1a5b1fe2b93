// GearboxProfiler/CellVisits: one cell measured at several points of a sweep, merged into the
// figures the lookup table stores. A cell's own CI describes its samples; the host's slow phases
// outlast a cell, so a rerun's p50 moves by more than that CI says. Visiting every cell at least
// twice (each visit in its own randomised order) samples that between-visit spread, and the
// merged CI carries it.

import Foundation
import GearboxCore
import GearboxRuntime

extension LatencySummary {
    /// The summary of one cell measured in `visits` (at least one) at different points of a sweep.
    ///
    /// p50, p90, p99, p99.9 and the mean are the means over the visits; min and max the extremes;
    /// the standard deviation is the pooled one (within-visit variance plus the spread of the
    /// visit means). The CI half-width combines within- and between-visit spread:
    /// √(mean of the visits' squared half-widths + z² · s²), where s² is the sample variance of
    /// the visit p50s and z the normal quantile of `confidence`. s² is not divided by the number
    /// of visits: the interval is meant to hold a rerun's p50, which lands in a phase of the host
    /// of its own, not only this sweep's mean. Two visits estimate s² with one degree of freedom,
    /// often far too small, so s² is at least `pooledRelativeVariance` × p50², the sweep's mean
    /// relative between-visit variance (the host's phases slow every cell alike): on two stored
    /// emulated sweeps the cell's own s² alone held 45 and 41 of 52 reruns, with the floor 51 and 50.
    /// The half-width is also at least `pooledRelativeHalfWidth` × p50, the sweep's own
    /// distribution-free figure for the same interval (`SweepVisitSpread`): a host's
    /// slow phases are not normal, and where their tail is heavier than z·s says, that holds.
    public static func combining(visits: [LatencySummary], confidence: Double = 0.95,
                                 pooledRelativeVariance: Double = 0, pooledRelativeHalfWidth: Double = 0) -> LatencySummary {
        guard let first = visits.first else { preconditionFailure("a cell has at least one visit") }
        guard visits.count > 1 else { return first }
        let k = Double(visits.count)
        // Variances are in ns², so the arithmetic runs on plain Doubles.
        func mean(_ value: (LatencySummary) -> Double) -> Double { visits.map(value).reduce(0, +) / k }
        let p50 = mean(\.p50Ns.value)
        let own = visits.map { ($0.p50Ns.value - p50) * ($0.p50Ns.value - p50) }.reduce(0, +) / (k - 1)
        let between = Swift.max(own, pooledRelativeVariance * p50 * p50)
        let within = mean { $0.ciHalfWidthNs.value * $0.ciHalfWidthNs.value }
        let z = MedianConfidence.normalQuantile(1 - (1 - confidence) / 2)
        let halfWidth = Swift.max((within + z * z * between).squareRoot(), pooledRelativeHalfWidth * p50)
        let n = visits.map(\.samples).reduce(0, +)
        let grandMean = visits.map { $0.meanNs.value * Double($0.samples) }.reduce(0, +) / Double(max(n, 1))
        let squares = visits.map {
            Double(max($0.samples - 1, 0)) * $0.stddevNs.value * $0.stddevNs.value
                + Double($0.samples) * ($0.meanNs.value - grandMean) * ($0.meanNs.value - grandMean)
        }.reduce(0, +)
        let stddev = n > 1 ? (squares / Double(n - 1)).squareRoot() : 0
        return LatencySummary(
            p50Ns: Nanoseconds(p50), p90Ns: Nanoseconds(mean(\.p90Ns.value)), p99Ns: Nanoseconds(mean(\.p99Ns.value)),
            p999Ns: Nanoseconds(mean(\.p999Ns.value)),
            minNs: visits.map(\.minNs).min() ?? first.minNs, maxNs: visits.map(\.maxNs).max() ?? first.maxNs,
            meanNs: Nanoseconds(grandMean), stddevNs: Nanoseconds(stddev), cv: grandMean > 0 ? stddev / grandMean : 0,
            ciLowNs: Nanoseconds(p50 - halfWidth), ciHighNs: Nanoseconds(p50 + halfWidth),
            ciHalfWidthNs: Nanoseconds(halfWidth), samples: n)
    }
}

extension CellRecord {
    /// One record for a cell from its kept visits (one attempt per visit, see
    /// `LookupTableBuilder.keptCells`): latency combined (`LatencySummary.combining`), power
    /// averaged and energy per inference that power × the combined mean latency, the
    /// temperature before the first visit and after the last, throttled when a visit was, noisy
    /// or retried when one was.
    static func merging(visits: [CellRecord], confidence: Double, spread: SweepVisitSpread) -> CellRecord {
        let ordered = visits.sorted { ($0.visit ?? 1) < ($1.visit ?? 1) }
        guard var merged = ordered.first else { preconditionFailure("a cell has at least one visit") }
        guard ordered.count > 1, let last = ordered.last else { return merged }
        func average(_ value: (CellRecord) -> Double?) -> Double? {
            let values = ordered.compactMap(value)
            return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
        merged.latency = LatencySummary.combining(visits: ordered.map(\.latency), confidence: confidence,
                                                  pooledRelativeVariance: spread.relativeVariance,
                                                  pooledRelativeHalfWidth: spread.relativeHalfWidth)
        merged.attempt = ordered.map(\.attempt).max() ?? merged.attempt
        merged.noisy = ordered.contains(where: \.noisy)
        merged.speedRatio = average(\.speedRatio) ?? merged.speedRatio
        merged.energyJ = average(\.energyJ)
        merged.powerW = average(\.powerW)
        // As for one visit: mean power × mean latency (see `ProfileSweep.measureCell`).
        merged.energyPerInferenceJ = merged.powerW.map { $0 * merged.latency.meanNs.seconds }
        merged.milliCelsiusAfter = last.milliCelsiusAfter
        merged.lowestDeliveredKHz = ordered.compactMap(\.lowestDeliveredKHz).min()
        merged.throttleReason = ordered.compactMap(\.throttleReason).first
        let interfered = ordered.compactMap(\.interferedWindows).reduce(0, +)
        merged.interferedWindows = interfered > 0 ? interfered : nil
        return merged
    }
}

/// How much a sweep's cells moved between their visits, from every cell visited more than once
/// (with a positive mean p50), in one pass: the two floors `LatencySummary.combining` puts
/// under each cell's interval.
struct SweepVisitSpread: Equatable {
    /// The mean over those cells of the sample variance of their visits' p50s relative to their
    /// mean p50 squared; 0 when there are none.
    let relativeVariance: Double
    /// The distribution-free half-width, relative to p50, of the interval that should hold a
    /// rerun's p50: the `confidence` nearest-rank percentile over every pair of visits of a cell
    /// of |p50ᵢ − p50ⱼ| / (the cell's mean p50), divided by √2. A pair's difference carries the
    /// within- and between-visit noise of two visits (variance 2σ²); a two-visit cell's p50 and
    /// its rerun's differ by σ² in variance, hence the √2. Under normal noise this equals z·σ,
    /// what `combining` computes from variances; with a heavier tail it is wider. 0 with fewer
    /// than `minimumVisitPairs` pairs (too few to place a tail percentile).
    let relativeHalfWidth: Double

    /// Pairs of visits needed before `relativeHalfWidth` places a 95th percentile: with 20 the
    /// percentile is the largest difference but one.
    static let minimumVisitPairs = 20

    init(_ cells: [[CellRecord]], confidence: Double) {
        var variances: [Double] = []
        var differences: [Double] = []
        for visits in cells where visits.count > 1 {
            let p50s = visits.map(\.latency.p50Ns.value)
            let mean = p50s.reduce(0, +) / Double(p50s.count)
            guard mean > 0 else { continue }
            variances.append(p50s.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(p50s.count - 1) / (mean * mean))
            for i in p50s.indices { for j in p50s.indices where j > i { differences.append(abs(p50s[i] - p50s[j]) / mean) } }
        }
        relativeVariance = variances.isEmpty ? 0 : variances.reduce(0, +) / Double(variances.count)
        if differences.count >= Self.minimumVisitPairs, let tail = NearestRank.value(in: differences.sorted(), at: confidence) {
            relativeHalfWidth = tail / 2.0.squareRoot()
        } else {
            relativeHalfWidth = 0
        }
    }
}
