// GearboxPolicy/ValidationMetrics: one policy run's figures for summary.json: violation rate
// (overall and per trace segment), delivered accuracy, switches, latency percentiles, regret vs
// the oracle, and the coefficient of variation of per-frequency mean latency.

import Foundation
import GearboxCore

/// Turns a ``PolicyRun`` into the summary's per-policy figures.
public enum ValidationMetrics {
    /// The figures of `run` over `trace` (its segments on `domain`), with regret against
    /// `oracleAccuracy` when known.
    public static func result(
        of run: PolicyRun, trace: FrequencyTrace, domain: Int = 0, oracleAccuracy: Double?
    ) -> ValidationSummary.PolicyResult {
        let rows = run.rows
        let n = rows.count
        guard n > 0 else {
            return .init(
                violationRate: 0, meanAccuracy: nil, switches: 0, switchTimeNs: 0, p50Ns: 0, p99Ns: 0,
                regretVsOracle: nil, inferences: 0, note: "no inference completed")
        }
        let violations = rows.filter(\.violation).count
        let accuracy = meanAccuracy(of: run)
        let latencies = rows.map(\.latencyNs.value).sorted()

        // Per segment: which run of constant frequency each inference started in.
        let segments = trace.segments(domain: domain)
        var perSegment: [Int: (total: Int, violations: Int)] = [:]
        var segment = 0
        for row in rows {  // rows are in time order
            while segment + 1 < segments.count && row.timeMs >= segments[segment + 1].startMs { segment += 1 }
            perSegment[segment, default: (0, 0)].total += 1
            if row.violation { perSegment[segment, default: (0, 0)].violations += 1 }
        }
        let segmentRates = Dictionary(uniqueKeysWithValues: perSegment.map { (String($0.key), Double($0.value.violations) / Double($0.value.total)) })

        return .init(
            violationRate: Double(violations) / Double(n),
            meanAccuracy: accuracy,
            switches: rows.filter(\.switched).count,
            switchTimeNs: rows.reduce(Nanoseconds.zero) { $0 + $1.switchNs },
            p50Ns: Nanoseconds(percentile(latencies, 0.50)),
            p99Ns: Nanoseconds(percentile(latencies, 0.99)),
            regretVsOracle: both(oracleAccuracy, accuracy).map { $0 - $1 },
            inferences: rows.reduce(0) { $0 + $1.inferences },
            latencyCVAcrossFrequencies: latencyCV(rows),
            segmentViolationRates: segmentRates,
            note: run.notes.isEmpty ? nil : run.notes.joined(separator: "; "))
    }

    /// Mean accuracy over the run's inferences, or nil when the table has no accuracies.
    public static func meanAccuracy(of run: PolicyRun) -> Double? {
        guard !run.rows.isEmpty, !run.accuracyByVariant.isEmpty else { return nil }
        var sum = 0.0
        for row in run.rows {
            guard let a = run.accuracyByVariant[row.variant] else { return nil }
            sum += a
        }
        return sum / Double(run.rows.count)
    }

    /// Nearest-rank percentile of ascending `sorted` values, `q` in (0, 1].
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        NearestRank.value(in: sorted, at: q) ?? 0
    }

    /// Coefficient of variation (population stddev / mean) of the per-frequency mean latencies,
    /// or nil when fewer than two frequencies were visited.
    public static func latencyCV(_ rows: [TimelineRow]) -> Double? {
        var sums: [Int: (sum: Double, count: Int)] = [:]
        for row in rows { sums[row.kHz, default: (0, 0)].sum += row.latencyNs.value; sums[row.kHz, default: (0, 0)].count += 1 }
        guard sums.count >= 2 else { return nil }
        let means = sums.values.map { $0.sum / Double($0.count) }
        let mean = means.reduce(0, +) / Double(means.count)
        guard mean > 0 else { return nil }
        let variance = means.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(means.count)
        return variance.squareRoot() / mean
    }
}

private func both(_ a: Double?, _ b: Double?) -> (Double, Double)? {
    guard let a, let b else { return nil }
    return (a, b)
}
