import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxProfiler

@Test func cellPrecisionIsTheMedianRelativeIntervalOfTheMeasuredCells() throws {
    let scratch = ScratchDirectory("profiler")
    var table = try simulatedSweep(dir: scratch.path, frequencies: [400_000, 800_000, 1_400_000]).0.run().lut
    // Every measured cell: CI ±2% for dense variants, ±6% for the others; one cell
    // stopped on its CI target.
    var stoppedByCI = 0
    for v in table.variants.indices {
        for (key, cell) in table.variants[v].latency where cell.source != .predicted {
            let relative = table.variants[v].format == "dense" ? 0.02 : 0.06
            table.variants[v].latency[key]?.ciHalfWidthNs = cell.p50Ns * relative
            table.variants[v].latency[key]?.stopRule = stoppedByCI == 0 ? "ci" : "maxTime"
            stoppedByCI += 1
        }
    }
    let precision = CellPrecision(table)
    #expect(precision.cells == table.variants.count * 3)
    #expect(precision.cellsStoppedByCI == 1)
    let dense = try #require(precision.byFormat.first { $0.format == "dense" })
    #expect(abs(dense.medianRelativeCI - 0.02) < 1e-9)
    #expect(precision.byFormat.filter { $0.format != "dense" }.allSatisfy { abs($0.medianRelativeCI - 0.06) < 1e-9 })
    #expect(precision.byFormat.map(\.cells).reduce(0, +) == precision.cells)
    // Rows in the README's order: dense first.
    #expect(precision.byFormat.first?.format == "dense")
    #expect(precision.summary.hasPrefix("±"))
    #expect(precision.summary.contains("dense ±2.0%") && precision.summary.contains("1 of \(precision.cells) cells reached the CI target"))
}

@Test func cellsAtOrBelowTheThresholdAndPredictedCellsAreLeftOut() throws {
    let scratch = ScratchDirectory("profiler")
    let table = try simulatedSweep(dir: scratch.path, frequencies: [400_000, 800_000, 1_400_000]).0.run().lut
    let measured = table.variants.flatMap { $0.latency.values.filter { $0.source != .predicted } }
    #expect(CellPrecision(table).cells == measured.count)
    let threshold = measured.map(\.p50Ns).sorted()[measured.count / 2]
    #expect(CellPrecision(table, minimumP50Ns: threshold).cells == measured.filter { $0.p50Ns > threshold }.count)
}
