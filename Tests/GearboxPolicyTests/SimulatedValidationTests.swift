import GearboxCore
import Testing
import GearboxProfiler
@testable import GearboxPolicy

/// The quality bars on the synthetic portfolio (simulated controller).
@Suite struct SimulatedValidationTests {
    let table = SyntheticPortfolio.table()
    let objective = LatencyObjective(statistic: .percentile(99), targetNs: 8_000_000)

    func report(_ spec: String, durationMs: Double = 20_000, seed: UInt64 = 1) throws -> ValidationReport {
        let trace = try TraceSpec(parsing: spec).generate(levelsKHz: table.frequenciesKHz, durationMs: durationMs)
        return try Validator.simulate(
            table: table, tableName: "synthetic", trace: trace, traceName: spec, objective: objective,
            policies: ValidationPolicy.standard, options: .init(seed: seed, durationMs: durationMs))
    }

    @Test(arguments: ["step", "square:period=2s", "random-walk:seed=7"])
    func gearboxMeetsTheObjectiveWhereStaticAccurateMissesOnSlowSegments(spec: String) throws {
        let r = try report(spec)
        let gearbox = try #require(r.summary.policies["gearbox"])
        let accurate = try #require(r.summary.policies["static-accurate"])
        let oracle = try #require(r.summary.policies["oracle"])
        #expect(gearbox.violationRate <= 0.01, "\(spec): gearbox violates \(gearbox.violationRate)")
        #expect(accurate.violationRate > 0.05, "\(spec): static-accurate violates only \(accurate.violationRate)")
        let ratio = (gearbox.meanAccuracy ?? 0) / (oracle.meanAccuracy ?? 1)
        #expect(ratio >= 0.98, "\(spec): gearbox delivers \(ratio) of the oracle's accuracy")
        #expect((gearbox.regretVsOracle ?? 1) >= 0)
    }

    @Test func staticAccurateViolatesOnTheSlowSegmentOfAStep() throws {
        let r = try report("step")
        let rates = try #require(r.summary.policies["static-accurate"]?.segmentViolationRates)
        #expect((rates["0"] ?? 1) <= 0.01)  // fast half
        #expect((rates["1"] ?? 0) > 0.9)    // slow half: dense never fits at 600 MHz
        #expect((r.summary.policies["gearbox"]?.segmentViolationRates?["1"] ?? 1) <= 0.01)
    }

    @Test func sameSeedGivesTheSameRunAndAnotherSeedDoesNot() throws {
        let a = try report("random-walk:seed=7", durationMs: 5000, seed: 9)
        let b = try report("random-walk:seed=7", durationMs: 5000, seed: 9)
        let c = try report("random-walk:seed=7", durationMs: 5000, seed: 10)
        #expect(Timeline.csv(a.runs) == Timeline.csv(b.runs))
        #expect(Timeline.csv(a.runs) != Timeline.csv(c.runs))
    }

    @Test func staticPoliciesNeverSwitchAndStaticFastNeverViolatesHere() throws {
        let r = try report("square:period=2s", durationMs: 5000)
        #expect(r.summary.policies["static-accurate"]?.switches == 0)
        #expect(r.summary.policies["static-fast"]?.switches == 0)
        #expect(r.summary.policies["static-fast"]?.violationRate == 0)
        #expect((r.summary.policies["static-fast"]?.meanAccuracy ?? 1) < (r.summary.policies["gearbox"]?.meanAccuracy ?? 0))
    }

    @Test func hysteresisKeepsAFastSquareFromCausingASwitchPerSegment() throws {
        let trace = try TraceSpec(parsing: "square:period=50ms").generate(levelsKHz: table.frequenciesKHz, durationMs: 10_000)
        func switches(_ hysteresis: Bool) throws -> Int {
            let sim = try SimulatedValidation(
                table: table, trace: trace, objective: objective,
                options: .init(durationMs: 10_000, selector: .init(hysteresis: hysteresis)))
            return sim.run(.gearbox).rows.filter(\.switched).count
        }
        let with = try switches(true), without = try switches(false)
        #expect(with <= 3)
        #expect(without >= 300)
    }

    @Test func withoutFeedbackAnInjectedSlowdownKeepsViolating() throws {
        // A target that dense just meets at 1.8 GHz; ×1.3 pushes about half its latencies over it.
        let trace = Fixtures.constant(1_800_000, durationMs: 6000)
        let denseP99 = try #require(table.variants[0].latency["1800000"]?.p99Ns)
        let tight = LatencyObjective(statistic: .percentile(99), targetNs: denseP99 / 0.95 * 1.001)
        func lateViolationRate(feedback: Double) throws -> Double {
            let sim = try SimulatedValidation(
                table: table, trace: trace, objective: tight,
                options: .init(durationMs: 6000, slowdowns: [Slowdown(startMs: 2000, factor: 1.3)], selector: .init(feedbackSmoothing: feedback)))
            let rows = sim.run(.gearbox).rows
            let late = rows.filter { $0.timeMs >= 3000 }
            return Double(late.filter(\.violation).count) / Double(late.count)
        }
        #expect(try lateViolationRate(feedback: 0) > 0.2)
        #expect(try lateViolationRate(feedback: 0.1) <= 0.01)
    }

    @Test func frequencyChangesMidInferenceRescaleTheRemainingWork() throws {
        // 1.8 GHz then 600 MHz at 1 ms: an inference started at 0 finishes at the slower speed.
        let trace = FrequencyTrace(name: "t", points: [(0, 1_800_000), (1, 600_000)], durationMs: 100)
        let sim = try SimulatedValidation(table: table, trace: trace, objective: objective, options: .init(durationMs: 100))
        let fast = sim.truth(kHz: 1_800_000)[0].quantileNs(0.5).value, slow = sim.truth(kHz: 600_000)[0].quantileNs(0.5).value
        let mixed = sim.latencyNs(variant: 0, quantile: 0.5, startNs: 0)
        // 1 ms at full speed does 1/fast of the work; the rest at the slow speed.
        let expected = 1e6 + (1 - 1e6 / fast) * slow
        #expect(abs(mixed - expected) < 1)
    }

    @Test func slowdownsParseFromText() throws {
        #expect(try Slowdown(parsing: "1.3@10s") == Slowdown(startMs: 10_000, factor: 1.3))
        #expect(try Slowdown(parsing: "2@1s-2s") == Slowdown(startMs: 1000, endMs: 2000, factor: 2))
        #expect(throws: PolicyError.self) { try Slowdown(parsing: "fast") }
    }
}
