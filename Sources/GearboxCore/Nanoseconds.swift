// GearboxCore/Nanoseconds: the one type a span of time crosses a module boundary as (latencies,
// percentiles, settle and dwell times, clock resolutions, switch costs).
//
// It stores a Double, not an integer: statistics of latencies (means, percentiles interpolated
// between samples, CI half-widths, model intercepts) are fractional nanoseconds, while clock
// readings are whole ones, and a Double holds every whole nanosecond count below 2^53 (104 days)
// exactly, so one storage serves both without rounding either. In JSON it is a plain number,
// written as an integer when the value is whole (as Foundation already writes a whole Double), so
// files keep the bytes they had when these fields were Int, UInt64 or Double. Hot loops that
// record many clock readings keep raw integers and convert at their edge.

/// A span of time in nanoseconds.
///
/// ```swift
/// let budget = Nanoseconds(milliseconds: 8)
/// let elapsed = MonotonicClock.elapsed(since: start)
/// if elapsed > budget { print("over by \(elapsed - budget)") }   // "over by 1250 ns"
/// ```
public struct Nanoseconds: Hashable, Comparable, Sendable, Codable, AdditiveArithmetic,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, CustomStringConvertible {
    /// The span in nanoseconds.
    public var value: Double

    /// A span of `value` nanoseconds.
    @inline(__always)
    public init(_ value: Double) { self.value = value }

    /// A span of `value` whole nanoseconds (e.g. a clock reading's difference).
    @inline(__always)
    public init<Integer: BinaryInteger>(_ value: Integer) { self.value = Double(value) }

    public init(integerLiteral value: Int64) { self.value = Double(value) }
    public init(floatLiteral value: Double) { self.value = value }

    public init(seconds: Double) { value = seconds * 1e9 }
    public init(milliseconds: Double) { value = milliseconds * 1e6 }
    public init(microseconds: Double) { value = microseconds * 1e3 }

    /// `duration` to the nanosecond (attoseconds below one nanosecond are kept as a fraction).
    public init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        value = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }

    public var seconds: Double { value / 1e9 }
    public var milliseconds: Double { value / 1e6 }
    public var microseconds: Double { value / 1e3 }

    /// The span as a `Duration`, rounded to the nearest nanosecond.
    public var duration: Duration { .nanoseconds(wholeNanoseconds) }

    /// The span rounded to whole nanoseconds (for counters, integer columns and clock
    /// arithmetic); clamped to Int64's range, NaN as 0.
    public var wholeNanoseconds: Int64 {
        guard !value.isNaN else { return 0 }
        let rounded = value.rounded()
        if rounded >= 9.223_372_036_854_775e18 { return .max }
        if rounded <= -9.223_372_036_854_775e18 { return .min }
        return Int64(rounded)
    }

    /// The span without its sign (what `abs` gives a number; the type is not `SignedNumeric`,
    /// since a product of two spans is no span).
    public var magnitude: Nanoseconds { Nanoseconds(value.magnitude) }

    /// False for infinities and NaN (an unknown or unbounded span).
    public var isFinite: Bool { value.isFinite }

    public static let zero = Nanoseconds(0.0)
    /// An unbounded span (e.g. a prediction where nothing fits).
    public static let infinity = Nanoseconds(Double.infinity)

    public static func + (a: Nanoseconds, b: Nanoseconds) -> Nanoseconds { Nanoseconds(a.value + b.value) }
    public static func - (a: Nanoseconds, b: Nanoseconds) -> Nanoseconds { Nanoseconds(a.value - b.value) }
    public static func * (a: Nanoseconds, factor: Double) -> Nanoseconds { Nanoseconds(a.value * factor) }
    public static func * (factor: Double, a: Nanoseconds) -> Nanoseconds { Nanoseconds(factor * a.value) }
    public static func / (a: Nanoseconds, divisor: Double) -> Nanoseconds { Nanoseconds(a.value / divisor) }
    /// The ratio of two spans (e.g. observed / predicted).
    public static func / (a: Nanoseconds, b: Nanoseconds) -> Double { a.value / b.value }
    public static func *= (a: inout Nanoseconds, factor: Double) { a.value *= factor }
    public static func /= (a: inout Nanoseconds, divisor: Double) { a.value /= divisor }
    public static prefix func - (a: Nanoseconds) -> Nanoseconds { Nanoseconds(-a.value) }
    public static func < (a: Nanoseconds, b: Nanoseconds) -> Bool { a.value < b.value }

    /// Whole values below 2^53 as JSON integers, others as JSON reals: the bytes Foundation wrote
    /// for the Int and Double fields this type replaced.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
            try container.encode(Int64(value))
        } else {
            try container.encode(value)
        }
    }

    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(Double.self)
    }

    /// `1250 ns`, `2.5 ns`: the number as JSON writes it, then the unit.
    public var description: String {
        value.rounded() == value && abs(value) < 9_007_199_254_740_992 ? "\(Int64(value)) ns" : "\(value) ns"
    }
}

extension Duration {
    /// `nanoseconds` as a `Duration`, rounded to the nearest nanosecond.
    public init(_ nanoseconds: Nanoseconds) { self = nanoseconds.duration }
}
