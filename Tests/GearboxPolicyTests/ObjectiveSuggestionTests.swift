import Foundation
import GearboxCore
import GearboxProfiler
import Testing
@testable import GearboxPolicy

@Suite struct ObjectiveSuggestionTests {
    @Test func suggestedTargetLetsTheFastestVariantFitAtTheBottomAndTheAccurateOneAtTheTop() throws {
        for seed in UInt64(1)...40 {
            let table = Fixtures.randomTable(seed: seed)
            let objective = try #require(LatencyObjective.suggestedP99(for: table))
            let bottom = String(table.frequenciesKHz.min()!)
            let accurate = table.variants.max { ($0.accuracy ?? 0) < ($1.accuracy ?? 0) }!
            let accurateTop = accurate.latency.max { Int($0.key)! < Int($1.key)! }!.value.p99Ns
            #expect(objective.targetNs >= accurateTop * 1.15)
            let fastest = table.variants.compactMap { $0.latency[bottom]?.p99Ns }.min()!
            #expect(objective.targetNs >= fastest * 1.10)
            #expect(objective.statistic == .percentile(99))
            // The 25% margin gives way only when the most accurate variant would otherwise fit everywhere.
            if objective.targetNs < fastest * 1.25 {
                #expect(objective.targetNs < accurate.latency[bottom]!.p99Ns)
            }
        }
    }

    @Test func closeLatenciesTightenTheTargetSoTheAccurateVariantMissesAtTheBottom() throws {
        var table = Fixtures.randomTable(seed: 7)
        let bottom = String(table.frequenciesKHz.min()!)
        let a = table.variants.indices.max { (table.variants[$0].accuracy ?? 0) < (table.variants[$1].accuracy ?? 0) }!
        let fastest = table.variants.indices.filter { $0 != a }.compactMap { table.variants[$0].latency[bottom]?.p99Ns }.min()!
        // The most accurate variant: only 20% slower than the fastest at the bottom, fast at the top.
        table.variants[a].latency[bottom]!.p99Ns = fastest * 1.2
        for key in table.variants[a].latency.keys where key != bottom {
            table.variants[a].latency[key]!.p99Ns = fastest * 0.1
        }
        let objective = try #require(LatencyObjective.suggestedP99(for: table))
        #expect(objective.targetNs < fastest * 1.2)
        #expect(objective.targetNs >= fastest * 1.10)
        let coverage = objective.coverage(in: table)
        #expect(coverage.last?.mostAccurateMeeting != table.variants[a].name)
    }

    @Test func targetsAreRoundedUpToTwoSignificantDigits() {
        #expect(LatencyObjective.roundedUp(3_412_000) == 3_500_000)
        #expect(LatencyObjective.roundedUp(980) == 980)
        #expect(LatencyObjective.roundedUp(0) == 0)
    }

    @Test func aTableWithoutCellsHasNoSuggestion() {
        var table = Fixtures.randomTable(seed: 3)
        table.frequenciesKHz = []
        #expect(LatencyObjective.suggestedP99(for: table) == nil)
    }

    @Test func coverageCountsTheVariantsMeetingTheTargetAtEachFrequency() throws {
        for seed in UInt64(1)...20 {
            let table = Fixtures.randomTable(seed: seed)
            let objective = try #require(LatencyObjective.suggestedP99(for: table))
            let coverage = objective.coverage(in: table)
            #expect(coverage.map(\.kHz) == table.frequenciesKHz.sorted(by: >))
            for entry in coverage {
                let cells = table.variants.compactMap { $0.latency[String(entry.kHz)] }
                #expect(entry.measured == cells.count)
                #expect(entry.meeting == cells.filter { $0.p99Ns <= objective.targetNs }.count)
            }
            // The suggestion's promise: the fastest variant fits at the bottom step.
            #expect((coverage.last?.meeting ?? 0) >= 1)
            #expect(coverage.last?.mostAccurateMeeting != nil)
        }
    }

    @Test func coverageLinesOfPredictedStepsSayPredicted() throws {
        var table = Fixtures.randomTable(seed: 5)
        let steps = table.frequenciesKHz.sorted()
        try #require(steps.count >= 3)
        let allPredicted = steps[1], onePredicted = steps[0]
        for v in table.variants.indices {
            table.variants[v].latency[String(allPredicted)]?.source = .predicted
        }
        table.variants[0].latency[String(onePredicted)]?.source = .predicted
        let objective = try #require(LatencyObjective.suggestedP99(for: table))
        let coverage = Dictionary(uniqueKeysWithValues: objective.coverage(in: table).map { ($0.kHz, $0) })
        let all = try #require(coverage[allPredicted])
        #expect(all.predicted == all.measured && all.measured > 0)
        #expect(all.line.hasSuffix("predicted (frequency model, not measured)"))
        let one = try #require(coverage[onePredicted])
        #expect(one.predicted == 1)
        #expect(one.line.contains("1 of \(one.measured) cells predicted"))
        for kHz in steps.dropFirst(2) {
            let measured = try #require(coverage[kHz])
            #expect(measured.predicted == 0)
            #expect(!measured.line.contains("predicted"))
        }
    }
}
