// GearboxRuntime/LatencyObjective: the latency target a policy keeps, parsed from text such as
// `p99<=8ms`, `p50<=2.5ms`, `p99.9<=20ms` or `mean<=500us`.

import Foundation
import GearboxCore

/// A latency target on one statistic of the per-inference latency distribution.
///
/// ```swift
/// let objective = try LatencyObjective(parsing: "p99<=8ms")
/// objective.targetNs   // 8_000_000
/// objective.statistic  // .percentile(99)
/// ```
public struct LatencyObjective: Equatable, Sendable, CustomStringConvertible {
    /// Which statistic of the latency distribution the target applies to.
    public enum Statistic: Equatable, Sendable {
        /// A percentile strictly between 0 and 100 (`p99` → 99, `p99.9` or `p999` → 99.9).
        case percentile(Double)
        /// The mean latency.
        case mean
    }

    public var statistic: Statistic
    /// The target in nanoseconds; a latency above it is a violation.
    public var targetNs: Nanoseconds

    public init(statistic: Statistic, targetNs: Nanoseconds) {
        self.statistic = statistic
        self.targetNs = targetNs
    }

    /// Parses `p99<=8ms`, `p50 <= 2.5ms`, `p999<=20ms`, `p99.9<=20ms`, `mean<=500us` (`<` and `≤` work too).
    /// - Throws: ``PolicyError/badObjective(text:reason:)``, one line naming the text and the fix.
    public init(parsing text: String) throws {
        let compact = text.filter { !$0.isWhitespace }.lowercased()
        func fail(_ reason: String) -> PolicyError { .badObjective(text: text, reason: reason) }
        guard let opRange = compact.range(of: "<=") ?? compact.range(of: "≤") ?? compact.range(of: "<") else {
            throw fail("missing '<=' between the statistic and the target")
        }
        let name = String(compact[..<opRange.lowerBound])
        let target = String(compact[opRange.upperBound...])
        guard !name.isEmpty else { throw fail("missing statistic before '<='") }
        guard !target.isEmpty else { throw fail("missing target after '<='") }

        if name == "mean" || name == "avg" {
            statistic = .mean
        } else if name.hasPrefix("p"), let value = Double(name.dropFirst()) {
            let digits = name.dropFirst()
            // `p999` is the usual shorthand for p99.9, `p9999` for p99.99.
            let percent = (!digits.contains(".") && value >= 100 && digits.hasPrefix("99"))
                ? value / pow(10, Double(digits.count - 2)) : value
            guard percent > 0, percent < 100 else {
                throw fail("percentile '\(name)' must be between p0 and p100 exclusive")
            }
            statistic = .percentile(percent)
        } else {
            throw fail("unknown statistic '\(name)' (use pNN such as p50, p90, p99, p999, or mean)")
        }

        guard let ns = DurationText.nanoseconds(target) else {
            throw fail("target '\(target)' needs a number and a unit (ns, us, ms, s)")
        }
        guard ns > .zero else { throw fail("target must be greater than zero") }
        targetNs = ns
    }

    /// The quantile in (0, 1) for a percentile objective; nil for `mean`.
    public var quantile: Double? {
        if case let .percentile(p) = statistic { return p / 100 }
        return nil
    }

    /// The statistic's name: `p99`, `p99.9`, `mean`.
    public var statisticName: String {
        switch statistic {
        case .mean: return "mean"
        case let .percentile(p): return "p" + DurationText.compact(p)
        }
    }

    /// `p99<=8ms`: parses back to the same objective.
    public var description: String { statisticName + "<=" + DurationText.format(targetNs) }
}
