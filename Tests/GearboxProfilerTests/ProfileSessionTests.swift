import Foundation
import GearboxCore
import GearboxHardware
import GearboxPortfolio
import GearboxTestSupport
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
    let filled = EmulatedFrequencyController.Options(periodUs: 63_000).methodNote
    #expect(filled.contains("63000 µs period") && filled.contains("filled by a SCHED_IDLE spinner"))
    #expect(EmulatedFrequencyController.Options(fillGaps: false).methodNote.contains("left idle"))
}

@Test func maxCellSecondsSetsTheCellTimeLimitEitherWay() throws {
    let scratch = ScratchDirectory("profiler")
    let dir = scratch.path
    let layout = DefaultPortfolio.Layout(widths: [8], prunedWidth: 8, sparse: [], maskFractions: [1.0], seed: 5)
    try DefaultPortfolio.synthesize(into: dir + "/portfolio", layout: layout)
    func limit(_ seconds: Double?, quick: Bool = false) throws -> (Nanoseconds, Nanoseconds) {
        let request = ProfileRequest(portfolioDirectory: dir + "/portfolio", controller: .simulated, quick: quick,
                                     maxCellSeconds: seconds, profilesDirectory: dir + "/Profiles")
        let sampling = try ProfileSession.prepare(request).sweep.configuration.sampling
        return (sampling.maxNs, sampling.warmupMaxNs)
    }
    #expect(try limit(nil) == (3_000_000_000, 1_000_000_000))
    #expect(try limit(12) == (12_000_000_000, 1_000_000_000))
    #expect(try limit(0.9) == (900_000_000, 300_000_000))
    #expect(try limit(6, quick: true).0 == 6_000_000_000)
    #expect(throws: ProfilerError.self) { try limit(0) }
}
