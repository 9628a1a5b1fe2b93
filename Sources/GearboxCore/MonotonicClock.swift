// GearboxCore/MonotonicClock: the one clock Gearbox times measurements with (inference latencies,
// DVFS settling, emulation calibration, selector dwell times). It reads CLOCK_MONOTONIC_RAW, not
// CLOCK_MONOTONIC: NTP slews CLOCK_MONOTONIC's rate by up to 500 ppm while it corrects the time,
// which would stretch or shrink a latency measured across a time sync; the raw clock runs at the
// hardware counter's fixed rate. Both are wall time and never jump; CPU time (`ThreadCPUClock`)
// is another measure, used only where a figure must ignore time the thread waited for a CPU.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `CLOCK_MONOTONIC_RAW` as nanoseconds, and as a Swift `Clock` for generic code.
///
/// ```swift
/// let start = MonotonicClock.nowNs()
/// work()
/// let elapsed = MonotonicClock.elapsed(since: start)   // Nanoseconds
/// ```
public struct MonotonicClock: Clock, Sendable {
    /// A reading of `CLOCK_MONOTONIC_RAW`.
    public struct Instant: InstantProtocol, Hashable, Sendable, CustomStringConvertible {
        /// Nanoseconds since an arbitrary, fixed point (usually boot).
        public let nanoseconds: UInt64

        public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

        public func advanced(by duration: Duration) -> Instant {
            let delta = MonotonicClock.nanoseconds(of: duration)
            return Instant(nanoseconds: delta >= 0 ? nanoseconds &+ UInt64(delta) : nanoseconds &- UInt64(-delta))
        }

        public func duration(to other: Instant) -> Duration {
            other.nanoseconds >= nanoseconds
                ? .nanoseconds(Int64(clamping: other.nanoseconds - nanoseconds))
                : .nanoseconds(-Int64(clamping: nanoseconds - other.nanoseconds))
        }

        /// The instant `span` later (earlier when negative), to the nearest nanosecond.
        public func advanced(by span: Nanoseconds) -> Instant { advanced(by: span.duration) }

        /// The time from `earlier` to this instant (negative when `earlier` is later).
        public func nanoseconds(since earlier: Instant) -> Nanoseconds {
            Nanoseconds(Int64(bitPattern: self.nanoseconds &- earlier.nanoseconds))
        }

        public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

        public var description: String { "\(nanoseconds) ns" }
    }

    public init() {}

    /// The current time in nanoseconds.
    @inline(__always)
    public static func nowNs() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC_RAW, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// The time since `startNs`, a reading of ``nowNs()``. Hot loops keep the raw readings and
    /// convert once with this.
    @inline(__always)
    public static func elapsed(since startNs: UInt64) -> Nanoseconds {
        Nanoseconds(Int64(bitPattern: nowNs() &- startNs))
    }

    /// The time since `start`.
    public static func elapsed(since start: Instant) -> Nanoseconds { now().nanoseconds(since: start) }

    /// The current instant.
    public static func now() -> Instant { Instant(nanoseconds: nowNs()) }

    public var now: Instant { Self.now() }

    /// The clock's resolution as the kernel reports it (`clock_getres`).
    public var minimumResolution: Duration { .nanoseconds(Int64(Self.reportedResolutionNs())) }

    /// Sleeps until `deadline` on this clock. The waiting itself uses the continuous clock;
    /// the two can differ by NTP's slew, so it re-checks and sleeps the rest rather than
    /// ever returning early.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        var remaining = Self.now().duration(to: deadline)
        while remaining > .zero {
            try await ContinuousClock().sleep(for: remaining, tolerance: tolerance)
            remaining = Self.now().duration(to: deadline)
        }
    }

    /// The clock's resolution as the kernel reports it (`clock_getres`); zero when it refuses.
    public static var reportedResolution: Nanoseconds { Nanoseconds(reportedResolutionNs()) }

    /// `clock_getres(CLOCK_MONOTONIC_RAW)` in nanoseconds.
    public static func reportedResolutionNs() -> UInt64 {
        var resolution = timespec()
        guard clock_getres(CLOCK_MONOTONIC_RAW, &resolution) == 0 else { return 0 }
        return UInt64(resolution.tv_sec) * 1_000_000_000 + UInt64(resolution.tv_nsec)
    }

    /// A `Duration` as whole nanoseconds (truncated toward zero).
    public static func nanoseconds(of duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}

/// The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`): time the thread ran, not time it
/// waited for a CPU. Steadier than `MonotonicClock` on a loaded machine, meaningful only for
/// work done on the calling thread.
public enum ThreadCPUClock {
    /// The calling thread's CPU time in nanoseconds, or nil when the kernel refuses to tell.
    @inline(__always)
    public static func nowNs() -> UInt64? {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return nil }
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
