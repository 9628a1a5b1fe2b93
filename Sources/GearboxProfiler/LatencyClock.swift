// GearboxProfiler/LatencyClock: the clocks the sampler reads. `MonotonicRawClock` is the real one
// (GearboxCore's `MonotonicClock`), calibrated at the start of a sweep for resolution
// and read cost; `VirtualLatencyClock` is the simulated one, advanced by simulated work only.

import GearboxCore
import GearboxHardware
#if canImport(Glibc)
import Glibc
#endif

/// A nanosecond clock the sampler reads around each inference.
public protocol LatencyClock: AnyObject {
    /// Nanoseconds since an arbitrary origin; never goes backwards.
    func nowNs() -> UInt64
    /// Lets `ns` pass: sleeps (real clock) or advances (virtual clock).
    func pass(ns: UInt64)
    /// `real` clocks measure; the virtual clock's readings are `simulated`.
    var isVirtual: Bool { get }
}

extension Nanoseconds {
    /// The span as a difference of `LatencyClock` readings (whole nanoseconds, a negative span as
    /// 0): measuring loops compare raw readings and convert their limits once, before the loop.
    var clockNs: UInt64 { UInt64(clamping: wholeNanoseconds) }
}

/// `MonotonicClock` (CLOCK_MONOTONIC_RAW), with real sleeps.
public final class MonotonicRawClock: LatencyClock {
    public init() {}
    public var isVirtual: Bool { false }

    @inline(__always) public func nowNs() -> UInt64 { MonotonicClock.nowNs() }

    public func pass(ns: UInt64) {
        var request = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

/// The hardware layer's `VirtualClock` (shared with the simulated frequency controller) read in
/// nanoseconds: it only moves when simulated work or a simulated frequency change advances it.
public final class VirtualLatencyClock: LatencyClock {
    public let clock: VirtualClock
    public init(clock: VirtualClock = VirtualClock()) { self.clock = clock }
    public var isVirtual: Bool { true }
    public func nowNs() -> UInt64 { UInt64(max(clock.now.nanoseconds, 0)) }
    public func pass(ns: UInt64) { clock.advance(by: .nanoseconds(Int64(clamping: ns))) }
    /// Same as `pass(ns:)`, named for the simulated workload's side.
    public func advance(byNs ns: UInt64) { pass(ns: ns) }
}

/// What the clock can resolve and what reading it costs, measured at the start of a sweep.
public struct LatencyClockCalibration: Codable, Equatable, Sendable {
    /// The clock's name ("CLOCK_MONOTONIC_RAW" or "virtual").
    public var clock: String
    /// clock_getres, in ns (the kernel's claim).
    public var declaredResolutionNs: Nanoseconds
    /// The smallest non-zero step seen between successive reads.
    public var observedResolutionNs: Nanoseconds
    /// Mean cost of one read, from a timed run of many back-to-back reads.
    public var readCostNs: Nanoseconds

    public init(clock: String, declaredResolutionNs: Nanoseconds, observedResolutionNs: Nanoseconds, readCostNs: Nanoseconds) {
        self.clock = clock; self.declaredResolutionNs = declaredResolutionNs
        self.observedResolutionNs = observedResolutionNs; self.readCostNs = readCostNs
    }

    /// Calibrates `clock`: for the real clock, clock_getres plus `reads` back-to-back reads; the
    /// virtual clock is exact and free.
    public static func measure(_ clock: LatencyClock, reads: Int = 200_000) -> LatencyClockCalibration {
        guard !clock.isVirtual else {
            return LatencyClockCalibration(clock: "virtual", declaredResolutionNs: 1, observedResolutionNs: 1, readCostNs: 0)
        }
        let declared = MonotonicClock.reportedResolution
        var minStep = UInt64.max
        let start = clock.nowNs()
        var previous = start
        for _ in 0..<reads {
            let t = clock.nowNs()
            if t > previous { minStep = Swift.min(minStep, t - previous) }
            previous = t
        }
        let cost = Double(previous - start) / Double(Swift.max(reads, 1))
        return LatencyClockCalibration(
            clock: "CLOCK_MONOTONIC_RAW", declaredResolutionNs: declared,
            observedResolutionNs: minStep == .max ? declared : Nanoseconds(minStep), readCostNs: Nanoseconds(cost))
    }
}
