// GearboxPolicy/SyntheticPortfolio: a hand-made lookup table shaped like a pruned portfolio on a
// 600–1800 MHz board, for tests, demos and `gearbox bench policy` before real sweeps exist. Every
// cell is labelled `simulated` and the provenance says it was not measured.

import Foundation
import GearboxCore
import GearboxProfiler
import GearboxRuntime

/// A synthetic lookup table: six structured-pruning variants of one network.
///
/// Latency follows t(f) = a + b/f with b proportional to 0.08 + 0.92·(MAC fraction); each cell's
/// shape is p50 = 0.965·mean, p90 = 1.09·mean, p99 = 1.24·mean, p99.9 = 1.42·mean, max = 1.6·mean,
/// stddev = 0.075·mean, with a deterministic ±2% ripple so cells are not perfectly smooth.
/// `dense` has no cell at 600 MHz (its model covers it). Accuracies are typical of pruning a small
/// CNN (0.918 dense down to 0.851); warm switch costs grow with the target variant's size.
public enum SyntheticPortfolio {
    /// The frequencies of the synthetic board, in kHz.
    public static let frequenciesKHz = [600_000, 800_000, 1_000_000, 1_200_000, 1_400_000, 1_600_000, 1_800_000]

    /// (name, accuracy, MAC fraction of dense)
    static let shape: [(String, Double, Double)] = [
        ("dense", 0.918, 1.00), ("structured-25", 0.915, 0.75), ("structured-45", 0.909, 0.55),
        ("structured-60", 0.900, 0.40), ("structured-75", 0.884, 0.25), ("structured-88", 0.851, 0.12),
    ]

    /// The table; `accuracies: false` leaves every accuracy null (the "largest MACs" fallback).
    public static func table(accuracies: Bool = true) -> LookupTable {
        let denseMACs = 24_000_000, denseParams = 1_200_000
        var variants: [LookupTable.Variant] = []
        for (i, (name, accuracy, fraction)) in shape.enumerated() {
            let aNs = 150_000 + 50_000 * fraction
            let bNsKHz = 9e12 * (0.08 + 0.92 * fraction)
            var cells: [String: LookupTable.LatencyCell] = [:]
            for (j, kHz) in frequenciesKHz.enumerated() where !(name == "dense" && kHz == 600_000) {
                let ripple = 1 + 0.02 * sin(Double(i * 7 + j * 3))
                let mean = Nanoseconds((aNs + bNsKHz / Double(kHz)) * ripple)
                cells[String(kHz)] = LookupTable.LatencyCell(
                    p50Ns: 0.965 * mean, p90Ns: 1.09 * mean, p99Ns: 1.24 * mean, p999Ns: 1.42 * mean, maxNs: 1.6 * mean,
                    meanNs: mean, stddevNs: 0.075 * mean, ciHalfWidthNs: 0.004 * mean, samples: 2000, source: .simulated,
                    stopRule: "ci")
            }
            let params = Int(Double(denseParams) * fraction)
            variants.append(LookupTable.Variant(
                name: name, format: "dense", accuracy: accuracies ? accuracy : nil, params: params,
                macs: Int(Double(denseMACs) * fraction), memoryBytes: params * 4 + 65_536, latency: cells, counters: [:],
                model: .init(aNs: Nanoseconds(aNs), bNsKHz: bNsKHz, r2: 0.999, looMape: 0.012)))
        }
        var switches: [String: [String: LookupTable.SwitchCost]] = [:]
        for (from, _, _) in shape {
            for (to, _, fraction) in shape where to != from {
                let warm = Nanoseconds(300_000 + 1_200_000 * fraction)
                switches[from, default: [:]][to] = .init(cold: 4 * warm, warm: warm, coldCache: "warm-cache")
            }
        }
        return LookupTable(
            device: "synthetic-board", portfolio: "synthetic", controller: .simulated,
            provenance: Provenance(
                deviceID: "synthetic-board", controller: .simulated,
                notes: ["hand-made fixture shaped like a pruned portfolio (GearboxPolicy.SyntheticPortfolio); not measured"],
                date: Date(timeIntervalSince1970: 1_767_225_600)),
            frequenciesKHz: frequenciesKHz, threads: 1, pin: "none", variants: variants, switchCostNs: switches)
    }
}
