// Test fixtures for GearboxPolicy: random lookup tables for property tests, constant traces,
// and extraction of the shared sysfs dumps.

import Foundation
import GearboxCore
import GearboxProfiler
import GearboxTestSupport
@testable import GearboxPolicy

enum Fixtures {
    /// A random but well-formed table: 2–7 variants on a random grid, each t(f) = a + b/f with
    /// a random cell shape; some cells missing (the model covers them). Deterministic per seed.
    static func randomTable(seed: UInt64, accuracies: Bool = true) -> LookupTable {
        var rng = SplitMix64(seed: seed)
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * rng.nextUnit() }
        let gridCount = 3 + Int(rng.next() % 6)
        let lowKHz = 300_000 + Int(rng.next() % 5) * 100_000
        let stepKHz = 100_000 + Int(rng.next() % 4) * 50_000
        let grid = (0..<gridCount).map { lowKHz + $0 * stepKHz }
        let variantCount = 2 + Int(rng.next() % 6)
        var variants: [LookupTable.Variant] = []
        for v in 0..<variantCount {
            let a = uniform(50_000, 500_000), b = uniform(5e11, 2e13)
            let spread = uniform(1.05, 1.6)
            var cells: [String: LookupTable.LatencyCell] = [:]
            for (j, kHz) in grid.enumerated() where j == 0 || rng.next() % 5 != 0 {
                let mean = Nanoseconds(a + b / Double(kHz))
                cells[String(kHz)] = .init(
                    p50Ns: 0.97 * mean, p90Ns: mean * (1 + (spread - 1) * 0.4), p99Ns: mean * spread,
                    meanNs: mean, stddevNs: 0.05 * mean, ciHalfWidthNs: 0.01 * mean, samples: 500, source: .simulated)
            }
            variants.append(.init(
                name: "v\(v)", format: "dense", accuracy: accuracies ? uniform(0.5, 0.95) : nil, params: 1000 * (v + 1),
                macs: Int(b / 1e6), memoryBytes: 4000 * (v + 1), latency: cells, counters: [:],
                model: rng.next() % 3 == 0 ? nil : .init(aNs: Nanoseconds(a), bNsKHz: b, r2: 0.99, looMape: 0.02)))
        }
        var switches: [String: [String: LookupTable.SwitchCost]] = [:]
        for from in variants { for to in variants where to.name != from.name {
            switches[from.name, default: [:]][to.name] = .init(cold: nil, warm: Nanoseconds(uniform(10_000, 3_000_000)))
        } }
        return LookupTable(
            device: "random-\(seed)", portfolio: "random", controller: .simulated,
            provenance: Provenance(deviceID: "random", controller: .simulated), frequenciesKHz: grid,
            variants: variants, switchCostNs: switches)
    }

    /// A trace that holds `kHz` for `durationMs`.
    static func constant(_ kHz: Int, durationMs: Double) -> FrequencyTrace {
        FrequencyTrace(name: "constant", points: [(0, kHz)], durationMs: durationMs)
    }

    /// Extracts the shared sysfs dump `name` into a fresh scratch directory and returns the
    /// dump's root (tests that call this carry `.requiresSysfsDumps`). The extraction is removed
    /// with `scratch`: keep the result alive while using `root`.
    static func sysfsDump(_ name: String) throws -> (root: String, scratch: ScratchDirectory) {
        let scratch = ScratchDirectory("policy-sysfs")
        return (try SharedFixtures.extractSysfsDump(named: name, into: scratch.path), scratch)
    }
}
