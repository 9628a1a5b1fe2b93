import GearboxCore
import Testing
import GearboxProfiler
@testable import GearboxPolicy

@Suite struct LatencyPredictorTests {
    let table = SyntheticPortfolio.table()
    var predictor: LatencyPredictor { LatencyPredictor(table: table) }

    @Test func usesTheMeasuredCellAtATableFrequency() throws {
        let p = try #require(predictor.predict(variant: 1, kHz: 1_000_000))
        #expect(p.basis == .measured)
        #expect(p.distribution.p99Ns == table.variants[1].latency["1000000"]?.p99Ns)
        #expect(p.source == .simulated)
    }

    @Test func usesTheModelAnchoredOnTheSlowerCellBetweenFrequencies() throws {
        let p = try #require(predictor.predict(variant: 1, kHz: 1_100_000))
        #expect(p.basis == .model)
        #expect(p.source == .predicted)
        let cell = try #require(table.variants[1].latency["1000000"])
        let model = try #require(table.variants[1].model)
        let expected = cell.p99Ns.value * (model.predictNs(kHz: 1_100_000) / model.predictNs(kHz: 1_000_000))
        #expect(abs(p.distribution.p99Ns.value - expected) < 1e-6)
        #expect(p.distribution.p99Ns < cell.p99Ns)
    }

    @Test func fillsAMissingCellFromTheModel() throws {
        // dense has no 600 MHz cell; 600 MHz is below its lowest cell (800 MHz).
        let p = try #require(predictor.predict(variant: 0, kHz: 600_000))
        #expect(p.basis == .extrapolatedBelow)
    }

    @Test func isConservativeBelowTheTable() throws {
        let p = try #require(predictor.predict(variant: 2, kHz: 300_000))
        let lowest = try #require(table.variants[2].latency["600000"])
        let model = try #require(table.variants[2].model)
        #expect(p.basis == .extrapolatedBelow)
        // At least pure 1/f scaling and at least the model's ratio.
        #expect(p.distribution.meanNs >= lowest.meanNs * 2 - 1e-6)
        #expect(p.distribution.meanNs >= lowest.meanNs * (model.predictNs(kHz: 300_000) / model.predictNs(kHz: 600_000)) - 1e-6)
    }

    @Test func interpolatesInOneOverFWithoutAModel() throws {
        var t = table
        t.variants[3].model = nil
        let p = try #require(LatencyPredictor(table: t).predict(variant: 3, kHz: 700_000))
        #expect(p.basis == .interpolated)
        let m6 = try #require(t.variants[3].latency["600000"]).meanNs, m8 = try #require(t.variants[3].latency["800000"]).meanNs
        #expect(p.distribution.meanNs < m6 && p.distribution.meanNs > m8)
    }

    @Test func aVariantWithoutCellsHasNoPrediction() {
        var t = table
        t.variants[4].latency = [:]
        #expect(LatencyPredictor(table: t).predict(variant: 4, kHz: 1_000_000) == nil)
        #expect(!LatencyPredictor(table: t).hasCells(variant: 4))
    }
}
