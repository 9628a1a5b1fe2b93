// GearboxProfiler/LatencySummary: the statistics of one cell's latency samples. Percentiles come
// from an HdrHistogram (3 significant digits: every percentile is within 0.1% of the exact one);
// mean and standard deviation are exact; the median's 95% confidence interval comes from order
// statistics (distribution-free, see `MedianConfidence`).

import Foundation
import GearboxCore
import Histogram

/// Distribution-free confidence interval of a median from order statistics.
///
/// For n i.i.d. samples, the number of samples below the true median is Binomial(n, ½). The
/// interval [x₍ⱼ₎, x₍ₙ₋ⱼ₊₁₎] (1-based ranks of the sorted samples) therefore covers the median with
/// probability 1 − 2·P(Bin(n, ½) ≤ j − 1). We pick the largest j whose coverage is still ≥ the
/// requested confidence: exactly from the binomial CDF for n ≤ 2000, and from its normal
/// approximation (j = ⌊n/2 − z·√n/2⌋) above, where the two agree to within a rank. No assumption
/// about the latency distribution (which is skewed and often multi-modal) is needed, unlike a
/// mean ± t·s/√n interval; the bootstrap would give a similar width at far more cost per check.
public enum MedianConfidence {
    /// 1-based ranks (lower, upper) of the sorted samples bounding the median with at least
    /// `confidence` coverage; nil when n is too small for any interval to reach it (n < 6 at 95%).
    public static func ranks(sampleCount n: Int, confidence: Double = 0.95) -> (lower: Int, upper: Int)? {
        guard n >= 1 else { return nil }
        let alphaHalf = (1 - confidence) / 2
        if n <= 2000 {
            // P(Bin(n,½) ≤ k) accumulated in log space to stay finite for large n.
            let logHalfN = Double(n) * -0.693_147_180_559_945_3
            var logCoefficient = 0.0  // log C(n, 0)
            var cdf = 0.0
            var j = 0  // largest j with P(X ≤ j−1) ≤ α/2
            for k in 0..<n {
                cdf += Foundation.exp(logCoefficient + logHalfN)
                if cdf <= alphaHalf { j = k + 1 } else { break }
                logCoefficient += log(Double(n - k)) - log(Double(k + 1))
            }
            guard j >= 1 else { return nil }
            return (j, n - j + 1)
        }
        let z = normalQuantile(1 - alphaHalf)
        let j = Int((Double(n) / 2 - z * Double(n).squareRoot() / 2).rounded(.down))
        guard j >= 1 else { return nil }
        return (j, n - j + 1)
    }

    /// The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
    public static func normalQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q+c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q+1)
        }
        if p > 1 - low {
            let q = (-2 * log(1 - p)).squareRoot()
            return -(((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q+c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q+1)
        }
        let q = p - 0.5, r = q * q
        return (((((a[0]*r+a[1])*r+a[2])*r+a[3])*r+a[4])*r+a[5])*q / (((((b[0]*r+b[1])*r+b[2])*r+b[3])*r+b[4])*r+1)
    }

    /// The interval's half-width relative to the median, from already sorted samples; nil when
    /// there are too few samples for an interval.
    public static func relativeHalfWidth(sorted: [UInt64], confidence: Double = 0.95) -> Double? {
        guard let (lo, hi) = ranks(sampleCount: sorted.count, confidence: confidence) else { return nil }
        let median = exactMedian(sorted: sorted)
        guard median > 0 else { return nil }
        return Double(sorted[hi - 1] - sorted[lo - 1]) / 2 / median
    }

    /// The exact sample median of sorted values.
    public static func exactMedian(sorted: [UInt64]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let n = sorted.count
        return n % 2 == 1 ? Double(sorted[n / 2]) : (Double(sorted[n / 2 - 1]) + Double(sorted[n / 2])) / 2
    }
}

/// The statistics of one cell: what the lookup table and the sample database store.
public struct LatencySummary: Codable, Equatable, Sendable {
    public var p50Ns: Nanoseconds
    public var p90Ns: Nanoseconds
    public var p99Ns: Nanoseconds
    public var p999Ns: Nanoseconds
    public var minNs: Nanoseconds
    public var maxNs: Nanoseconds
    public var meanNs: Nanoseconds
    public var stddevNs: Nanoseconds
    /// Coefficient of variation: stddev / mean.
    public var cv: Double
    /// The 95% confidence interval of the median (order statistics); min...max when too few samples.
    public var ciLowNs: Nanoseconds
    public var ciHighNs: Nanoseconds
    public var ciHalfWidthNs: Nanoseconds
    public var samples: Int

    /// CI half-width relative to the median.
    public var relativeCIHalfWidth: Double { p50Ns > .zero ? ciHalfWidthNs / p50Ns : .infinity }

    public init(p50Ns: Nanoseconds, p90Ns: Nanoseconds, p99Ns: Nanoseconds, p999Ns: Nanoseconds, minNs: Nanoseconds, maxNs: Nanoseconds,
                meanNs: Nanoseconds, stddevNs: Nanoseconds, cv: Double, ciLowNs: Nanoseconds, ciHighNs: Nanoseconds,
                ciHalfWidthNs: Nanoseconds, samples: Int) {
        self.p50Ns = p50Ns; self.p90Ns = p90Ns; self.p99Ns = p99Ns; self.p999Ns = p999Ns; self.minNs = minNs
        self.maxNs = maxNs; self.meanNs = meanNs; self.stddevNs = stddevNs; self.cv = cv; self.ciLowNs = ciLowNs
        self.ciHighNs = ciHighNs; self.ciHalfWidthNs = ciHalfWidthNs; self.samples = samples
    }

    /// Summarises raw samples (ns). Percentiles from an HdrHistogram with 3 significant digits;
    /// mean, stddev (sample, n−1) and the median CI from the exact values.
    public init(samplesNs: [UInt64], confidence: Double = 0.95) {
        precondition(!samplesNs.isEmpty, "a cell has at least one sample")
        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var sum = 0.0
        for value in samplesNs {
            _ = histogram.record(Swift.max(value, 1))
            sum += Double(value)
        }
        let n = Double(samplesNs.count)
        let mean = sum / n
        var squares = 0.0
        for value in samplesNs { let d = Double(value) - mean; squares += d * d }
        let stddev = samplesNs.count > 1 ? (squares / (n - 1)).squareRoot() : 0
        let sorted = samplesNs.sorted()
        let p50 = Double(histogram.valueAtPercentile(50))
        // Too few samples for a 95% interval: fall back to the full range, a conservative bound.
        var low = Double(sorted[0]), high = Double(sorted[sorted.count - 1])
        if let (lo, hi) = MedianConfidence.ranks(sampleCount: sorted.count, confidence: confidence) {
            low = Double(sorted[lo - 1]); high = Double(sorted[hi - 1])
        }
        self.init(
            p50Ns: Nanoseconds(p50), p90Ns: Nanoseconds(histogram.valueAtPercentile(90)),
            p99Ns: Nanoseconds(histogram.valueAtPercentile(99)), p999Ns: Nanoseconds(histogram.valueAtPercentile(99.9)),
            minNs: Nanoseconds(sorted[0]), maxNs: Nanoseconds(sorted[sorted.count - 1]), meanNs: Nanoseconds(mean),
            stddevNs: Nanoseconds(stddev), cv: mean > 0 ? stddev / mean : 0, ciLowNs: Nanoseconds(low),
            ciHighNs: Nanoseconds(high), ciHalfWidthNs: Nanoseconds((high - low) / 2),
            samples: samplesNs.count)
    }
}
