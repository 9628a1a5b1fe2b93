import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxProfiler

/// Windows of one cell, each with the given quartile.
private func windows(_ cell: String, _ variant: String, _ quartiles: [Nanoseconds]) -> [HostContention.Window] {
    quartiles.map { HostContention.Window(cell: cell, variant: variant, quartileNs: $0) }
}

@Test func windowsAboveTheVariantsFastestTenthCountAsSlowed() {
    // Variant a: 20 windows at 1.0 ms in two cells, then a cell whose 3 of 4 windows ran 1.5×.
    // Variant b runs 4× longer and is never slowed: its reference is its own.
    let sample = windows("a@1", "a", Array(repeating: 1_000_000, count: 10))
        + windows("a@2", "a", Array(repeating: 1_010_000, count: 10))
        + windows("a@3", "a", [1_000_000, 1_500_000, 1_500_000, 1_190_000])
        + windows("b@1", "b", Array(repeating: 4_000_000, count: 8))
    let contention = HostContention(windows: sample, formatOf: { $0 == "a" ? "csr" : "dense" })
    #expect(contention.total.windows == 32)
    #expect(contention.total.slowWindows == 2)  // 1.19 ms is within 20%
    #expect(contention.total.cells == 4)
    #expect(contention.total.mostlySlowCells == 0)  // 2 of 4 is not more than half
    #expect(contention.byFormat.map(\.name) == ["dense", "csr"])
    #expect(contention.byFormat[1].slowWindows == 2 && contention.byFormat[0].slowWindows == 0)
    #expect(contention.summary.hasPrefix("6% of 32 windows"))

    let worse = sample + windows("a@4", "a", [1_400_000, 1_400_000, 1_400_000])
    #expect(HostContention(windows: worse, formatOf: { _ in "all" }).total.mostlySlowCells == 1)
}

@Test func contentionIsReadFromTheSampleDatabaseAndAbsentWithoutQuartiles() throws {
    let scratch = ScratchDirectory("profiler")
    let store = try SampleStore(path: scratch.file("s.samples.sqlite"))
    let samples: [UInt64] = [5_000_000, 5_100_000, 7_000_000]
    func cell(_ kHz: Int) -> CellRecord {
        CellRecord(kHz: kHz, variant: "v", threads: 1, pin: "pu", attempt: 0, source: .emulated,
                   latency: LatencySummary(samplesNs: samples), stopRule: .maxTime, warmupRule: .stable,
                   warmupIterations: 1, appliedKHz: kHz, speedRatio: 0.5, frequencyVerified: true, counters: nil,
                   milliCelsiusBefore: [:], milliCelsiusAfter: [:], thermalPauseNs: 0, loopOverheadFraction: 0,
                   noisy: false, startedAt: "")
    }
    try store.record(cell(500_000), samplesNs: samples)
    #expect(try HostContention.read(from: store, formatOf: { _ in "dense" }) == nil)
    try store.record(cell(1_000_000), samplesNs: samples, windowQuartilesNs: [1_000_000, 1_000_000, 1_600_000],
                     interfered: [false, false, true])
    let windows = try store.windowQuartiles()
    #expect(windows.map(\.quartileNs) == [1_000_000, 1_000_000, 1_600_000])
    #expect(windows.allSatisfy { $0.cell == cell(1_000_000).key && $0.variant == "v" })
    let contention = try #require(try HostContention.read(from: store, formatOf: { _ in "dense" }))
    #expect(contention.total.slowWindows == 1 && contention.total.mostlySlowCells == 0)
}
