// GearboxRuntime/DurationText: parsing and printing the human durations used by objectives,
// trace specs and the CLI (`8ms`, `2.5s`, `500us`, `1m`).

import Foundation
import GearboxCore

/// Parses and formats durations written with a unit suffix.
public enum DurationText {
    /// Nanoseconds per unit, longest suffixes first so that `ms` wins over `s`.
    static let units: [(suffix: String, ns: Double)] = [
        ("min", 60e9), ("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// The span in `text` (`60s`, `100ms`, `2.5s`, `1m`, `500us`, `250ns`), or nil when it has
    /// no unit, no number, or is negative.
    public static func nanoseconds(_ text: String) -> Nanoseconds? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard !number.isEmpty, let value = Double(number), value.isFinite, value >= 0 else { return nil }
            return Nanoseconds(value * scale)
        }
        return nil
    }

    /// Milliseconds in `text`, throwing a one-line error naming `setting` when it does not parse.
    public static func milliseconds(_ text: String, setting: String) throws -> Double {
        guard let ns = nanoseconds(text) else { throw PolicyError.badDuration(setting: setting, text: text) }
        return ns.milliseconds
    }

    /// A short rendering with the largest unit that keeps the number ≥ 1: `8ms`, `2.5ms`, `750us`.
    public static func format(_ span: Nanoseconds) -> String {
        let ns = span.value
        let (value, unit): (Double, String) =
            ns >= 1e9 ? (ns / 1e9, "s") : ns >= 1e6 ? (ns / 1e6, "ms") : ns >= 1e3 ? (ns / 1e3, "us") : (ns, "ns")
        return compact(value) + unit
    }

    /// Up to four decimals without trailing zeros.
    public static func compact(_ value: Double) -> String {
        var text = String(format: "%.4f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
