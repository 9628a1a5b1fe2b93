// Tests for GearboxCore/MonotonicClock and GearboxHardware/ClockCalibration.

import GearboxCore
import GearboxHardware
import Testing

@Suite struct ClockTests {
    @Test func readingsNeverGoBackwards() {
        var previous = MonotonicClock.nowNs()
        for _ in 0..<10_000 {
            let current = MonotonicClock.nowNs()
            #expect(current >= previous)
            previous = current
        }
    }

    @Test func instantsAndDurationsAgree() {
        let start = MonotonicClock.Instant(nanoseconds: 1_000)
        let later = start.advanced(by: .nanoseconds(2_500))
        #expect(later.nanoseconds == 3_500)
        #expect(start.duration(to: later) == .nanoseconds(2_500))
        #expect(later.duration(to: start) == .nanoseconds(-2_500))
        #expect(later.advanced(by: .nanoseconds(-3_500)).nanoseconds == 0)
        #expect(MonotonicClock.nanoseconds(of: .milliseconds(3)) == 3_000_000)
    }

    @Test func theClockMeasuresASleep() async throws {
        let clock = MonotonicClock()
        let elapsed = try await clock.measure { try await clock.sleep(for: .milliseconds(2)) }
        #expect(elapsed >= .milliseconds(2))
    }

    @Test func calibrationGivesPositiveNumbers() {
        let calibration = ClockCalibration.calibrate(batches: 51, readsPerBatch: 50)
        #expect(calibration.reportedResolutionNs > 0)
        #expect(calibration.smallestDeltaNs > 0)
        #expect(calibration.readCostNs > 0)
        let timer = ClockCalibration.measure()
        #expect(timer.resolutionNs > 0)
        #expect(timer.readCostNs > 0)
        #expect((timer.smallestDeltaNs ?? 0) > 0)
        #expect(timer.clock == "CLOCK_MONOTONIC_RAW")
    }
}
