// GearboxReport/Inputs/ParetoFront: which variants are worth keeping at a frequency: those no
// other variant beats on both latency (lower) and accuracy (higher).

/// The non-dominated subset of (latency, quality) points.
public enum ParetoFront {
    /// Indices of the points on the front, minimising `x` and maximising `y`, ordered by `x`.
    ///
    /// A point is dominated when another is at least as good on both axes and strictly better on
    /// one; identical points do not dominate each other, so both stay. Non-finite points are never
    /// on the front. Quadratic, which is fine for portfolios of tens of variants.
    public static func indices(of points: [Point]) -> [Int] {
        let candidates = points.indices.filter { points[$0].x.isFinite && points[$0].y.isFinite }
        let front = candidates.filter { index in
            let p = points[index]
            return !candidates.contains { other in
                let q = points[other]
                return q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y)
            }
        }
        return front.sorted { points[$0].x != points[$1].x ? points[$0].x < points[$1].x : $0 < $1 }
    }
}
