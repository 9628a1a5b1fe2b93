// Tests for LookupTableBuilder.build on a hand-made checkpoint: measured cells keep their
// percentiles, unmeasured grid frequencies get predicted cells from the t(f) = a + b/f fit
// (percentile ratios from the nearest measured frequency), the retry of a noisy cell is kept and
// marked, and the method block counts what was kept.

import GearboxCore
import GearboxPortfolio
import GearboxRuntime
import Testing

@testable import GearboxProfiler

/// The exact latency model of variant "a": 0.1 ms + 0.4 ms·GHz / f.
private func modelNs(_ kHz: Int) -> Nanoseconds { Nanoseconds(100_000 + 400_000_000_000 / Double(kHz)) }

/// A simulated cell of variant "a" at `kHz` with p50 from the model and p90 = `p90Ratio` × p50.
private func cell(kHz: Int, p90Ratio: Double, attempt: Int = 0, cv: Double = 0.01) -> CellRecord {
    let p50 = modelNs(kHz)
    let s = LatencySummary(p50Ns: p50, p90Ns: p90Ratio * p50, p99Ns: 1.5 * p50, p999Ns: 2 * p50, minNs: 0.9 * p50, maxNs: 3 * p50,
                           meanNs: 1.05 * p50, stddevNs: cv * p50, cv: cv, ciLowNs: 0.99 * p50, ciHighNs: 1.01 * p50,
                           ciHalfWidthNs: 0.01 * p50, samples: 100 + attempt)
    return CellRecord(kHz: kHz, variant: "a", threads: 1, pin: "pu", attempt: attempt, source: .simulated, latency: s,
                      stopRule: .ci, warmupRule: .stable, warmupIterations: 1, appliedKHz: kHz, speedRatio: Double(kHz) / 2_000_000,
                      frequencyVerified: true, counters: nil, milliCelsiusBefore: [:], milliCelsiusAfter: [:],
                      thermalPauseNs: 0, loopOverheadFraction: 0, noisy: cv > 0.05, startedAt: "")
}

/// Grid 400, 800, 1000, 1600, 2000 MHz; variant "a" measured at 400, 1000 (twice: a noisy first
/// attempt and a steadier retry) and 2000 MHz; variant "b" never measured.
private func table() -> LookupTable {
    let grid = [400_000, 800_000, 1_000_000, 1_600_000, 2_000_000]
    let configuration = SweepConfiguration(
        deviceID: "dev", portfolioName: "p", portfolioDigest: "digest", controller: .simulated,
        frequenciesKHz: [400_000, 1_000_000, 2_000_000], gridKHz: grid, pin: .none, measureMemory: false, measureSwitchCosts: false)
    var checkpoint = SweepCheckpoint(
        configuration: configuration, startedAt: "",
        clock: LatencyClockCalibration(clock: "test", declaredResolutionNs: 1, observedResolutionNs: 1, readCostNs: 20),
        frequencyOrderKHz: [1_000_000, 400_000, 2_000_000], backend: "simulated")
    checkpoint.cells = [
        cell(kHz: 400_000, p90Ratio: 1.2),
        cell(kHz: 1_000_000, p90Ratio: 1.4, cv: 0.08),
        cell(kHz: 2_000_000, p90Ratio: 1.1),
        cell(kHz: 1_000_000, p90Ratio: 1.3, attempt: 1, cv: 0.02),
    ]
    let manifest = PortfolioManifest(
        name: "p",
        task: .init(dataset: "none", inputName: "x", inputShape: [1, 4], classes: 2, preprocess: .init(scale: 1, mean: 0, std: 1)),
        variants: [variant("a"), variant("b")])
    return LookupTableBuilder.build(checkpoint: checkpoint, manifest: manifest,
                                    provenance: Provenance(deviceID: "dev", controller: .simulated))
}

@Suite struct LookupTableBuilderTests {
    @Test func measuredCellsCarryTheirPercentilesOver() throws {
        let a = try #require(table().variants.first { $0.name == "a" })
        let cell = try #require(a.latency["400000"])
        let p50 = modelNs(400_000)  // 1.1 ms
        #expect(cell.p50Ns == p50)
        #expect(cell.p90Ns == 1.2 * p50)
        #expect(cell.p99Ns == 1.5 * p50 && cell.p999Ns == 2 * p50 && cell.maxNs == 3 * p50)
        #expect(cell.meanNs == 1.05 * p50)
        #expect(cell.samples == 100)
        #expect(cell.source == .simulated)
        #expect(cell.retried == nil)
    }

    @Test func theSteadierRetryOfANoisyCellIsKeptAndMarked() throws {
        let lut = table()
        let cell = try #require(lut.variants.first { $0.name == "a" }?.latency["1000000"])
        #expect(cell.samples == 101)  // the retry's
        #expect(cell.p90Ns == 1.3 * modelNs(1_000_000))
        #expect(cell.retried == true)
        #expect(lut.method?.noisyCells == 1)
        #expect(lut.method?.retriedCells == 1)
        #expect(lut.method?.stopRuleCounts == [StopRule.ci.rawValue: 3])
    }

    @Test func unmeasuredGridFrequenciesArePredictedFromTheFit() throws {
        let lut = table()
        let a = try #require(lut.variants.first { $0.name == "a" })
        #expect(lut.method?.predictedKHz == [800_000, 1_600_000])
        #expect(lut.frequenciesKHz == [400_000, 800_000, 1_000_000, 1_600_000, 2_000_000])
        for (kHz, nearestP90Ratio) in [(800_000, 1.3), (1_600_000, 1.1)] {
            let cell = try #require(a.latency[String(kHz)])
            let p50 = modelNs(kHz)  // 0.6 ms at 800 MHz, 0.35 ms at 1600 MHz
            #expect(cell.source == .predicted, "\(kHz)")
            #expect(cell.samples == 0)
            #expect(abs(cell.p50Ns / p50 - 1) < 1e-9, "\(kHz)")
            // Percentile ratios come from the nearest measured frequency (1000 and 2000 MHz).
            #expect(abs(cell.p90Ns / (nearestP90Ratio * p50) - 1) < 1e-9, "\(kHz)")
            #expect(abs(cell.p99Ns / (1.5 * p50) - 1) < 1e-9)
        }
    }

    @Test func theFitRecoversTheModelOnTheDeliveredClock() throws {
        let model = try #require(table().variants.first { $0.name == "a" }?.model)
        #expect(abs(model.aNs.value - 100_000) < 1e-3)
        #expect(abs(model.bNsKHz / 400_000_000_000 - 1) < 1e-9)
        #expect(model.r2 > 0.999_999)
        #expect(model.looMape < 1e-9)
        #expect(model.frequencyBasis == "delivered")
    }

    @Test func aVariantWithoutCellsHasNoLatencyAndNoModel() throws {
        let lut = table()
        let b = try #require(lut.variants.first { $0.name == "b" })
        #expect(b.latency.isEmpty)
        #expect(b.model == nil)
        #expect(lut.variants.map(\.name) == ["a", "b"])
        #expect(lut.device == "dev" && lut.portfolio == "p")
    }
}
