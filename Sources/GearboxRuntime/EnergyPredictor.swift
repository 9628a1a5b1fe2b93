// GearboxRuntime/EnergyPredictor: a variant's energy per inference at any frequency, from the
// lookup table's per-cell `energyPerInferenceJ`: the measured cell where there is one, linear in
// frequency between two measured cells, and the nearest cell's figure outside the measured range.

import GearboxCore

/// Energy per inference from the table's cells; nil for a variant without energy cells.
public struct EnergyPredictor: Sendable {
    struct Cells: Sendable {
        var kHz: [Int]
        var joules: [Double]
        var sources: [MeasurementSource]
    }

    let cells: [Cells]

    /// Reads every variant's cells that carry a positive, finite `energyPerInferenceJ`.
    public init(table: LookupTable) {
        cells = table.variants.map { variant in
            let sorted = variant.latency.compactMap { key, cell -> (Int, Double, MeasurementSource)? in
                guard let kHz = Int(key), kHz > 0, let joules = cell.energyPerInferenceJ, joules.isFinite, joules > 0 else { return nil }
                return (kHz, joules, cell.source)
            }.sorted { $0.0 < $1.0 }
            return Cells(kHz: sorted.map(\.0), joules: sorted.map(\.1), sources: sorted.map(\.2))
        }
    }

    /// Whether any variant has an energy figure.
    public var hasEnergy: Bool { cells.contains { !$0.kHz.isEmpty } }

    /// Whether variant `index` (in table order) has an energy figure.
    public func hasEnergy(variant index: Int) -> Bool { !cells[index].kHz.isEmpty }

    /// How the table's energy figures were obtained (`real`, `emulated`, …), most frequent first;
    /// empty without energy figures.
    public var sources: [MeasurementSource] {
        var counts: [MeasurementSource: Int] = [:]
        for c in cells { for s in c.sources { counts[s, default: 0] += 1 } }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }.map(\.key)
    }

    /// Energy per inference of variant `index` at `kHz`, in J, or nil without energy cells.
    public func joules(variant index: Int, kHz: Int) -> Double? {
        let c = cells[index]
        guard let first = c.kHz.first, let last = c.kHz.last else { return nil }
        if kHz <= first { return c.joules[0] }
        if kHz >= last { return c.joules[c.joules.count - 1] }
        var hi = 1
        while c.kHz[hi] < kHz { hi += 1 }
        let f0 = Double(c.kHz[hi - 1]), f1 = Double(c.kHz[hi])
        let fraction = (Double(kHz) - f0) / (f1 - f0)
        return c.joules[hi - 1] + fraction * (c.joules[hi] - c.joules[hi - 1])
    }
}
