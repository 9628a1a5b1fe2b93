// GearboxCore/LoadAverage: the kernel's 1-, 5- and 15-minute load averages, which every timing
// Gearbox prints sits next to (other work on the machine is the first suspect for noise).

import Foundation

/// The system load averages from `/proc/loadavg`.
public struct LoadAverage: Equatable, Sendable {
    public var oneMinute: Double
    public var fiveMinutes: Double
    public var fifteenMinutes: Double

    public init(oneMinute: Double, fiveMinutes: Double, fifteenMinutes: Double) {
        self.oneMinute = oneMinute
        self.fiveMinutes = fiveMinutes
        self.fifteenMinutes = fifteenMinutes
    }

    /// The current load averages, or nil where `/proc/loadavg` cannot be read.
    public static func current() -> LoadAverage? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        guard fields.count == 3 else { return nil }
        return LoadAverage(oneMinute: fields[0], fiveMinutes: fields[1], fifteenMinutes: fields[2])
    }

    /// "0.86 0.93 1.56", as the kernel writes them.
    public var text: String {
        [oneMinute, fiveMinutes, fifteenMinutes].map { String(format: "%.2f", $0) }.joined(separator: " ")
    }
}
