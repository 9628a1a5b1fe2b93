// Tests for GearboxHardware/EmulatedFrequencyController: the throttled cgroup slows a spin
// workload by the emulated ratio (benchmark-style: side-by-side ratios with generous bounds, no
// absolute times), calibration records measured next to requested, and restore removes the cgroup.

import Foundation
import GearboxCore
@testable import GearboxHardware
import Testing

/// Runs `body` on a dedicated OS thread (never enrol a Swift concurrency pool thread).
private func onDedicatedThread<T>(_ body: @escaping () throws -> T) throws -> T {
    let box = TestResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread { box.result = Result { try body() }; done.signal() }
    thread.start()
    done.wait()
    return try box.result!.get()
}

private final class TestResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }

@Suite(.serialized) struct EmulatedFrequencyControllerTests {
    @Test(.requiresCgroupCPUController) func halfAndQuarterOfFmaxSlowASpinWorkloadTwoAndFourTimes() throws {
        let controller = try EmulatedFrequencyController()
        defer { try? controller.restore() }
        let fmax = controller.options.maxKHz
        func measureSlowdowns() throws -> [Double] {
            try onDedicatedThread { () throws -> [Double] in
                try controller.enrollCurrentThread()
                let iterations = SpinWorkload.iterations(forNs: 2_000_000)
                // 2 ms jobs back to back, 40 per setting, timed on the wall clock.
                func jobTimesNs() -> [Double] { (0..<40).map { _ in Double(SpinWorkload.timeNs(iterations: iterations)) } }
                func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
                func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
                // Three rounds; each compares throttled means with the unthrottled median of the same
                // round (unthrottled jobs are uniform, so the median drops preemption outliers).
                var half: [Double] = []
                var quarter: [Double] = []
                for _ in 0..<3 {
                    _ = try controller.setFrequency(.kHz(fmax), forDomain: 0)
                    let full = median(jobTimesNs())
                    _ = try controller.setFrequency(.kHz(fmax / 2), forDomain: 0)
                    half.append(mean(jobTimesNs()) / full)
                    _ = try controller.setFrequency(.kHz(fmax / 4), forDomain: 0)
                    quarter.append(mean(jobTimesNs()) / full)
                }
                _ = try controller.setFrequency(.kHz(fmax), forDomain: 0)
                return [median(half), median(quarter)]
            }
        }
        func error(_ slowdowns: [Double]) -> Double { max(abs(slowdowns[0] / 2 - 1), abs(slowdowns[1] / 4 - 1)) }
        // A second measurement when the first is off: under the whole suite's load a reference
        // round now and then runs slowed too (docs/measurements.md, "Test suite and demo"); a
        // throttle that is missing or wrong is off in both.
        var slowdowns = try measureSlowdowns()
        if error(slowdowns) > 0.15 {
            let again = try measureSlowdowns()
            if error(again) < error(slowdowns) { slowdowns = again }
        }
        // Other runnable processes steal CPU inside the throttled job's quota window, so on a busy
        // machine the slow-down overshoots; widen the bound then (a missing throttle, 1×, or a
        // wrong quota still fails).
        let tolerance = Self.machineIsBusy() ? 0.35 : 0.15
        print("emulated slow-down at 1/2 fmax: \(slowdowns[0])×, at 1/4 fmax: \(slowdowns[1])× (tolerance \(tolerance))")
        #expect(abs(slowdowns[0] / 2 - 1) <= tolerance, "slow-down at 1/2 fmax was \(slowdowns[0])×")
        #expect(abs(slowdowns[1] / 4 - 1) <= tolerance, "slow-down at 1/4 fmax was \(slowdowns[1])×")
    }

    /// True when the 1-minute load average exceeds half the online CPUs.
    private static func machineIsBusy() -> Bool {
        guard let load = LoadAverage.current() else { return false }
        return load.oneMinute > Double(ProcessInfo.processInfo.activeProcessorCount) / 2
    }

    @Test(.requiresCgroupCPUController) func calibrationRecordsMeasuredNextToRequestedAndSpeedRatioIsTheMeasuredOne() throws {
        let controller = try EmulatedFrequencyController(options: .init(calibrationWorkNs: 32_000_000))
        defer { try? controller.restore() }
        let change = try controller.setFrequency(.kHz(1_000_000), forDomain: 0)
        let table = controller.calibrationTable
        try #require(table.count == 1)
        #expect(table[0].requestedRatio == 0.5)
        #expect(table[0].quotaUs > 0 && table[0].periodUs >= 8000)
        #expect(change.speedRatio == table[0].measuredRatio)
        #expect(change.source == .emulated)
        // Other load on the machine takes CPU from the throttled thread too (another boosted
        // group, e.g. a profile running beside the tests, halves it): a wider band then.
        let lowest = Self.machineIsBusy() ? 0.15 : 0.3
        #expect(table[0].measuredRatio > lowest && table[0].measuredRatio < 0.7, "load \(LoadAverage.current()?.text ?? "?")")
        // The calibration thread has left the cgroup, so the quota is for one thread, not two.
        let quota = try String(contentsOfFile: controller.cgroupDirectory + "/cpu.cfs_quota_us", encoding: .utf8)
        #expect(quota.trimmingCharacters(in: .whitespacesAndNewlines) == String(table[0].quotaUs))
    }

