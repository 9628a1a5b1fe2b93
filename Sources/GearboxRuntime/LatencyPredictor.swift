// GearboxRuntime/LatencyPredictor: a variant's latency distribution at any frequency, from the
// lookup table: the measured cell where there is one, the table's frequency model t(f) = a + b/f
// anchored on the nearest slower measured cell where not, and a conservative extrapolation below
// the table's lowest frequency.

import GearboxCore

/// Predicts latency distributions of a lookup table's variants at arbitrary frequencies.
public struct LatencyPredictor: Sendable {
    /// How a prediction was obtained.
    public enum Basis: String, Sendable {
        /// The table has a cell at exactly this frequency.
        case measured
        /// The nearest slower cell scaled by the table's frequency model t(f) = a + b/f.
        case model
        /// The nearest slower cell scaled by a + b/f through the two neighbouring cells (no model in the table).
        case interpolated
        /// Below the table's lowest frequency: the lowest cell scaled by the larger of the model's
        /// ratio and f_min/f (pure 1/f, the worst case for a + b/f with a ≥ 0).
        case extrapolatedBelow = "extrapolated-below"
        /// Above the table's highest frequency without a model: the highest cell, unscaled.
        case clampedAbove = "clamped-above"
    }

    /// A distribution and how it was obtained.
    public struct Prediction: Sendable {
        public var distribution: LatencyDistribution
        public var basis: Basis
        /// The measured cell's source, or `predicted` when the cell was scaled.
        public var source: MeasurementSource
    }

    struct Cells: Sendable {
        var kHz: [Int]
        var distributions: [LatencyDistribution]
        var sources: [MeasurementSource]
        var model: LookupTable.FrequencyModel?
    }

    let cells: [Cells]

    /// Reads every variant's cells (keys that are not integers are ignored).
    public init(table: LookupTable) {
        cells = table.variants.map { variant in
            let sorted = variant.latency.compactMap { key, cell in Int(key).map { ($0, cell) } }
                .filter { $0.0 > 0 }.sorted { $0.0 < $1.0 }
            return Cells(
                kHz: sorted.map(\.0), distributions: sorted.map { LatencyDistribution(cell: $0.1) },
                sources: sorted.map { $0.1.source }, model: variant.model)
        }
    }

    /// Whether the variant at `index` has at least one latency cell.
    public func hasCells(variant index: Int) -> Bool { !cells[index].kHz.isEmpty }

    /// The distribution of variant `index` at `kHz`, or nil when the variant has no cells or kHz ≤ 0.
    public func predict(variant index: Int, kHz: Int) -> Prediction? {
        let c = cells[index]
        guard let first = c.kHz.first, let last = c.kHz.last, kHz > 0 else { return nil }
        // Ratio t(f)/t(anchor) from the model, when the model gives finite positive latencies.
        func modelRatio(_ anchor: Int) -> Double? {
            guard let m = c.model else { return nil }
            let at = m.predictNs(kHz: kHz), base = m.predictNs(kHz: anchor)
            guard at.isFinite, base.isFinite, at > .zero, base > .zero else { return nil }
            return at / base
        }
        if kHz < first {
            let pure = Double(first) / Double(kHz)
            let factor = max(pure, modelRatio(first) ?? 0)
            return Prediction(distribution: c.distributions[0].scaled(by: factor), basis: .extrapolatedBelow, source: .predicted)
        }
        if kHz > last {
            let n = c.kHz.count - 1
            if let ratio = modelRatio(last) {
                return Prediction(distribution: c.distributions[n].scaled(by: ratio), basis: .model, source: .predicted)
            }
            return Prediction(distribution: c.distributions[n], basis: .clampedAbove, source: .predicted)
        }
        // Largest measured frequency ≤ kHz (binary search; the grid is small but decisions are not).
        var lo = 0, hi = c.kHz.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if c.kHz[mid] <= kHz { lo = mid } else { hi = mid - 1 }
        }
        if c.kHz[lo] == kHz {
            return Prediction(distribution: c.distributions[lo], basis: .measured, source: c.sources[lo])
        }
        if let ratio = modelRatio(c.kHz[lo]) {
            return Prediction(distribution: c.distributions[lo].scaled(by: ratio), basis: .model, source: .predicted)
        }
        // a + b/f through the two neighbours' means.
        let f0 = Double(c.kHz[lo]), f1 = Double(c.kHz[lo + 1])
        let m0 = c.distributions[lo].meanNs.value, m1 = c.distributions[lo + 1].meanNs.value
        let mean = m0 + (m1 - m0) * (1 / Double(kHz) - 1 / f0) / (1 / f1 - 1 / f0)
        let ratio = m0 > 0 ? max(0, mean / m0) : 1
        return Prediction(distribution: c.distributions[lo].scaled(by: ratio), basis: .interpolated, source: .predicted)
    }
}
