import GearboxCore
import Testing
import PropertyBased
import GearboxProfiler
@testable import GearboxPolicy

@Suite struct VariantSelectorPropertyTests {
    @Test func neverPicksAVariantPredictedToMissWhenOneThatFitsExists() async throws {
        await propertyCheck(count: 60, input: Gen.uint64(in: 0...UInt64.max), Gen.double(in: 0.3...3.0)) { seed, targetScale in
            let table = Fixtures.randomTable(seed: seed)
            let grid = table.frequenciesKHz
            // A target around the middle variant's p99 at the middle frequency, scaled.
            let middle = table.variants[table.variants.count / 2].latency[String(grid[0])]?.p99Ns ?? 1e6
            let objective = LatencyObjective(statistic: .percentile(99), targetNs: middle * targetScale)
            guard let s = try? VariantSelector(table: table, objective: objective) else { return }
            var rng = SplitMix64(seed: seed ^ 0x5EED)
            var now: Int64 = 0
            for _ in 0..<300 {
                let base = grid[Int(rng.next() % UInt64(grid.count))]
                let kHz: Int
                switch rng.next() % 4 {
                case 0: kHz = base
                case 1: kHz = base + Int(rng.next() % 90_000)           // off the grid
                case 2: kHz = max(1, grid[0] / (2 + Int(rng.next() % 4)))  // below the table
                default: kHz = grid[grid.count - 1] + Int(rng.next() % 500_000)  // above it
                }
                now += Int64(rng.next() % 50_000_000)
                let d = s.decide(frequencyKHz: kHz, atNs: now)
                let fitting = (0..<s.variants.count).filter { s.fits(variantIndex: $0, frequencyKHz: kHz) }
                if !fitting.isEmpty {
                    #expect(s.fits(variantIndex: d.variantIndex, frequencyKHz: kHz), "seed \(seed) at \(kHz) kHz")
                    #expect(d.meetsObjective)
                } else {
                    // Nothing fits: the fastest is chosen.
                    let fastest = (0..<s.variants.count).map { s.predictedNs(variantIndex: $0, frequencyKHz: kHz) }.min() ?? 0
                    #expect(s.predictedNs(variantIndex: d.variantIndex, frequencyKHz: kHz) == fastest)
                    #expect(!d.meetsObjective)
                }
                // Independently of the selector's tables: at a measured cell, fitting is the cell's p99.
                if kHz == base, let cell = table.variants.first(where: { $0.name == s.variants[d.variantIndex].name })?.latency[String(kHz)] {
                    let anyCellFits = s.variants.contains { ($0.latency[String(kHz)]?.p99Ns ?? .infinity) * s.correction <= s.budgetNs * (1 - 1e-9) }
                    if anyCellFits { #expect(cell.p99Ns * s.correction <= s.budgetNs * (1 + 1e-9)) }
                }
                s.observe(latencyNs: s.predictedMeanNs(variantIndex: d.variantIndex, frequencyKHz: kHz) * (0.7 + 0.8 * rng.nextUnit()))
            }
        }
    }

    @Test func hysteresisBoundsSwitchesOnASquareTrace() async throws {
        await propertyCheck(count: 40, input: Gen.uint64(in: 0...UInt64.max), Gen.int(in: 10...4000)) { seed, periodMs in
            let table = Fixtures.randomTable(seed: seed)
            let high = table.frequenciesKHz.max() ?? 1, low = table.frequenciesKHz.min() ?? 1
            let fast = table.variants.compactMap { $0.latency[String(high)]?.p99Ns }.max() ?? 1e6
            let objective = LatencyObjective(statistic: .percentile(99), targetNs: fast * 0.9)
            func switches(hysteresis: Bool) -> Int? {
                guard let s = try? VariantSelector(table: table, objective: objective, configuration: .init(hysteresis: hysteresis)) else { return nil }
                for ms in stride(from: 0, to: 10_000, by: 2) {
                    let kHz = (ms % periodMs) < periodMs / 2 ? high : low
                    _ = s.decide(frequencyKHz: kHz, atNs: Int64(ms) * 1_000_000)
                }
                return s.switches
            }
            guard let with = switches(hysteresis: true), let without = switches(hysteresis: false) else { return }
            let changes = 2 * (10_000 / periodMs) + 1
            let minimumDwellMs = 100
            #expect(with <= without, "seed \(seed), period \(periodMs) ms")
            #expect(with <= changes)
            #expect(with <= 1 + 2 * (10_000 / minimumDwellMs + 1))
        }
    }

    @Test func feedbackRecoversFromAnInjectedThirtyPercentSlowdown() async throws {
        let table = SyntheticPortfolio.table()
        await propertyCheck(count: 12, input: Gen.int(in: 0...6), Gen.double(in: 1.1...2.5), Gen.uint64(in: 1...1_000_000)) { level, headroom, seed in
            let kHz = SyntheticPortfolio.frequenciesKHz[level]
            // Some variant still fits after the slow-down: the target leaves `headroom` over the
            // fastest variant's slowed p99.
            let fastestP99 = table.variants.compactMap { $0.latency[String(kHz)]?.p99Ns }.min() ?? 1e6
            let objective = LatencyObjective(statistic: .percentile(99), targetNs: fastestP99 * 1.3 * headroom / 0.95)
            let options = SimulatedValidation.Options(seed: seed, durationMs: 6000, slowdowns: [Slowdown(startMs: 2000, factor: 1.3)])
            guard let sim = try? SimulatedValidation(table: table, trace: Fixtures.constant(kHz, durationMs: 6000), objective: objective, options: options) else { return }
            let rows = sim.run(.gearbox).rows
            let injected = rows.firstIndex { $0.timeMs >= 2000 } ?? rows.count
            let boundedObservations = 60
            let after = rows.dropFirst(injected + boundedObservations)
            let rate = Double(after.filter(\.violation).count) / Double(max(1, after.count))
            #expect(rate <= 0.02, "at \(kHz) kHz, target \(objective), seed \(seed): \(rate)")
        }
    }
}
