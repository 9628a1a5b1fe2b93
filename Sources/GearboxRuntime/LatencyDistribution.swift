// GearboxRuntime/LatencyDistribution: a whole latency distribution rebuilt from the summary a
// lookup-table cell keeps (p50, p90, p99, optional p99.9 and max, mean, stddev), so the policy can
// ask for any percentile and the simulator can draw latencies.
//
// How it is rebuilt (the quantile function Q(u)):
// - Upper half (u ≥ 0.5): piecewise linear in x = −ln(1−u) through the measured p50, p90, p99 and
//   p99.9. Linear in x is exactly an exponential tail between knots, the usual shape of latency
//   tails. Without a measured p99.9 the p90→p99 slope continues (p99.9 = p99 + (p99 − p90)); beyond
//   p99.9 the last slope continues up to the measured max (or p99.9 + 3·(p99.9 − p99) without one).
// - Lower half (u < 0.5): linear in u from a floor to p50; the floor is solved so that the
//   distribution's mean equals the cell's measured mean, clamped to [p50/2, p50].
// - stddev is used only when the percentiles are degenerate (all equal): then the knots come from
//   a normal distribution with the cell's mean and stddev.

import Foundation
import GearboxCore

/// A latency distribution reconstructed from a lookup-table cell's summary statistics.
public struct LatencyDistribution: Equatable, Sendable {
    // The knots in ns as plain Doubles: the quantile function is arithmetic on them.
    private var floor: Double, p50: Double, p90: Double, p99: Double, p999: Double, cap: Double, mean: Double

    /// Q(0): the fastest latency the reconstruction allows.
    public var floorNs: Nanoseconds { Nanoseconds(floor) }
    public var p50Ns: Nanoseconds { Nanoseconds(p50) }
    public var p90Ns: Nanoseconds { Nanoseconds(p90) }
    public var p99Ns: Nanoseconds { Nanoseconds(p99) }
    public var p999Ns: Nanoseconds { Nanoseconds(p999) }
    /// Q(1): the slowest latency the reconstruction allows.
    public var capNs: Nanoseconds { Nanoseconds(cap) }
    /// The cell's mean (the reconstruction's mean matches it unless the floor clamp bites).
    public var meanNs: Nanoseconds { Nanoseconds(mean) }

    static let x50 = log(2.0), x90 = log(10.0), x99 = log(100.0), x999 = log(1000.0)

    /// Rebuilds the distribution of `cell` as described in this file's header.
    public init(cell: LookupTable.LatencyCell) {
        var p50 = max(0, cell.p50Ns.value), p90 = cell.p90Ns.value, p99 = cell.p99Ns.value
        var p999 = cell.p999Ns?.value
        if p90 <= p50 && p99 <= p50 && cell.stddevNs > .zero {
            // Degenerate percentiles: fall back to a normal shape from mean and stddev.
            let mean = cell.meanNs.value, sd = cell.stddevNs.value
            p50 = max(0, mean); p90 = mean + 1.2816 * sd; p99 = mean + 2.3263 * sd; p999 = mean + 3.0902 * sd
        }
        p90 = max(p90, p50); p99 = max(p99, p90)
        let tail999 = max(p999 ?? (p99 + (p99 - p90)), p99)
        let cap = max(cell.maxNs?.value ?? (tail999 + 3 * (tail999 - p99)), tail999)
        self.init(floor: p50, p50: p50, p90: p90, p99: p99, p999: tail999, cap: cap, mean: cell.meanNs.value)
        // The lower half contributes 0.25·(floor + p50) to the mean; solve the floor from the mean.
        let solved = 4 * (cell.meanNs.value - upperHalfIntegral()) - p50
        floor = min(p50, max(p50 / 2, solved.isFinite ? solved : p50))
    }

    init(floor: Double, p50: Double, p90: Double, p99: Double, p999: Double, cap: Double, mean: Double) {
        self.floor = floor; self.p50 = p50; self.p90 = p90; self.p99 = p99
        self.p999 = p999; self.cap = cap; self.mean = mean
    }

    /// The same shape with every latency multiplied by `factor` (frequency scaling, drift).
    public func scaled(by factor: Double) -> LatencyDistribution {
        LatencyDistribution(
            floor: floor * factor, p50: p50 * factor, p90: p90 * factor, p99: p99 * factor,
            p999: p999 * factor, cap: cap * factor, mean: mean * factor)
    }

    /// Q(u): the latency at quantile `u` in [0, 1]. Exact at the measured knots.
    public func quantileNs(_ u: Double) -> Nanoseconds { Nanoseconds(quantile(u)) }

    private func quantile(_ u: Double) -> Double {
        if u <= 0.5 { return floor + (p50 - floor) * max(0, u) / 0.5 }
        if u == 0.9 { return p90 }
        if u == 0.99 { return p99 }
        if u == 0.999 { return p999 }
        let x = u >= 1 ? Double.infinity : -log(1 - u)
        return valueAt(x: x)
    }

    /// The statistic `objective` constrains: the percentile, or the mean.
    public func value(of statistic: LatencyObjective.Statistic) -> Nanoseconds {
        switch statistic {
        case .mean: return meanNs
        case let .percentile(p): return quantileNs(p / 100)
        }
    }

    /// The mean of the reconstruction itself (the cell's mean unless the floor clamp bit).
    public var reconstructedMeanNs: Nanoseconds { Nanoseconds(0.25 * (floor + p50) + upperHalfIntegral()) }

    // Q as a function of x = −ln(1−u) on the upper half.
    private func valueAt(x: Double) -> Double {
        func between(_ x0: Double, _ q0: Double, _ x1: Double, _ q1: Double) -> Double {
            q0 + (q1 - q0) * (x - x0) / (x1 - x0)
        }
        if x <= Self.x90 { return between(Self.x50, p50, Self.x90, p90) }
        if x <= Self.x99 { return between(Self.x90, p90, Self.x99, p99) }
        if x <= Self.x999 { return between(Self.x99, p99, Self.x999, p999) }
        let slope = (p999 - p99) / (Self.x999 - Self.x99)
        return min(cap, p999 + slope * (x - Self.x999))
    }

    // ∫ from u = 0.5 to 1 of Q(u) du, exact for the piecewise shape (u = 1 − e^−x, du = e^−x dx).
    private func upperHalfIntegral() -> Double {
        // ∫ (q0 + s(x − x0)) e^−x dx over [x0, x1] = q0·e^−x0 − q1·e^−x1 + s·(e^−x0 − e^−x1).
        func segment(_ x0: Double, _ q0: Double, _ x1: Double, _ q1: Double) -> Double {
            let s = (q1 - q0) / (x1 - x0)
            return q0 * exp(-x0) - q1 * exp(-x1) + s * (exp(-x0) - exp(-x1))
        }
        var total = segment(Self.x50, p50, Self.x90, p90) + segment(Self.x90, p90, Self.x99, p99)
            + segment(Self.x99, p99, Self.x999, p999)
        let slope = (p999 - p99) / (Self.x999 - Self.x99)
        let xCap = slope > 0 ? Self.x999 + (cap - p999) / slope : Self.x999
        if xCap > Self.x999 { total += segment(Self.x999, p999, xCap, cap) }
        return total + cap * exp(-xCap)
    }
}
