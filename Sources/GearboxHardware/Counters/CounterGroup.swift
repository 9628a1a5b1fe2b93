// GearboxHardware/CounterGroup: opens a set of perf_event counters on one thread, starts,
// stops and reads them with their enabled/running times, and scales multiplexed counts.
// An event that cannot be opened is carried as `unsupported` with the kernel's reason; a
// count of zero is only ever reported for an event that really counted.

import CGearboxShims
import CPfm
import Foundation

/// A counter value with the times perf_event reports beside it.
public struct CounterValue: Hashable, Sendable {
    /// The count as the kernel read it, while the event was on the PMU.
    public let rawCount: UInt64
    /// How long the event was enabled: perf_event's u64 `time_enabled` word as read, not
    /// `Nanoseconds`, since it only scales the count (`scalingRatio`, `scaledCount`).
    public let timeEnabledNs: UInt64
    /// How long of that it was actually counting (less when the PMU was multiplexed); the
    /// kernel's u64 `time_running` word, like `timeEnabledNs`.
    public let timeRunningNs: UInt64

    /// `timeRunningNs / timeEnabledNs`: 1 when the event counted the whole time, below 1
    /// when it shared the PMU and `scaledCount` is an estimate.
    public var scalingRatio: Double {
        timeEnabledNs == 0 ? 1 : Double(timeRunningNs) / Double(timeEnabledNs)
    }

    /// `rawCount` extrapolated to the whole enabled time (equal to it when not multiplexed).
    public var scaledCount: Double {
        timeRunningNs == 0 || timeRunningNs >= timeEnabledNs
            ? Double(rawCount) : Double(rawCount) * Double(timeEnabledNs) / Double(timeRunningNs)
    }

    /// True when the kernel multiplexed the event, so `scaledCount` is extrapolated.
    public var isMultiplexed: Bool { timeRunningNs < timeEnabledNs }
}

/// One event's result from `CounterGroup.read()`.
public struct CounterReading: Hashable, Sendable, CustomStringConvertible {
    public enum Outcome: Hashable, Sendable {
        /// The event counted; the value carries its times and scaling.
        case counted(CounterValue)
        /// The event is open but never got onto the PMU in this window (or was never started):
        /// there is no count, which is not the same as a count of zero.
        case notCounted(reason: String)
        /// The event could not be encoded or opened here.
        case unsupported(reason: String)
    }

    /// The event name as requested.
    public let event: String
    public let outcome: Outcome

    /// The value when the event counted; nil otherwise (never a made-up zero).
    public var value: CounterValue? {
        if case let .counted(value) = outcome { return value }
        return nil
    }

    public var description: String {
        switch outcome {
        case let .counted(value):
            let scaled = value.isMultiplexed ? String(format: " (scaled, ran %.0f%% of the time)", value.scalingRatio * 100) : ""
            return "\(event): \(UInt64(value.scaledCount.rounded()))\(scaled)"
        case let .notCounted(reason): return "\(event): not counted (\(reason))"
        case let .unsupported(reason): return "\(event): unsupported (\(reason))"
        }
    }
}

/// A set of counters on one thread, started and stopped together.
///
/// Each event is opened on its own (not as one perf group) so that an event the machine
/// lacks never takes the others down, and each carries its own enabled/running times for
/// scaling. Not thread-safe: drive one group from one thread (it may count another thread).
///
/// ```swift
/// let counters = CounterGroup(events: ["perf::TASK-CLOCK", "cycles"])
/// try counters.start()
/// work()
/// try counters.stop()
/// for reading in try counters.read() { print(reading) }   // cycles: unsupported (...)
/// ```
public final class CounterGroup {
    private enum Member {
        case open(fd: Int32, encoded: EncodedEvent)
        case unsupported(reason: String)
    }

    /// The event names, in the order given.
    public let events: [String]
    /// The kernel thread id being counted.
    public let threadID: Int32
    public let scope: CountingScope
    private var members: [Member]
    private var started = false

    /// Encodes and opens `events` (disabled) on thread `threadID` (nil: the calling thread).
    ///
    /// Never fails as a whole: an event that cannot be encoded or opened becomes `unsupported`
    /// with the reason (libpfm's, or the kernel's errno text with what it usually means).
    public init(events: [String], threadID: Int32? = nil, scope: CountingScope = .user) {
        self.events = events
        self.scope = scope
        let thread = threadID ?? gearbox_gettid()
        self.threadID = thread
        members = events.map { Self.open($0, thread: thread, scope: scope) }
    }

    deinit { close() }

    /// The kernel thread id of the calling thread (what `threadID` means).
    public static func currentThreadID() -> Int32 { gearbox_gettid() }

