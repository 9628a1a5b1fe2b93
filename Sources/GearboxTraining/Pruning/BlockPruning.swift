// GearboxTraining/BlockPruning: masks with the three patterns the UBP comparison needs, all
// chosen globally across layers at one weight budget: unstructured (single weights by |w|),
// aligned blocks (r×c tiles of the block grid by Σw²), and unaligned blocks (r×c rectangles at
// any offset, non-overlapping). Weight matrices are the lowered ones the kernels see: Conv as
// outC × (inC·k·k), Linear as out × in.
//
// Unaligned selection is a greedy stand-in for the BED algorithm of Lee and Shin: every
// placement in every layer is scored with 2-D prefix sums, then taken best first unless it
// overlaps a block already taken, until the budget is met. Re-run at every pruning step of the
// fine-tuning schedule, as BED is integrated into iterative training.

/// The sparsity pattern of a pruning mask.
public enum BlockPattern: String, CaseIterable, Codable, Sendable {
    /// Any single weight (the engine's `csr` format).
    case unstructured
    /// r×c tiles of the block grid (`bsr`).
    case aligned
    /// r×c rectangles at any offset, non-overlapping (`ubp`).
    case unaligned
}

public enum BlockPruning {
    /// Replaces every Conv/Linear weight mask with one of `pattern` keeping about `density` of
    /// all their weights (the budget is shared across layers), then zeroes pruned weights.
    /// Returns the fraction actually kept.
    @discardableResult
    public static func prune(_ network: Network, pattern: BlockPattern, density: Double, rows r: Int, columns c: Int) -> Double {
        let layers = network.prunableWeights
        let total = layers.reduce(0) { $0 + $1.count }
        let budget = Int((density * Double(total)).rounded())
        var masks = layers.map { [Float](repeating: 0, count: $0.count) }
        var kept = 0
        switch pattern {
        case .unstructured:
            var all: [(Float, Int, Int)] = []
            for (l, p) in layers.enumerated() { for i in 0..<p.count { all.append((abs(p.value[i]), l, i)) } }
            all.sort { a, b in a.0 != b.0 ? a.0 > b.0 : (a.1, a.2) < (b.1, b.2) }
            for (_, l, i) in all.prefix(budget) { masks[l][i] = 1 }
            kept = min(budget, all.count)
        case .aligned, .unaligned:
            var placements: [(score: Double, layer: Int, row: Int, column: Int)] = []
            var sums: [PrefixSums] = []
            for (l, p) in layers.enumerated() {
                let (m, k) = (p.shape[0], p.count / p.shape[0])
                let s = PrefixSums(p.value, rows: m, columns: k)
                sums.append(s)
                if pattern == .aligned {
                    for i in stride(from: 0, to: m, by: r) {
                        for j in stride(from: 0, to: k, by: c) {
                            placements.append((s.sum(i, j, min(r, m - i), min(c, k - j)), l, i, j))
                        }
                    }
                } else if m >= r && k >= c {
                    for i in 0...(m - r) { for j in 0...(k - c) { placements.append((s.sum(i, j, r, c), l, i, j)) } }
                }
            }
            placements.sort { a, b in
                a.score != b.score ? a.score > b.score : (a.layer, a.row, a.column) < (b.layer, b.row, b.column)
            }
            for place in placements where kept < budget {
                let p = layers[place.layer]
                let (m, k) = (p.shape[0], p.count / p.shape[0])
                let h = min(r, m - place.row), w = min(c, k - place.column)
                if pattern == .unaligned {
                    var free = true
                    check: for i in place.row..<(place.row + h) {
                        for j in place.column..<(place.column + w) where masks[place.layer][i * k + j] != 0 {
                            free = false
                            break check
                        }
                    }
                    if !free { continue }
                }
                for i in place.row..<(place.row + h) { for j in place.column..<(place.column + w) { masks[place.layer][i * k + j] = 1 } }
                kept += h * w
            }
        }
        for (l, p) in layers.enumerated() {
            p.mask = masks[l]
            p.applyMask()
        }
        MagnitudePruning.propagateDeadChannels(network)
        return Double(kept) / Double(max(1, total))
    }
}

extension BlockPruning {
    /// Gives every kept weight that is exactly zero the smallest normal float instead. The
    /// engine rebuilds `ubp` blocks from a file's nonzeros (each block from its top-left
    /// nonzero), which is exact only when no kept weight is zero; a weight of 1e-38 changes no
    /// output a float can show.
    public static func fillKeptZeros(_ network: Network) {
        for p in network.prunableWeights {
            guard let mask = p.mask else { continue }
            for i in 0..<p.count where mask[i] != 0 && p.value[i] == 0 { p.value[i] = .leastNormalMagnitude }
        }
    }
}

/// Σw² over any rectangle of a row-major matrix in O(1).
struct PrefixSums {
    let columns: Int
    var table: [Double]

    init(_ values: [Float], rows: Int, columns k: Int) {
        columns = k + 1
        table = [Double](repeating: 0, count: (rows + 1) * (k + 1))
        for i in 0..<rows {
            var rowSum = 0.0
            for j in 0..<k {
                let v = Double(values[i * k + j])
                rowSum += v * v
                table[(i + 1) * columns + j + 1] = table[i * columns + j + 1] + rowSum
            }
        }
    }

    func sum(_ row: Int, _ column: Int, _ height: Int, _ width: Int) -> Double {
        let b = row + height, r = column + width
        return table[b * columns + r] - table[row * columns + r] - table[b * columns + column] + table[row * columns + column]
    }
}
