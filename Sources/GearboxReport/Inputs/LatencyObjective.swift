// GearboxReport/Inputs/LatencyObjective: reads the latency target out of a validation's objective
// string ("p99<=8ms", "p50 <= 750us", "mean<=2.5 ms") so timelines can draw it.

import Foundation

/// A latency bound: which statistic, and its limit.
public struct LatencyObjective: Sendable, Equatable {
    /// "p99", "p50", "mean", … as written; "latency" when no statistic was named.
    public var statistic: String
    public var limitNs: Double

    public init(statistic: String, limitNs: Double) { self.statistic = statistic; self.limitNs = limitNs }

    /// Parses the first `<stat> <= <number><unit>` in `objective`; nil if there is none.
    public init?(parsing objective: String) {
        let text = objective.lowercased().replacingOccurrences(of: " ", with: "")
        guard let operatorRange = text.range(of: "<=") ?? text.range(of: "<") else { return nil }
        let left = String(text[..<operatorRange.lowerBound])
        var right = Substring(text[operatorRange.upperBound...])
        var number = ""
        while let character = right.first, character.isNumber || character == "." {
            number.append(character); right = right.dropFirst()
        }
        guard let value = Double(number) else { return nil }
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)]
        guard let unit = units.first(where: { right.hasPrefix($0.0) }) else { return nil }
        let statistic = left.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "." }).last.map(String.init) ?? ""
        self.statistic = statistic.isEmpty ? "latency" : statistic
        self.limitNs = value * unit.1
    }
}
