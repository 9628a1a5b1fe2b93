// GearboxHardware/ClockCalibration: how fine and how expensive the measurement clock is on
// this machine, measured rather than assumed, for the `timer` entry of Devices/<id>.json and
// for deciding how many repetitions a short kernel needs per timed sample.

import GearboxCore

/// The measured behaviour of `MonotonicClock` on this machine.
public struct ClockCalibration: Hashable, Sendable {
    /// `clock_getres` for CLOCK_MONOTONIC_RAW.
    public let reportedResolutionNs: Nanoseconds
    /// The smallest nonzero step seen between back-to-back reads (bounded below by the read
    /// cost, so it says how fine the clock is in practice).
    public let smallestDeltaNs: Nanoseconds
    /// The median cost of one read: each batch of `readsPerBatch` back-to-back reads timed as a
    /// whole and divided, median over batches (robust to interrupts and migrations).
    public let readCostNs: Nanoseconds
    public let batches: Int
    public let readsPerBatch: Int

    /// The `timer` entry of `DeviceDescription`.
    public var timer: DeviceDescription.Timer {
        DeviceDescription.Timer(
            resolutionNs: reportedResolutionNs, readCostNs: readCostNs, smallestDeltaNs: smallestDeltaNs,
            clock: "CLOCK_MONOTONIC_RAW")
    }

    /// Measures the clock: a few milliseconds of back-to-back reads.
    public static func calibrate(batches: Int = 201, readsPerBatch: Int = 100) -> ClockCalibration {
        let batches = max(1, batches), readsPerBatch = max(1, readsPerBatch)
        // Smallest nonzero step between consecutive reads.
        var smallest = UInt64.max
        var previous = MonotonicClock.nowNs()
        for _ in 0..<20_000 {
            let current = MonotonicClock.nowNs()
            if current > previous, current - previous < smallest { smallest = current - previous }
            previous = current
        }
        // Read cost per batch.
        var perRead: [Double] = []
        perRead.reserveCapacity(batches)
        var sink: UInt64 = 0
        for _ in 0..<batches {
            let start = MonotonicClock.nowNs()
            for _ in 0..<readsPerBatch { sink &+= MonotonicClock.nowNs() }
            let end = MonotonicClock.nowNs()
            perRead.append(Double(end - start) / Double(readsPerBatch))
        }
        Blackhole.consume(sink)
        perRead.sort()
        let median = perRead.count % 2 == 1
            ? perRead[perRead.count / 2] : (perRead[perRead.count / 2 - 1] + perRead[perRead.count / 2]) / 2
        return ClockCalibration(
            reportedResolutionNs: MonotonicClock.reportedResolution,
            smallestDeltaNs: smallest == .max ? .zero : Nanoseconds(smallest), readCostNs: Nanoseconds(median),
            batches: batches, readsPerBatch: readsPerBatch)
    }

    /// Measures the clock and returns the `timer` entry of `DeviceDescription`.
    public static func measure() -> DeviceDescription.Timer {
        calibrate().timer
    }
}
