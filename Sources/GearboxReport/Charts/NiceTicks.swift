// GearboxReport/Charts/NiceTicks: tick positions people read easily (1, 2, 2.5 or 5 times a power
// of ten), after Heckbert's "nice numbers for graph labels", plus decade ticks for log axes.

import Foundation

/// Evenly spaced "nice" tick values covering a data range.
public struct NiceTicks: Sendable, Equatable {
    /// The ticks, ascending; the first is ≤ the data minimum and the last ≥ the data maximum.
    public var values: [Double]
    /// The distance between neighbouring ticks.
    public var step: Double

    /// The lower end of the axis the ticks span.
    public var lower: Double { values.first ?? 0 }
    /// The upper end of the axis the ticks span.
    public var upper: Double { values.last ?? 1 }

    /// Ticks covering `lower...upper` with about `targetCount` intervals.
    /// A degenerate range (equal ends or non-finite) is widened around its value.
    public init(covering lower: Double, _ upper: Double, targetCount: Int = 5) {
        var low = lower.isFinite ? min(lower, upper) : 0
        var high = upper.isFinite ? max(lower, upper) : 1
        if !lower.isFinite && upper.isFinite { low = upper }
        if high - low <= abs(high) * 1e-12 {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad; high += pad
        }
        let intervals = Double(max(1, targetCount))
        let step = NiceTicks.niceNumber((high - low) / intervals, round: true)
        let first = floor(low / step + 1e-9) * step
        let last = ceil(high / step - 1e-9) * step
        let count = Int(((last - first) / step).rounded()) + 1
        // Tick k is k × step, computed as k / (1/step) for fractional steps so 3 × 0.1 is
        // written 0.3 and not 0.30000000000000004; never -0.
        let firstIndex = (first / step).rounded()
        let inverse = (1 / step).rounded()
        let exactInverse = step < 1 && abs(inverse * step - 1) < 1e-12
        self.values = (0..<count).map { offset in
            let k = firstIndex + Double(offset)
            let value = exactInverse ? k / inverse : k * step
            return value == 0 ? 0 : value
        }
        self.step = step
    }

    /// The nice number near `value`: 1, 2, 2.5, 5 or 10 times a power of ten.
    /// With `round`, the nearest such number; otherwise the smallest one ≥ `value`.
    public static func niceNumber(_ value: Double, round: Bool) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let exponent = floor(log10(value))
        let power = pow(10, exponent)
        let fraction = value / power
        let nice: Double
        if round {
            switch fraction {
            case ..<1.5: nice = 1
            case ..<2.25: nice = 2
            case ..<3.5: nice = 2.5
            case ..<7.5: nice = 5
            default: nice = 10
            }
        } else {
            switch fraction {
            case ...1: nice = 1
            case ...2: nice = 2
            case ...2.5: nice = 2.5
            case ...5: nice = 5
            default: nice = 10
            }
        }
        return nice * power
    }

    /// Ticks for a log axis over positive `lower...upper`: every decade, and 2× and 5× when the
    /// range spans at most three decades. The list always brackets the range.
    public static func logarithmic(covering lower: Double, _ upper: Double) -> [Double] {
        let low = max(min(lower, upper), Double.leastNormalMagnitude)
        let high = max(max(lower, upper), low)
        let firstDecade = floor(log10(low))
        var lastDecade = ceil(log10(high))
        if lastDecade == firstDecade { lastDecade += 1 }
        let multipliers: [Double] = (lastDecade - firstDecade) <= 3 ? [1, 2, 5] : [1]
        var ticks: [Double] = []
        var decade = firstDecade
        while decade <= lastDecade {
            for multiplier in multipliers {
                ticks.append(multiplier * pow(10, decade))
            }
            decade += 1
        }
        // Keep only ticks inside the range, plus the nearest one on each side so it is covered.
        let below = ticks.last(where: { $0 <= low * (1 + 1e-9) }) ?? ticks[0]
        let above = ticks.first(where: { $0 >= high * (1 - 1e-9) }) ?? ticks[ticks.count - 1]
        return ticks.filter { $0 >= below && $0 <= above }
    }

    /// The number of decimals that shows every tick at this step distinctly.
    public static func decimals(forStep step: Double) -> Int {
        guard step > 0, step.isFinite else { return 0 }
        var decimals = 0
        var scaled = step
        while decimals < 6 && abs(scaled - scaled.rounded()) > 1e-6 * max(1, abs(scaled)) {
            scaled *= 10; decimals += 1
        }
        return decimals
    }
}
