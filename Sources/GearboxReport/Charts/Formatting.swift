// GearboxReport/Charts/Formatting: how numbers are written in charts and tables: SVG coordinates
// with fixed precision (deterministic output) and quantities with their units.

import Foundation
import GearboxCore

/// Numbers as text, locale-independent and deterministic.
public enum Formatting {
    /// An SVG coordinate: at most two decimals, trailing zeros dropped, never "-0".
    public static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = String(format: "%.2f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// `value` with `digits` significant digits, without exponent notation for everyday magnitudes.
    public static func significant(_ value: Double, digits: Int = 3) -> String {
        guard value.isFinite else { return "n/a" }
        if value == 0 { return "0" }
        let magnitude = Int(floor(log10(abs(value))))
        let decimals = max(0, digits - 1 - magnitude)
        return trimmed(String(format: "%.\(decimals)f", value))
    }

    /// A fixed number of decimals.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "n/a" }
        let text = String(format: "%.\(max(0, decimals))f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    /// A duration in nanoseconds in the unit that reads best: "850 ns", "12.4 µs", "1.23 ms", "2.5 s".
    public static func duration(_ span: Nanoseconds) -> String {
        let ns = span.value
        guard ns.isFinite else { return "n/a" }
        let absolute = abs(ns)
        if absolute < 1_000 { return significant(ns) + " ns" }
        if absolute < 1_000_000 { return significant(ns / 1_000) + " µs" }
        if absolute < 1_000_000_000 { return significant(ns / 1_000_000) + " ms" }
        return significant(ns / 1_000_000_000) + " s"
    }

    /// Bytes in binary units: "512 B", "12.3 KiB", "4.56 MiB".
    public static func bytes(_ count: Double) -> String {
        guard count.isFinite else { return "n/a" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = count
        var unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return (unit == 0 ? String(Int(value)) : significant(value)) + " " + units[unit]
    }

    /// A frequency in kHz as MHz or GHz: "600 MHz", "1.8 GHz".
    public static func frequency(kHz: Int) -> String {
        if kHz >= 1_000_000 { return significant(Double(kHz) / 1_000_000, digits: 3) + " GHz" }
        if kHz >= 1_000 { return significant(Double(kHz) / 1_000, digits: 4) + " MHz" }
        return "\(kHz) kHz"
    }

    /// A fraction as a percentage: 0.0312 → "3.12%".
    public static func percent(_ fraction: Double, digits: Int = 3) -> String {
        guard fraction.isFinite else { return "n/a" }
        if fraction == 0 { return "0%" }
        return significant(fraction * 100, digits: digits) + "%"
    }

    /// A large count with an SI suffix: 12_300_000 → "12.3 M".
    public static func count(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let absolute = abs(value)
        if absolute >= 1e9 { return significant(value / 1e9) + " G" }
        if absolute >= 1e6 { return significant(value / 1e6) + " M" }
        if absolute >= 1e4 { return significant(value / 1e3) + " k" }
        return value == value.rounded() ? String(Int(value)) : significant(value)
    }

    /// A ratio: "1.23×".
    public static func ratio(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        return fixed(value, decimals: value >= 10 ? 1 : 3) + "×"
    }

    static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var out = text
        while out.hasSuffix("0") { out.removeLast() }
        if out.hasSuffix(".") { out.removeLast() }
        return out
    }
}
