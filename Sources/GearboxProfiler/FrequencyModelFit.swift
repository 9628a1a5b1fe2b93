// GearboxProfiler/FrequencyModelFit: fits t(f) = a + b / f to a variant's median latencies
// (a: the part that does not scale with the clock, e.g. memory stalls; b: cycles' worth of work),
// by ordinary least squares on x = 1/f, with R² and the leave-one-frequency-out MAPE.

import GearboxCore
import GearboxRuntime

extension LookupTable.FrequencyModel {
    /// Fits the model to (kHz, latency ns) points. Needs at least 3 distinct frequencies (two to
    /// fit, one more so that every leave-one-out fit is still determined); nil otherwise.
    public static func fit(points spans: [(kHz: Int, ns: Nanoseconds)]) -> LookupTable.FrequencyModel? {
        let points = spans.map { (kHz: $0.kHz, ns: $0.ns.value) }
        let distinct = Set(points.map(\.kHz))
        guard distinct.count >= 3, points.allSatisfy({ $0.kHz > 0 && $0.ns.isFinite }) else { return nil }
        guard let (a, b) = leastSquares(points) else { return nil }
        let mean = points.map(\.ns).reduce(0, +) / Double(points.count)
        var residual = 0.0, total = 0.0
        for p in points {
            let predicted = a + b / Double(p.kHz)
            residual += (p.ns - predicted) * (p.ns - predicted)
            total += (p.ns - mean) * (p.ns - mean)
        }
        let r2 = total > 0 ? 1 - residual / total : 1
        // Leave one frequency out: all points at that frequency go, the rest are refitted.
        var errors: [Double] = []
        for kHz in distinct.sorted() {
            let rest = points.filter { $0.kHz != kHz }
            guard let (ra, rb) = leastSquares(rest) else { return nil }
            for p in points where p.kHz == kHz && p.ns > 0 {
                errors.append(abs(ra + rb / Double(kHz) - p.ns) / p.ns)
            }
        }
        let mape = errors.isEmpty ? 0 : errors.reduce(0, +) / Double(errors.count)
        return LookupTable.FrequencyModel(aNs: Nanoseconds(a), bNsKHz: b, r2: r2, looMape: mape)
    }

    /// OLS of ns on 1/kHz; nil when all x are equal.
    static func leastSquares(_ points: [(kHz: Int, ns: Double)]) -> (a: Double, b: Double)? {
        guard points.count >= 2 else { return nil }
        let n = Double(points.count)
        let xs = points.map { 1 / Double($0.kHz) }
        let mx = xs.reduce(0, +) / n
        let my = points.map(\.ns).reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0
        for (x, p) in zip(xs, points) {
            sxx += (x - mx) * (x - mx)
            sxy += (x - mx) * (p.ns - my)
        }
        guard sxx > 0 else { return nil }
        let b = sxy / sxx
        return (my - b * mx, b)
    }
}
