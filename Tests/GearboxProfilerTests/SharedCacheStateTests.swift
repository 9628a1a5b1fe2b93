import Foundation
import GearboxCore
import GearboxHardware
import GearboxTestSupport
import Testing

@testable import GearboxProfiler

private func cell(_ kHz: Int, _ variant: String = "v", p50Ns: Double = 2e6, probeNs: Nanoseconds?, attempt: Int = 0) -> CellRecord {
    CellRecord(kHz: kHz, variant: variant, threads: 1, pin: "pu", attempt: attempt, source: .emulated,
               latency: LatencySummary(samplesNs: [UInt64(p50Ns)]), stopRule: .maxTime, warmupRule: .stable,
               warmupIterations: 1, appliedKHz: kHz, speedRatio: 1, frequencyVerified: true, counters: nil,
               milliCelsiusBefore: [:], milliCelsiusAfter: [:], thermalPauseNs: 0, loopOverheadFraction: 0, noisy: false,
               startedAt: "", sharedCacheLoadNs: probeNs)
}

@Test func readingsAboveTwiceTheFastestCountAsContended() throws {
    let cells = [cell(1, probeNs: 20), cell(2, probeNs: 39), cell(3, probeNs: 41), cell(4, probeNs: 120), cell(5, probeNs: nil)]
    let state = try #require(SharedCacheState(cells: cells, probeBytes: 4 << 20))
    #expect(state.cells == 4)
    #expect(state.fastestNs == 20 && state.slowestNs == 120 && state.medianNs == 41)
    #expect(state.contendedCells == 2)
    #expect(state.summary == "4 MiB chase 41 ns per load at the median (fastest 20, slowest 120); 2 of 4 cells ran with it contended (> 2× 20 ns)")
    // Against another sweep's faster reference, more of them are.
    #expect(SharedCacheState(cells: cells, referenceNs: 10)?.contendedCells == 3)
}

@Test func aSweepWithoutReadingsHasNoSharedCacheState() {
    #expect(SharedCacheState(cells: [cell(1, probeNs: nil)]) == nil)
    #expect(SharedCacheState(cells: []) == nil)
}

@Test func aSweepWithAProbeRecordsAReadingPerCellInTheDatabaseAndTheProvenance() throws {
    let scratch = ScratchDirectory("profiler")
    let (sweep, _) = simulatedSweep(dir: scratch.path, frequencies: [400_000, 1_400_000],
                                    cacheProbe: SharedCacheProbe(bytes: 64 << 10))
    let result = try sweep.run()
    #expect(result.checkpoint.cells.allSatisfy { ($0.sharedCacheLoadNs ?? 0) > 0 })
    let state = try #require(result.sharedCache)
    #expect(state.cells == result.checkpoint.cells.count)
    #expect(state.probeBytes == 64 << 10)
    let store = try SampleStore(path: sweep.paths.samples)
    #expect(try store.sharedCacheReadings().count == result.checkpoint.cells.count)
    #expect(try store.metaJSON("sharedCache") != nil)
    #expect(result.lut.provenance.notes.contains { $0.hasPrefix("shared cache: 64 KiB chase ") })
}

@Test func aSweepWithoutAProbeRecordsNone() throws {
    let scratch = ScratchDirectory("profiler")
    let (sweep, _) = simulatedSweep(dir: scratch.path, frequencies: [400_000, 1_400_000])
    let result = try sweep.run()
    #expect(result.sharedCache == nil)
    #expect(result.checkpoint.cells.allSatisfy { $0.sharedCacheLoadNs == nil })
    #expect(try SampleStore(path: sweep.paths.samples).sharedCacheReadings().isEmpty)
    #expect(!result.lut.provenance.notes.contains { $0.hasPrefix("shared cache: ") })
}
