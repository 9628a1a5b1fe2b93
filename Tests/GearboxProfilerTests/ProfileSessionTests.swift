import Foundation
import GearboxHardware
import Testing

@testable import GearboxProfiler

@Test func theResumeCommandRepeatsEverySettingThatShapesTheSweep() {
    var request = ProfileRequest(portfolioDirectory: "Portfolios/default", controller: .emulated, frequencies: "all",
                                 quick: true, measureMemory: false)
    let filled = ProfileSession.resumeCommand(request, lut: "Profiles/vm/default.lut.json")
    #expect(filled.hasPrefix("gearbox profile --portfolio Portfolios/default"))
    #expect(filled.contains("--quick") && filled.contains("--skip-memory") && filled.hasSuffix("--resume"))
    #expect(!filled.contains("--idle-gaps"))
    // Idle throttle gaps are a different emulation: the resumed sweep must keep them idle.
    request.fillGaps = false
    #expect(ProfileSession.resumeCommand(request, lut: "Profiles/vm/default.lut.json").contains("--idle-gaps"))
}

@Test func theProvenanceSaysWhetherThrottleGapsWereFilled() {
    let filled = ProfileSweep.emulationNote(EmulatedFrequencyController.Options(periodUs: 63_000))
    #expect(filled.contains("63000 µs period") && filled.contains("filled by a SCHED_IDLE spinner"))
    #expect(ProfileSweep.emulationNote(EmulatedFrequencyController.Options(fillGaps: false)).contains("left idle"))
}
