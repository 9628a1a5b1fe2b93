import GearboxCore
import Testing
@testable import GearboxPolicy

@Suite struct ValidationMetricsTests {
    func row(_ t: Double, _ kHz: Int, _ variant: String, _ latency: Double, switched: Bool = false) -> TimelineRow {
        TimelineRow(timeMs: t, kHz: kHz, policy: .gearbox, variant: variant, latencyNs: Nanoseconds(latency), violation: latency > 10, switched: switched, switchNs: switched ? 2 : 0)
    }

    @Test func computesRatesAccuracyPercentilesAndRegret() {
        let trace = FrequencyTrace(name: "t", points: [(0, 100), (10, 50)], durationMs: 20)
        let rows = [row(0, 100, "a", 5), row(5, 100, "a", 6), row(10, 50, "b", 12, switched: true), row(15, 50, "b", 8)]
        let run = PolicyRun(policy: .gearbox, rows: rows, accuracyByVariant: ["a": 0.9, "b": 0.8], notes: ["n"])
        let r = ValidationMetrics.result(of: run, trace: trace, oracleAccuracy: 0.9)
        #expect(r.violationRate == 0.25)
        #expect(abs((r.meanAccuracy ?? 0) - 0.85) < 1e-12)
        #expect(abs((r.regretVsOracle ?? 0) - 0.05) < 1e-12)
        #expect(r.switches == 1 && r.switchTimeNs == 2)
        #expect(r.p50Ns == 6 && r.p99Ns == 12)
        #expect(r.segmentViolationRates == ["0": 0, "1": 0.5])
        #expect(r.inferences == 4)
        // Per-frequency means 5.5 and 10: CV = 2.25 / 7.75.
        #expect(abs((r.latencyCVAcrossFrequencies ?? 0) - 2.25 / 7.75) < 1e-12)
    }

    @Test func accuracyIsNilWithoutFiguresAndCVNeedsTwoFrequencies() {
        let run = PolicyRun(policy: .gearbox, rows: [row(0, 1, "a", 1)], accuracyByVariant: [:], notes: [])
        let r = ValidationMetrics.result(of: run, trace: Fixtures.constant(1, durationMs: 1), oracleAccuracy: 0.9)
        #expect(r.meanAccuracy == nil && r.regretVsOracle == nil)
        #expect(r.latencyCVAcrossFrequencies == nil)
    }

    @Test func nearestRankPercentiles() {
        let values = (1...100).map(Double.init)
        #expect(ValidationMetrics.percentile(values, 0.5) == 50)
        #expect(ValidationMetrics.percentile(values, 0.99) == 99)
        #expect(ValidationMetrics.percentile([7], 0.99) == 7)
        #expect(ValidationMetrics.percentile([], 0.5) == 0)
    }
}
