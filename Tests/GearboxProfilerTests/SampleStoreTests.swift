import Foundation
import GearboxTestSupport
import Testing

@testable import GearboxProfiler

@Test func samplesRoundTripThroughTheDatabaseInOrder() throws {
    let scratch = ScratchDirectory("profiler")
    let path = scratch.file("s.samples.sqlite")
    let store = try SampleStore(path: path)
    let samples: [UInt64] = [5, 3, 9, 1]
    let summary = LatencySummary(samplesNs: samples)
    let cell = CellRecord(kHz: 800_000, variant: "v", threads: 1, pin: "pu", attempt: 0, source: .emulated, latency: summary,
                          stopRule: .maxSamples, warmupRule: .stable, warmupIterations: 10, appliedKHz: 800_000,
                          speedRatio: 0.8, frequencyVerified: true, counters: nil, milliCelsiusBefore: ["z": 40_000],
                          milliCelsiusAfter: ["z": 41_000], thermalPauseNs: 0, loopOverheadFraction: 0.001, noisy: false,
                          startedAt: "2026-01-01T00:00:00Z")
    try store.record(cell, samplesNs: samples)
    try store.record(cell, samplesNs: samples)  // re-recording a key replaces it
    #expect(try store.samples(cellKey: cell.key) == samples)
    #expect(try store.totalSamples() == 4)
    try store.deleteCells(notIn: [])
    #expect(try store.cellKeys().isEmpty)
    #expect(try store.totalSamples() == 0)
}

@Test func anUnwritableDatabaseIsOneLineNamingIt() {
    do {
        _ = try SampleStore(path: "/proc/gearbox-cannot/s.sqlite")
        Issue.record("expected an error")
    } catch let error as ProfilerError {
        #expect(error.description.contains("/proc/gearbox-cannot/s.sqlite"))
        #expect(!error.description.contains("\n"))
    } catch {
        Issue.record("wrong error type \(error)")
    }
}