    /// Events that could not be opened, with the reason, in request order.
    public var unsupportedEvents: [(event: String, reason: String)] {
        zip(events, members).compactMap { name, member in
            if case let .unsupported(reason) = member { return (name, reason) }
            return nil
        }
    }

    /// True if at least one event is open.
    public var hasOpenCounters: Bool {
        members.contains { if case .open = $0 { return true } else { return false } }
    }

    /// Zeroes every open counter and enables it.
    public func start() throws {
        try reset()
        try eachOpen(gearbox_perf_enable, action: "enable")
        started = true
    }

    /// Disables every open counter; the counts stay readable.
    public func stop() throws {
        try eachOpen(gearbox_perf_disable, action: "disable")
    }

    /// Zeroes every open counter (their enabled/running times keep running).
    public func reset() throws {
        try eachOpen(gearbox_perf_reset, action: "reset")
    }

    /// Reads every event: counted values with their times, or why there is no value.
    public func read() throws -> [CounterReading] {
        try zip(events, members).map { name, member in
            switch member {
            case let .unsupported(reason):
                return CounterReading(event: name, outcome: .unsupported(reason: reason))
            case let .open(fd, _):
                var words = (UInt64(0), UInt64(0), UInt64(0))
                let size = MemoryLayout.size(ofValue: words)
                let got = withUnsafeMutableBytes(of: &words) { Glibc.read(fd, $0.baseAddress, size) }
                guard got == size else {
                    throw HardwareError.counters(
                        reason: "reading \(name) returned \(got) bytes: \(String(cString: strerror(errno)))")
                }
                let value = CounterValue(rawCount: words.0, timeEnabledNs: words.1, timeRunningNs: words.2)
                if !started || value.timeEnabledNs == 0 {
                    return CounterReading(event: name, outcome: .notCounted(reason: "never started"))
                }
                if value.timeRunningNs == 0 {
                    return CounterReading(
                        event: name, outcome: .notCounted(reason: "never got onto the PMU (all counters busy)"))
                }
                return CounterReading(event: name, outcome: .counted(value))
            }
        }
    }

    /// The libpfm encoding of each open event (nil for unsupported ones), in request order.
    public var encodings: [EncodedEvent?] {
        members.map { if case let .open(_, encoded) = $0 { return encoded } else { return nil } }
    }

    /// Closes every counter; later reads report the events as unsupported.
    public func close() {
        for (index, member) in members.enumerated() {
            if case let .open(fd, _) = member {
                _ = Glibc.close(fd)
                members[index] = .unsupported(reason: "the counter group was closed")
            }
        }
    }

    private func eachOpen(_ call: (Int32) -> Int32, action: String) throws {
        for (name, member) in zip(events, members) {
            guard case let .open(fd, _) = member else { continue }
            guard call(fd) == 0 else {
                throw HardwareError.counters(reason: "cannot \(action) \(name): \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func open(_ name: String, thread: Int32, scope: CountingScope) -> Member {
        let encoded: EncodedEvent
        do { encoded = try PerformanceCounters.encode(name, scope: scope) } catch let error as HardwareError {
            if case let .counters(reason) = error { return .unsupported(reason: reason) }
            return .unsupported(reason: error.description)
        } catch {
            return .unsupported(reason: "\(error)")
        }
        var attribute = encoded.attribute
        attribute.disabled = 1
        attribute.inherit = 0
        attribute.read_format = UInt64(PERF_FORMAT_TOTAL_TIME_ENABLED.rawValue | PERF_FORMAT_TOTAL_TIME_RUNNING.rawValue)
        errno = 0
        let fd = perf_event_open(&attribute, thread, -1, -1, UInt(PERF_FLAG_FD_CLOEXEC))
        guard fd >= 0 else { return .unsupported(reason: openFailure(errno)) }
        return .open(fd: fd, encoded: encoded)
    }

    /// The kernel's errno for perf_event_open, with what it usually means.
    private static func openFailure(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        let meaning: String
        switch code {
        case ENOENT: meaning = "the kernel has no such event here (no hardware PMU, as in most VMs)"
        case EOPNOTSUPP: meaning = "the PMU cannot count this event in this mode"
        case EACCES, EPERM:
            let paranoid = (try? String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            meaning = "not permitted at kernel.perf_event_paranoid=\(paranoid); run as root or count user space only"
        case ENODEV: meaning = "the PMU for this event is not on this machine"
        case EINVAL: meaning = "the kernel rejected the event's attributes"
        case ESRCH: meaning = "no such thread"
        case EMFILE: meaning = "too many open files"
        default: meaning = "perf_event_open failed"
        }
        return "perf_event_open: \(text); \(meaning)"
    }
}
