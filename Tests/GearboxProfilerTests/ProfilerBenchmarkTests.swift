import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxBenchmarks
@testable import GearboxProfiler

/// A LUT from a small simulated sweep with every measured p50 set to `p50Ns(variant, kHz)`.
private func lut(_ p50Ns: (LookupTable.Variant, Int) -> Double) throws -> LookupTable {
    let scratch = ScratchDirectory("profiler")
    var table = try simulatedSweep(dir: scratch.path, frequencies: [400_000, 800_000, 1_400_000]).0.run().lut
    for v in table.variants.indices {
        for (key, cell) in table.variants[v].latency where cell.source != .predicted {
            guard let kHz = Int(key) else { continue }
            let value = p50Ns(table.variants[v], kHz)
            table.variants[v].latency[key]?.p50Ns = Nanoseconds(value)
        }
    }
    return table
}

@Test func rerunStabilityIsBrokenDownByFormat() throws {
    let first = try lut { _, kHz in 4e12 / Double(kHz) }
    // The second sweep: one variant 10% slower everywhere, the rest unchanged.
    let moved = try #require(first.variants.first).name
    let second = try lut { v, kHz in 4e12 / Double(kHz) * (v.name == moved ? 1.10 : 1.0) }
    let rerun = ProfilerBenchmark.rerunStability(first, second)
    #expect(!rerun.pass)
    #expect(rerun.cellsCompared == first.variants.count * 3)
    #expect(rerun.cellsWithin3Percent == rerun.cellsCompared - 3)
    #expect(abs(rerun.maxDeviation - 0.10) < 1e-9)
    #expect(rerun.worstCell.hasPrefix(moved + "@"))
    let formats = try #require(rerun.byFormat)
    #expect(formats.map(\.cellsCompared).reduce(0, +) == rerun.cellsCompared)
    let movedFormat = try #require(first.variants.first).format
    for f in formats {
        #expect(f.format == movedFormat ? f.cellsWithin3Percent == f.cellsCompared - 3 : f.cellsWithin3Percent == f.cellsCompared)
    }
    // The moved variant's 10% lies outside the first sweep's ±1% CIs: 3 cells of 15 miss.
    #expect(rerun.cellsInsideFirstCI == rerun.cellsCompared - 3)
    #expect(abs(rerun.coverage - Double(rerun.cellsCompared - 3) / Double(rerun.cellsCompared)) < 1e-9)
    #expect(rerun.coverageBar == 0.9)
    let same = ProfilerBenchmark.rerunStability(first, first)
    #expect(same.pass && same.coverage == 1)
}

@Test func cellsOfOneMillisecondOrLessAreNotCompared() throws {
    let first = try lut { _, _ in 900_000 }
    let second = try lut { _, _ in 1_800_000 }
    let rerun = ProfilerBenchmark.rerunStability(first, second)
    #expect(rerun.cellsCompared == 0)
    #expect(!rerun.pass)
}

@Test func rerunAgreementIsSplitByTheSharedCachePhaseEachCellRanIn() throws {
    let first = try lut { _, kHz in 4e12 / Double(kHz) }
    let moved = try #require(first.variants.first).name
    let second = try lut { v, kHz in 4e12 / Double(kHz) * (v.name == moved ? 1.10 : 1.0) }
    // The moved variant ran with the shared cache contended in the second sweep only.
    func records(_ table: LookupTable, contended: (String) -> Bool) -> [CellRecord] {
        table.variants.flatMap { v in
            v.latency.filter { $0.value.source != .predicted }.compactMap { key, c -> CellRecord? in
                guard let kHz = Int(key) else { return nil }
                return CellRecord(kHz: kHz, variant: v.name, threads: 1, pin: "pu", attempt: 0, source: .emulated,
                                  latency: LatencySummary(samplesNs: [UInt64(c.p50Ns.value)]), stopRule: .maxTime,
                                  warmupRule: .stable, warmupIterations: 1, appliedKHz: kHz, speedRatio: 1,
                                  frequencyVerified: true, counters: nil, milliCelsiusBefore: [:], milliCelsiusAfter: [:],
                                  thermalPauseNs: 0, loopOverheadFraction: 0, noisy: false, startedAt: "",
                                  sharedCacheLoadNs: contended(v.name) ? 100 : 20)
            }
        }
    }
    // Records carry the LUT's p50 (the summary of one sample), so each LUT cell finds its record.
    var a = records(first) { _ in false }, b = records(second) { $0 == moved }
    for i in a.indices { a[i].latency.p50Ns = first.variant(named: a[i].variant)?.latency[String(a[i].kHz)]?.p50Ns ?? 0 }
    for i in b.indices { b[i].latency.p50Ns = second.variant(named: b[i].variant)?.latency[String(b[i].kHz)]?.p50Ns ?? 0 }
    let split = try #require(ProfilerBenchmark.sharedCache((first, a), (second, b)))
    #expect(split.differentPhaseCompared == 3 && split.differentPhaseWithin3Percent == 0)
    #expect(split.samePhaseCompared == first.variants.count * 3 - 3)
    #expect(split.samePhaseWithin3Percent == split.samePhaseCompared)
    #expect(split.sweeps.map(\.contendedCells) == [0, 3])
    #expect(ProfilerBenchmark.sharedCache((first, records(first) { _ in false }.map { var r = $0; r.sharedCacheLoadNs = nil; return r }),
                                          (second, [])) == nil)
}
