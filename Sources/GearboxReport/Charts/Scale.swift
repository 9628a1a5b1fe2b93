// GearboxReport/Charts/Scale: maps data values to pixel positions along one axis (linear or log10).

import Foundation

/// A continuous mapping from a data domain to a pixel range.
public struct Scale: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case linear, logarithmic }

    public var kind: Kind
    /// Data values at the two ends (ascending).
    public var domainLower: Double
    public var domainUpper: Double
    /// Pixel positions of `domainLower` and `domainUpper` (for a y axis, start > end).
    public var rangeStart: Double
    public var rangeEnd: Double

    public init(kind: Kind = .linear, domain: (Double, Double), range: (Double, Double)) {
        self.kind = kind
        var lower = min(domain.0, domain.1)
        var upper = max(domain.0, domain.1)
        if kind == .logarithmic {
            lower = max(lower, Double.leastNormalMagnitude)
            upper = max(upper, lower * 10)
        } else if upper == lower {
            upper = lower + 1
        }
        self.domainLower = lower
        self.domainUpper = upper
        self.rangeStart = range.0
        self.rangeEnd = range.1
    }

    /// The pixel position of `value`; values outside the domain extrapolate (charts clip them).
    public func position(of value: Double) -> Double {
        let fraction: Double
        switch kind {
        case .linear:
            fraction = (value - domainLower) / (domainUpper - domainLower)
        case .logarithmic:
            let safe = max(value, Double.leastNormalMagnitude)
            fraction = (log10(safe) - log10(domainLower)) / (log10(domainUpper) - log10(domainLower))
        }
        return rangeStart + fraction * (rangeEnd - rangeStart)
    }

    /// Tick values for this scale, inside the domain.
    public func ticks(targetCount: Int = 5) -> [Double] {
        let all: [Double]
        switch kind {
        case .linear: all = NiceTicks(covering: domainLower, domainUpper, targetCount: targetCount).values
        case .logarithmic: all = NiceTicks.logarithmic(covering: domainLower, domainUpper)
        }
        let tolerance = (domainUpper - domainLower) * 1e-9
        return all.filter { $0 >= domainLower - tolerance && $0 <= domainUpper + tolerance }
    }

    /// A scale whose domain is widened to nice tick values covering `lower...upper`.
    /// Log scales are chosen by the caller; a log domain is widened to the bracketing ticks.
    public static func nice(
        kind: Kind = .linear, covering lower: Double, _ upper: Double, range: (Double, Double), targetCount: Int = 5
    ) -> Scale {
        switch kind {
        case .linear:
            let ticks = NiceTicks(covering: lower, upper, targetCount: targetCount)
            return Scale(kind: .linear, domain: (ticks.lower, ticks.upper), range: range)
        case .logarithmic:
            let ticks = NiceTicks.logarithmic(covering: lower, upper)
            return Scale(kind: .logarithmic, domain: (ticks.first ?? lower, ticks.last ?? upper), range: range)
        }
    }
}
