// Tests for GearboxProfiler/CellVisits and the sweep's visits: every cell measured twice at
// different points of a sweep, merged into one cell whose CI carries the between-visit spread.

import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxProfiler

private func summary(p50: Nanoseconds, halfWidth: Nanoseconds, samples: Int = 100) -> LatencySummary {
    LatencySummary(p50Ns: p50, p90Ns: p50 * 1.1, p99Ns: p50 * 1.2, p999Ns: p50 * 1.3, minNs: p50 * 0.9, maxNs: p50 * 1.4,
                   meanNs: p50, stddevNs: p50 * 0.02, cv: 0.02, ciLowNs: p50 - halfWidth, ciHighNs: p50 + halfWidth,
                   ciHalfWidthNs: halfWidth, samples: samples)
}

private func record(p50: Nanoseconds) -> CellRecord {
    CellRecord(kHz: 1, variant: "v", threads: 1, pin: "pu", attempt: 0, source: .simulated,
               latency: summary(p50: p50, halfWidth: 1), stopRule: .maxTime, warmupRule: .stable, warmupIterations: 1,
               appliedKHz: 1, speedRatio: 1, frequencyVerified: true, counters: nil, milliCelsiusBefore: [:],
               milliCelsiusAfter: [:], thermalPauseNs: 0, loopOverheadFraction: 0, noisy: false, startedAt: "")
}

@Suite struct CellVisitsTests {
    @Test func twoVisitsCombineWithinAndBetweenVisitSpread() {
        let first = summary(p50: 1_000_000, halfWidth: 10_000)
        let second = summary(p50: 1_040_000, halfWidth: 20_000)
        let merged = LatencySummary.combining(visits: [first, second])
        #expect(merged.p50Ns == 1_020_000)
        #expect(merged.samples == 200)
        // √((10² + 20²)/2 + 1.96² × s²) µs, s² = the visits' p50 variance = 2 × 20² µs².
        let z = MedianConfidence.normalQuantile(0.975)
        let expected = ((10_000.0 * 10_000 + 20_000 * 20_000) / 2 + z * z * 2 * 20_000 * 20_000).squareRoot()
        #expect(abs(merged.ciHalfWidthNs.value - expected) < 1e-6)
        #expect(merged.ciHalfWidthNs > 40_000, "wide enough to hold either visit")
        #expect(merged.minNs == first.minNs && merged.maxNs == second.maxNs)
        #expect(merged.stddevNs > first.stddevNs, "the pooled spread includes the visits' different means")
    }

    @Test func visitsThatAgreeByChanceStillGetTheSweepsBetweenVisitSpread() {
        let visit = summary(p50: 2_000_000, halfWidth: 30_000)
        // The sweep's cells moved by 2% (relative sd) between visits; these two happened to agree.
        let merged = LatencySummary.combining(visits: [visit, visit], pooledRelativeVariance: 0.02 * 0.02)
        let z = MedianConfidence.normalQuantile(0.975)
        let expected = (30_000.0 * 30_000 + z * z * 40_000 * 40_000).squareRoot()
        #expect(abs(merged.ciHalfWidthNs.value - expected) < 1e-6)
        let pooled = SweepVisitSpread([
            [record(p50: 1_000_000), record(p50: 1_020_000)], [record(p50: 2_000_000), record(p50: 2_000_000)], [record(p50: 5)],
        ], confidence: 0.95).relativeVariance
        // (2 × 10 000² / 1 010 000²) for the first cell, 0 for the second, averaged.
        #expect(abs(pooled - 2e8 / (1_010_000.0 * 1_010_000) / 2) < 1e-15, "single-visit cells do not count")
    }

    @Test func aHeavyTailOfVisitDifferencesWidensEveryCellsInterval() {
        // 40 cells: 36 whose visits agree, 4 whose second visit ran 10% slow (a host's slow phase).
        var cells = (0..<36).map { _ in [record(p50: 1_000_000), record(p50: 1_000_000)] }
        cells += (0..<4).map { _ in [record(p50: 1_000_000), record(p50: 1_100_000)] }
        let spread = SweepVisitSpread(cells, confidence: 0.95)
        let tail = spread.relativeHalfWidth
        // The 38th of 40 sorted differences is one of the 10% ones.
        #expect(abs(tail - 100_000 / 1_050_000 / 2.0.squareRoot()) < 1e-12)
        let z = MedianConfidence.normalQuantile(0.975)
        let normal = z * spread.relativeVariance.squareRoot()
        #expect(tail > 1.5 * normal, "the tail is wider than z·s says: \(tail) vs \(normal)")
        let merged = CellRecord.merging(visits: cells[0], confidence: 0.95, spread: spread)
        #expect(abs(merged.latency.ciHalfWidthNs.value - tail * 1_000_000) < 1e-6, "agreeing visits get the sweep's tail")
        #expect(SweepVisitSpread(Array(cells.suffix(19)), confidence: 0.95).relativeHalfWidth == 0, "19 pairs place no 95th percentile")
    }

    @Test func visitsThatAgreeKeepTheirOwnPrecision() {
        let visit = summary(p50: 2_000_000, halfWidth: 30_000)
        let merged = LatencySummary.combining(visits: [visit, visit])
        #expect(abs(merged.ciHalfWidthNs.value - 30_000) < 1e-6)
        #expect(LatencySummary.combining(visits: [visit]) == visit)
    }

    @Test func everyCellIsVisitedTwiceInDifferentOrdersAndTheTableSaysSo() throws {
        let scratch = ScratchDirectory("profiler")
        let frequencies = [400_000, 800_000, 1_400_000]
        let result = try simulatedSweep(dir: scratch.path, frequencies: frequencies, visits: 2).0.run()
        let firstAttempts = result.checkpoint.cells.filter { $0.attempt == 0 }
        let variants = testPortfolio().variants.count
        #expect(firstAttempts.count == frequencies.count * variants * 2)
        let firstVisit = firstAttempts.filter { ($0.visit ?? 1) == 1 }
        let secondVisit = firstAttempts.filter { $0.visit == 2 }
        #expect(firstVisit.count == secondVisit.count)
        #expect(firstVisit.map(\.cellKey) != secondVisit.map(\.cellKey), "the second visit has its own order")
        #expect(Set(result.checkpoint.cells.map(\.key)).count == result.checkpoint.cells.count, "keys stay unique")
        for variant in result.lut.variants {
            for kHz in frequencies {
                let cell = try #require(variant.latency[String(kHz)])
                #expect(cell.visits == 2)
                let visits = firstAttempts.filter { $0.variant == variant.name && $0.kHz == kHz }
                #expect(cell.samples >= visits.map(\.latency.samples).reduce(0, +) - 1 || cell.retried == true)
            }
        }
        #expect(result.lut.method?.stopRule.contains("each cell visited 2 times") == true)
    }

    @Test func aCheckpointFromBeforeVisitsIsRefusedWithAMessageSayingWhy() throws {
        let scratch = ScratchDirectory("profiler")
        _ = try? simulatedSweep(dir: scratch.path).0.run(options: SweepOptions(stopAfterCells: 2))
        let (twice, _) = simulatedSweep(dir: scratch.path, visits: 2)
        do {
            _ = try twice.run(options: SweepOptions(resume: true))
            Issue.record("expected a mismatch")
        } catch let error as ProfilerError {
            guard case .checkpointMismatch = error else { Issue.record("wrong error \(error)"); return }
            #expect(error.description.contains("visits per cell 1 vs 2"))
            #expect(error.description.contains("before cells were visited more than once"))
            #expect(error.exitStatus == .inputError)
        }
    }
}
