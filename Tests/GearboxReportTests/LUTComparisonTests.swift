// Tests for Compare/LUTComparison: ratios, significance by CI overlap, predicted cells, summary.

import Foundation
import GearboxCore
import GearboxProfiler
import Testing
@testable import GearboxReport

func cell(_ p50: Nanoseconds, ci: Nanoseconds, source: MeasurementSource = .emulated) -> LookupTable.LatencyCell {
    LookupTable.LatencyCell(p50Ns: p50, p90Ns: p50 * 1.1, p99Ns: p50 * 1.2, meanNs: p50, stddevNs: p50 * 0.05,
                            ciHalfWidthNs: ci, samples: 500, source: source)
}

func table(_ cells: [String: [Int: LookupTable.LatencyCell]], controller: MeasurementSource = .emulated) -> LookupTable {
    LookupTable(
        device: "d", portfolio: "p", controller: controller,
        provenance: Provenance(deviceID: "d", controller: controller, date: Date(timeIntervalSince1970: 0)),
        frequenciesKHz: Array(Set(cells.values.flatMap(\.keys))).sorted(),
        variants: cells.keys.sorted().map { name in
            LookupTable.Variant(name: name, format: "dense", accuracy: 0.9, params: 10, macs: 100, memoryBytes: 1000,
                                latency: Dictionary(uniqueKeysWithValues: (cells[name] ?? [:]).map { (String($0.key), $0.value) }),
                                counters: [:], model: nil)
        },
        switchCostNs: [:])
}

@Test func overlappingConfidenceIntervalsAreNoSignificantChange() throws {
    let a = table(["v": [800: cell(1_000_000, ci: 20_000)]])
    let b = table(["v": [800: cell(1_030_000, ci: 15_000)]])  // |diff| 30 µs ≤ 20 + 15 µs
    let comparison = try LUTComparison(baseline: a, baselinePath: "a", candidate: b, candidatePath: "b")
    #expect(comparison.cells.count == 1)
    #expect(comparison.cells[0].verdict == .noSignificantChange)
    #expect(abs(comparison.cells[0].ratio - 1.03) < 1e-12)
    #expect(comparison.summary.noSignificantChange == 1 && comparison.summary.faster == 0 && comparison.summary.slower == 0)
}

@Test func separatedIntervalsAreFasterOrSlower() throws {
    let a = table(["fast": [800: cell(1_000_000, ci: 10_000)], "slow": [800: cell(1_000_000, ci: 10_000)]])
    let b = table(["fast": [800: cell(850_000, ci: 10_000)], "slow": [800: cell(1_100_000, ci: 10_000)]])
    let comparison = try LUTComparison(baseline: a, baselinePath: "a", candidate: b, candidatePath: "b")
    let verdicts = Dictionary(uniqueKeysWithValues: comparison.cells.map { ($0.variant, $0.verdict) })
    #expect(verdicts == ["fast": .faster, "slow": .slower])
    let expectedMean = (0.85 * 1.1).squareRoot()
    #expect(abs((comparison.summary.geometricMeanRatio ?? 0) - expectedMean) < 1e-12)
    #expect(comparison.summaryLine.contains("1 faster, 1 slower, 0 no significant change"))
}

@Test func predictedCellsAreNotJudgedNorAveraged() throws {
    let a = table(["v": [800: cell(1_000_000, ci: 1, source: .predicted), 1600: cell(500_000, ci: 1)]])
    let b = table(["v": [800: cell(2_000_000, ci: 1), 1600: cell(500_000, ci: 1)]])
    let comparison = try LUTComparison(baseline: a, baselinePath: "a", candidate: b, candidatePath: "b")
    #expect(comparison.cells.first { $0.kHz == 800 }?.verdict == .predicted)
    #expect(comparison.summary.predicted == 1)
    #expect(comparison.summary.geometricMeanRatio == 1)
}

@Test func tablesWithNothingInCommonFailWithOneLine() {
    let a = table(["x": [800: cell(1, ci: 0)]])
    let b = table(["y": [800: cell(1, ci: 0)]])
    #expect(throws: ReportError.nothingToCompare(baseline: "a.json", candidate: "b.json", reason: "no variant name in common")) {
        try LUTComparison(baseline: a, baselinePath: "a.json", candidate: b, candidatePath: "b.json")
    }
}

@Test func fixtureComparisonFindsTheChangedKernelAndWarnsAboutTheMissingVariant() throws {
    let comparison = try LUTComparison.load(baselinePath: Fixtures.path("baseline.lut.json"), candidatePath: Fixtures.path("candidate.lut.json"))
    let csr = comparison.cells.filter { $0.variant == "imp-csr-90" && $0.verdict != .predicted }
    #expect(!csr.isEmpty && csr.allSatisfy { $0.verdict == .faster })
    let dense = comparison.cells.filter { $0.variant == "dense-full" }
    #expect(dense.allSatisfy { $0.verdict == .noSignificantChange }, "±0.3% noise lies inside the CIs")
    #expect(comparison.variantsOnlyInBaseline == ["bsr-80"])
    #expect(comparison.warnings.contains { $0.contains("bsr-80") })
    let text = comparison.text()
    #expect(text.contains("summary: "))
    #expect(text.contains("="))
}

@Test func corruptLookupTableIsAOneLineErrorNamingTheFile() {
    let path = Fixtures.path("corrupt.lut.json")
    do {
        _ = try LUTComparison.load(baselinePath: path, candidatePath: Fixtures.path("candidate.lut.json"))
        Issue.record("a truncated table must be rejected")
    } catch {
        let message = "\(error)"
        #expect(message.contains(path))
        #expect(!message.contains("\n"), "one line: \(message)")
        #expect(message.contains("regenerate"), "says how to fix it")
    }
}
