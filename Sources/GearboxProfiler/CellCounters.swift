// GearboxProfiler/CellCounters: hardware counters around one cell's sampling phase, as whatever
// the device supports. Unsupported events are carried as unsupported with their reason, never as
// zero. Derived figures (IPC, miss rates) appear only where both inputs were counted.

import GearboxHardware
import GearboxRuntime

/// Totals counted between `start()` and `stop()`.
public struct CounterTotals: Equatable, Sendable {
    /// Event name → count (already scaled for multiplexing).
    public var values: [String: Double]
    /// Event name → why it could not be counted.
    public var unsupported: [String: String]
    public init(values: [String: Double], unsupported: [String: String]) {
        self.values = values; self.unsupported = unsupported
    }
}

/// A group of counters on the measuring thread. Created, started and stopped on that thread.
public protocol CellCounters: AnyObject {
    func start() throws
    func stop() throws -> CounterTotals
}

/// Used when no counter backend is available: every event is recorded as unsupported, with why.
public final class UnavailableCounters: CellCounters {
    public let events: [String]
    public let reason: String
    public init(events: [String] = CounterDerivation.defaultEvents, reason: String) {
        self.events = events; self.reason = reason
    }
    public func start() throws {}
    public func stop() throws -> CounterTotals {
        CounterTotals(values: [:], unsupported: Dictionary(uniqueKeysWithValues: events.map { ($0, reason) }))
    }
}

/// The hardware layer's perf_event counter group on the measuring thread.
public final class PerfCellCounters: CellCounters {
    public let group: CounterGroup
    /// Opens `events` on the calling thread (call it on the measuring thread).
    public init(events: [String] = CounterDerivation.defaultEvents) { group = CounterGroup(events: events) }

    public func start() throws { try group.start() }

    public func stop() throws -> CounterTotals {
        try group.stop()
        var values: [String: Double] = [:], unsupported: [String: String] = [:]
        for reading in try group.read() {
            switch reading.outcome {
            case let .counted(value): values[reading.event] = value.scaledCount
            case let .notCounted(reason): unsupported[reading.event] = "not counted: \(reason)"
            case let .unsupported(reason): unsupported[reading.event] = reason
            }
        }
        return CounterTotals(values: values, unsupported: unsupported)
    }
}

/// Per-inference values and derived ratios from counter totals.
public enum CounterDerivation {
    /// The events a sweep asks for; the device decides which of them count.
    public static let defaultEvents = [
        "cycles", "instructions", "cache-references", "cache-misses", "branch-misses",
        "perf::TASK-CLOCK", "perf::PAGE-FAULTS", "perf::CONTEXT-SWITCHES", "perf::CPU-MIGRATIONS",
    ]

    /// Divides totals by `inferences` and adds IPC, cache-miss rate and branch misses per 1k
    /// instructions where both of their inputs were counted.
    public static func perInference(_ totals: CounterTotals, inferences: Int) -> LookupTable.CounterCell {
        let n = Double(Swift.max(inferences, 1))
        let values = totals.values.mapValues { $0 / n }
        var derived: [String: Double] = [:]
        if let instructions = totals.values["instructions"], let cycles = totals.values["cycles"], cycles > 0 {
            derived["ipc"] = instructions / cycles
        }
        if let misses = totals.values["cache-misses"], let references = totals.values["cache-references"], references > 0 {
            derived["cacheMissRate"] = misses / references
        }
        if let misses = totals.values["branch-misses"], let instructions = totals.values["instructions"], instructions > 0 {
            derived["branchMissesPerKiloInstruction"] = misses / instructions * 1000
        }
        return LookupTable.CounterCell(values: values, unsupported: totals.unsupported, derived: derived)
    }
}