    @Test(.requiresCgroupCPUController) func restoreRemovesTheCgroupAndLiftsTheThrottle() throws {
        let controller = try EmulatedFrequencyController(options: .init(calibrationWorkNs: 16_000_000))
        #expect(FileManager.default.fileExists(atPath: controller.cgroupDirectory))
        try onDedicatedThread {
            try controller.enrollCurrentThread()
            _ = try controller.setFrequency(.kHz(500_000), forDomain: 0)
        }
        try controller.restore()
        #expect(!FileManager.default.fileExists(atPath: controller.cgroupDirectory))
        try controller.restore()  // idempotent
    }

    /// The signal-time restore must not wait for a calibration holding the controller's lock: it
    /// returns while the grid calibration (many seconds of throttled spinning) is still running,
    /// with the cgroup gone, and the calibration then stops with an error instead of throttling again.
    @Test(.requiresCgroupCPUController) func restoreAfterInterruptDoesNotWaitForACalibrationHoldingTheLock() throws {
        let controller = try EmulatedFrequencyController(options: .init(gridSteps: 8, calibrationWorkNs: 64_000_000))
        defer { try? controller.restore() }
        let finished = DispatchSemaphore(value: 0)
        let outcome = TestResultBox<[EmulatedFrequencyController.Calibration]>()
        let calibrating = Thread {
            outcome.result = Result { try controller.calibrate() }
            finished.signal()
        }
        calibrating.start()
        // Wait until the calibration thread is spinning under a quota inside the cgroup.
        var throttled = false
        for _ in 0..<500 {
            let quota = (try? String(contentsOfFile: controller.cgroupDirectory + "/cpu.cfs_quota_us", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if let quota, quota != "-1", quota != "max" { throttled = true; break }
            if let max = try? String(contentsOfFile: controller.cgroupDirectory + "/cpu.max", encoding: .utf8), !max.hasPrefix("max") {
                throttled = true; break
            }
            usleep(10_000)
        }
        try #require(throttled, "the calibration never throttled its cgroup")
        try controller.restoreAfterInterrupt(lockWaitNs: 50_000_000)
        #expect(!FileManager.default.fileExists(atPath: controller.cgroupDirectory))
        // Bounded, so a calibration that never ends fails this test instead of hanging the suite.
        try #require(finished.wait(timeout: .now() + 300) == .success, "the interrupted calibration never finished")
        // Had the restore waited for the lock, every step would have been calibrated: the
        // calibration must instead have stopped with an error (it may already have, by now).
        #expect(throws: HardwareError.self) { _ = try outcome.result?.get() }
        #expect(!FileManager.default.fileExists(atPath: controller.cgroupDirectory), "the interrupted calibration recreated or re-throttled the cgroup")
    }

    @Test(.requiresCgroupCPUController) func requestsOutsideTheEmulatedRangeAreRejected() throws {
        let controller = try EmulatedFrequencyController()
        defer { try? controller.restore() }
        #expect(throws: HardwareError.self) { _ = try controller.setFrequency(.kHz(3_000_000), forDomain: 0) }
        #expect(throws: HardwareError.self) { _ = try controller.setFrequency(.kHz(1_000_000), forDomain: 1) }
        #expect(controller.domains[0].gridKHz == FrequencyGrid.fractions(ofMaxKHz: 2_000_000, steps: 8))
    }

    @Test func optionsCanEmulateAnotherDevicesGrid() {
        let domain = DeviceDescription.Domain(
            cpus: [0, 1], driver: "U8500", governor: "ondemand", governors: [], minKHz: 400_000, maxKHz: 800_000,
            availableKHz: [400_000, 800_000], gridKHz: [400_000, 800_000])
        let device = DeviceDescription(
            id: "arm", hostname: "h", cpuModel: "m", topology: .init(packages: 1, cores: 2, pus: 2, numaNodes: 1, caches: []),
            cpuKinds: [], dvfs: .init(controller: .real, domains: [domain]), counters: [], thermalZones: [],
            timer: .init(resolutionNs: 1, readCostNs: 20))
        let options = EmulatedFrequencyController.options(emulating: device)
        #expect(options.maxKHz == 800_000)
        #expect(options.gridKHz == [400_000, 800_000])
    }
}
