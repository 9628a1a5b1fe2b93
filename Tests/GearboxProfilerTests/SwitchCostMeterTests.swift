// Tests for SwitchCostMeter against a scripted backend on the virtual clock: every ordered pair
// gets a record; warm = activating `to` plus its first inference minus a steady one; cold = load
// from disk + activate + first inference; the mask switch is measured only between variants that
// share one loaded model; and a variant sharing `from`'s file is not read from disk again.

import GearboxCore
import GearboxPortfolio
import Testing
@testable import GearboxProfiler

/// A backend whose calls cost scripted virtual time: loading `loadNs`, activating `activateNs`,
/// an inference `runNs`, and the first inference after an activation `firstRunExtraNs` more.
final class ScriptedBackend: VariantBackend {
    struct Costs { var loadNs: UInt64; var activateNs: UInt64; var runNs: UInt64; var firstRunExtraNs: UInt64 }

    final class Runner: VariantRunner {
        let variant: PortfolioManifest.Variant
        let costs: Costs
        let clock: VirtualLatencyClock
        var justActivated = false
        init(variant: PortfolioManifest.Variant, costs: Costs, clock: VirtualLatencyClock) {
            self.variant = variant; self.costs = costs; self.clock = clock
        }
        var residentBytes: Int { 0 }
        var weightBytes: Int { 0 }
        var loadNs: Nanoseconds { Nanoseconds(costs.loadNs) }
        var sharedModelID: String { variant.file }
        func activate() throws { clock.pass(ns: costs.activateNs); justActivated = true }
        func runOnce() throws {
            clock.pass(ns: costs.runNs + (justActivated ? costs.firstRunExtraNs : 0))
            justActivated = false
        }
    }

    let name = "scripted"
    let clock: VirtualLatencyClock
    let costs: [String: Costs]
    /// Files this backend holds loaded (a second variant of one of them is not read again).
    private var loadedFiles: Set<String> = []
    private(set) var diskLoads = 0

    init(clock: VirtualLatencyClock, costs: [String: Costs]) { self.clock = clock; self.costs = costs }

    func load(_ variant: PortfolioManifest.Variant, from portfolio: Portfolio) throws -> VariantRunner {
        let costs = self.costs[variant.name] ?? Costs(loadNs: 0, activateNs: 0, runNs: 0, firstRunExtraNs: 0)
        if !loadedFiles.contains(variant.file) {
            clock.pass(ns: costs.loadNs)
            loadedFiles.insert(variant.file)
            diskLoads += 1
        }
        return Runner(variant: variant, costs: costs, clock: clock)
    }
    func releaseAll() { loadedFiles.removeAll() }
    func release(fileOf variant: PortfolioManifest.Variant, in portfolio: Portfolio) { loadedFiles.remove(variant.file) }
}

@Suite struct SwitchCostMeterTests {
    static let costs: [String: ScriptedBackend.Costs] = [
        "big": .init(loadNs: 9_000_000, activateNs: 0, runNs: 400_000, firstRunExtraNs: 100_000),
        "small": .init(loadNs: 3_000_000, activateNs: 0, runNs: 100_000, firstRunExtraNs: 50_000),
        "sparse": .init(loadNs: 5_000_000, activateNs: 0, runNs: 300_000, firstRunExtraNs: 0),
        "m50": .init(loadNs: 7_000_000, activateNs: 20_000, runNs: 200_000, firstRunExtraNs: 0),
        "m75": .init(loadNs: 7_000_000, activateNs: 30_000, runNs: 250_000, firstRunExtraNs: 0),
    ]

    static func measure() throws -> (records: [SwitchRecord], progress: [(Int, Int)]) {
        let clock = VirtualLatencyClock()
        let meter = SwitchCostMeter(
            portfolio: testPortfolio(), makeBackend: { ScriptedBackend(clock: clock, costs: costs) }, clock: clock,
            repetitions: 3, source: .simulated, dropPageCache: false)
        var progress: [(Int, Int)] = []
        let records = try meter.measure { progress.append(($0, $1)) }
        return (records, progress)
    }

    @Test func everyOrderedPairHasOneRecordAndProgressReachesTheTotal() throws {
        let (records, progress) = try Self.measure()
        #expect(records.count == 5 * 4)
        #expect(Set(records.map { "\($0.from)>\($0.to)" }).count == 20)
        #expect(records.allSatisfy { $0.from != $0.to && $0.source == .simulated })
        #expect(progress.last.map { $0 == (20, 20) } == true, "\(progress)")
    }

    @Test func warmIsActivationAndTheFirstInferenceBeyondASteadyOne() throws {
        let records = try Self.measure().records
        let toBig = try #require(records.first { $0.from == "small" && $0.to == "big" })
        #expect(toBig.warmNs == 100_000)
        let toSparse = try #require(records.first { $0.from == "big" && $0.to == "sparse" })
        #expect(toSparse.warmNs == 0)
    }

    @Test func coldIsLoadActivateAndFirstInferenceAndAMaskSwitchOnlyWithinOneModel() throws {
        let records = try Self.measure().records
        let toBig = try #require(records.first { $0.from == "small" && $0.to == "big" })
        #expect(toBig.coldNs == Nanoseconds(9_000_000 + 400_000 + 100_000))
        #expect(toBig.maskSwitchNs == nil)
        // m50 → m75 share one file: m75 is not read again, and its activation is the mask switch.
        let maskToMask = try #require(records.first { $0.from == "m50" && $0.to == "m75" })
        #expect(maskToMask.coldNs == Nanoseconds(30_000 + 250_000))
        #expect(maskToMask.maskSwitchNs == 30_000)
        #expect(maskToMask.warmNs == 30_000)
        let maskFromDense = try #require(records.first { $0.from == "big" && $0.to == "m75" })
        #expect(maskFromDense.coldNs == Nanoseconds(7_000_000 + 30_000 + 250_000))
        #expect(maskFromDense.maskSwitchNs == nil)
    }

    @Test func theMedianOfAnEvenCountAveragesTheMiddlePair() {
        #expect(SwitchCostMeter.median([]) == 0)
        #expect(SwitchCostMeter.median([5, 1, 3]) == 3)
        #expect(SwitchCostMeter.median([4, 1, 3, 2]) == 2.5)
    }
}
