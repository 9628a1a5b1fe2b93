// Tests for GearboxHardware/SimulatedFrequencyController and VirtualClock: deterministic virtual
// time, exact speed ratios, range checks, restore.

import Foundation
@testable import GearboxHardware
import GearboxCore
import Testing

private let armDomain = DeviceDescription.Domain(
    cpus: [0, 1], driver: "U8500", governor: "ondemand", governors: ["userspace"], minKHz: 400_000, maxKHz: 800_000,
    availableKHz: [400_000, 800_000], gridKHz: [400_000, 800_000])

@Suite struct SimulatedFrequencyControllerTests {
    @Test func virtualTimeMovesOnlyWhenAdvancedOrSleptOn() async throws {
        let clock = VirtualClock()
        let start = clock.now
        #expect(clock.now == start)
        clock.advance(by: .milliseconds(5))
        try await clock.sleep(until: clock.now.advanced(by: .seconds(3600)), tolerance: nil)
        #expect(start.duration(to: clock.now) == .seconds(3600) + .milliseconds(5))
        clock.advance(by: .seconds(-1))
        #expect(clock.now.nanoseconds == 3_600_005_000_000)
    }

    @Test func changesAreExactAndTakeTheTransitionLatencyOfVirtualTime() throws {
        let clock = VirtualClock()
        let controller = SimulatedFrequencyController(domains: [armDomain], clock: clock, transitionLatency: .microseconds(20))
        #expect(controller.currentKHz == [800_000])
        let change = try controller.setFrequency(.kHz(400_000), forDomain: 0)
        #expect(change.speedRatio == 0.5)
        #expect(change.settleNs == 20_000)
        #expect(change.source == .simulated)
        #expect(clock.now.nanoseconds == 20_000)
        #expect(controller.changes == [.init(at: clock.now, domainIndex: 0, kHz: 400_000)])
        try controller.restore()
        #expect(controller.currentKHz == [800_000])
    }

    @Test func requestsOutsideTheSimulatedDomainAreRejected() {
        let controller = SimulatedFrequencyController(domains: [armDomain])
        #expect(throws: HardwareError.self) { _ = try controller.setFrequency(.kHz(900_000), forDomain: 0) }
        #expect(throws: HardwareError.self) { _ = try controller.setFrequency(.kHz(400_000), forDomain: 1) }
    }

    @Test func twoRunsOfTheSameScheduleGiveTheSameTimeline() throws {
        func run() throws -> [SimulatedFrequencyController.LoggedChange] {
            let clock = VirtualClock()
            let controller = SimulatedFrequencyController(domains: [armDomain], clock: clock, transitionLatency: .microseconds(7))
            for step in 0..<10 {
                clock.advance(by: .milliseconds(step))
                _ = try controller.setFrequency(.kHz(step.isMultiple(of: 2) ? 400_000 : 800_000), forDomain: 0)
            }
            return controller.changes
        }
        #expect(try run() == run())
    }
}
