// GearboxEngine/Formats/Pruning: pattern makers that prune dense weights to a target sparsity
// with the pattern each format exploits — magnitude (csr), aligned blocks by block norm (bsr),
// greedy selection of non-overlapping unaligned blocks (ubp, in the spirit of the BED method of
// Lee & Shin), and importance-ordered channel prefixes (masked). The output is dense weights
// with exact zeros, which the format converters then store losslessly.

/// How a block's importance is scored.
public enum BlockNorm: String, Sendable, Codable, CaseIterable {
    /// Σ|w|.
    case l1
    /// Σw² (the squared L2 norm; same ranking as the norm).
    case l2
}

/// Non-overlapping unaligned blocks chosen from a weight matrix, and the weights pruned to them.
public struct UnalignedBlockPattern: Sendable, Hashable {
    public let block: BlockShape
    /// The chosen blocks, sorted by row, then column.
    public let origins: [BlockOrigin]
    /// The input weights with every element outside the chosen blocks set to zero.
    public let pruned: DenseWeights

    /// Fraction of the matrix the blocks cover.
    public var density: Double {
        let total = pruned.rows * pruned.columns
        return total == 0 ? 1 : Double(origins.count * block.elementCount) / Double(total)
    }

    /// The pattern as a `ubp` matrix (exact: the blocks cover every kept weight).
    public func weightMatrix() throws -> UnalignedBlockWeightMatrix {
        try UnalignedBlockWeightMatrix(dense: pruned, block: block, origins: origins)
    }
}

/// Pattern makers for the pruned formats.
public enum Pruning {
    /// Zeroes the `sparsity` fraction of weights with the smallest magnitude (ties broken by
    /// position, so the result is deterministic).
    public static func magnitude(_ weights: DenseWeights, sparsity: Double) throws -> DenseWeights {
        let keepCount = try keptCount(of: weights.values.count, sparsity: sparsity)
        let order = weights.values.indices.sorted {
            let a = abs(weights.values[$0]), b = abs(weights.values[$1])
            return a != b ? a > b : $0 < $1
        }
        var keep = [Bool](repeating: false, count: weights.values.count)
        for index in order.prefix(keepCount) { keep[index] = true }
        return weights.keeping(keep)
    }

    /// Keeps the grid-aligned r×c blocks with the largest norm, as many as leave `sparsity` of
    /// the matrix zero (rounded to whole blocks), and zeroes the rest.
    public static func alignedBlocks(
        _ weights: DenseWeights, block: BlockShape, sparsity: Double, norm: BlockNorm = .l2
    ) throws -> DenseWeights {
        let blockRows = (weights.rows + block.rows - 1) / block.rows
        let blockColumns = (weights.columns + block.columns - 1) / block.columns
        let keepBlocks = try keptBlocks(weights, block: block, sparsity: sparsity, available: blockRows * blockColumns)
        var scores = [Float]()
        scores.reserveCapacity(blockRows * blockColumns)
        for blockRow in 0..<blockRows {
            for blockColumn in 0..<blockColumns {
                scores.append(score(weights, row: blockRow * block.rows, column: blockColumn * block.columns,
                                    height: min(block.rows, weights.rows - blockRow * block.rows),
                                    width: min(block.columns, weights.columns - blockColumn * block.columns),
                                    norm: norm))
            }
        }
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        var keep = [Bool](repeating: false, count: weights.values.count)
        for index in order.prefix(keepBlocks) {
            let firstRow = index / blockColumns * block.rows, firstColumn = index % blockColumns * block.columns
            for row in firstRow..<min(firstRow + block.rows, weights.rows) {
                for column in firstColumn..<min(firstColumn + block.columns, weights.columns) {
                    keep[row * weights.columns + column] = true
                }
            }
        }
        return weights.keeping(keep)
    }

    /// Chooses non-overlapping r×c blocks at any offset that keep the most weight magnitude:
    /// every placement is scored (2-D prefix sums), then placements are taken best first,
    /// skipping any that overlaps one already taken, until the block count for `sparsity` is
    /// reached (or no free placement is left). A greedy stand-in for BED's expansion and
    /// division: same objective and constraint, not the paper's exact procedure.
    public static func unalignedBlocks(
        _ weights: DenseWeights, block: BlockShape, sparsity: Double, norm: BlockNorm = .l2
    ) throws -> UnalignedBlockPattern {
        let placementRows = weights.rows - block.rows + 1, placementColumns = weights.columns - block.columns + 1
        guard placementRows > 0, placementColumns > 0 else {
            _ = try keptCount(of: 0, sparsity: sparsity)
            return UnalignedBlockPattern(block: block, origins: [], pruned: try .zeros(rows: weights.rows, columns: weights.columns))
        }
        let target = try keptBlocks(weights, block: block, sparsity: sparsity, available: Int.max)
        let sums = PrefixSums(weights, norm: norm)
        var scores = [Float]()
        scores.reserveCapacity(placementRows * placementColumns)
        for row in 0..<placementRows {
            for column in 0..<placementColumns {
                scores.append(sums.sum(row: row, column: column, height: block.rows, width: block.columns))
            }
        }
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        var occupied = BitGrid(rows: weights.rows, columns: weights.columns)
        var origins = [BlockOrigin]()
        for index in order {
            guard origins.count < target else { break }
            let origin = BlockOrigin(row: index / placementColumns, column: index % placementColumns)
            if occupied.isFree(origin, block) {
                occupied.set(origin, block)
                origins.append(origin)
            }
        }
        origins.sort()
        var keep = [Bool](repeating: false, count: weights.values.count)
        for origin in origins {
            for row in origin.row..<(origin.row + block.rows) {
                for column in origin.column..<(origin.column + block.columns) { keep[row * weights.columns + column] = true }
            }
        }
        return UnalignedBlockPattern(block: block, origins: origins, pruned: weights.keeping(keep))
    }

    /// Output channels (rows) ordered by importance (L1 norm, largest first; ties by index).
    /// Reorder the layer with `DenseWeights.permutingRows` and the next layer's input channels
    /// with `permutingInputChannels` so that channel-prefix masks keep the important channels.
    public static func outputChannelOrder(_ weights: DenseWeights) -> [Int] {
        let norms = (0..<weights.rows).map { row in
            (0..<weights.columns).reduce(Float(0)) { $0 + abs(weights.values[row * weights.columns + $1]) }
        }
        return norms.indices.sorted { norms[$0] != norms[$1] ? norms[$0] > norms[$1] : $0 < $1 }
    }

    /// One channel-prefix mask per fraction (e.g. [0.25, 0.5, 0.75, 1]) for a layer with the
    /// given channel counts; each keeps round(fraction × channels) channels, at least one.
    public static func channelPrefixMasks(
        outputChannels: Int, inputChannels: Int, kernelArea: Int = 1, fractions: [Double],
        maskInputs: Bool = true
    ) throws -> [ChannelPrefixMask] {
        try fractions.map { fraction in
            guard (0...1).contains(fraction), fraction > 0 else {
                throw WeightFormatError.invalidFraction(setting: "channel fraction", value: fraction)
            }
            let outputs = max(1, Int((fraction * Double(outputChannels)).rounded()))
            let inputs = maskInputs ? max(1, Int((fraction * Double(inputChannels)).rounded())) : inputChannels
            return ChannelPrefixMask(outputChannels: min(outputs, outputChannels), inputChannels: min(inputs, inputChannels),
                                     kernelArea: kernelArea)
        }
    }

    // MARK: - Helpers

    private static func keptCount(of total: Int, sparsity: Double) throws -> Int {
        guard sparsity >= 0, sparsity <= 1 else { throw WeightFormatError.invalidFraction(setting: "sparsity", value: sparsity) }
        return Int(((1 - sparsity) * Double(total)).rounded())
    }

    private static func keptBlocks(_ weights: DenseWeights, block: BlockShape, sparsity: Double, available: Int) throws -> Int {
        let keptElements = try keptCount(of: weights.values.count, sparsity: sparsity)
        return min(available, Int((Double(keptElements) / Double(block.elementCount)).rounded()))
    }

    private static func score(_ weights: DenseWeights, row: Int, column: Int, height: Int, width: Int, norm: BlockNorm) -> Float {
        var total: Float = 0
        for i in row..<(row + height) {
            for j in column..<(column + width) {
                let value = weights.values[i * weights.columns + j]
                total += norm == .l1 ? abs(value) : value * value
            }
        }
        return total
    }
}

/// 2-D prefix sums of |w| or w², so any rectangle's score costs four lookups.
private struct PrefixSums {
    let columns: Int
    var sums: [Double]

    init(_ weights: DenseWeights, norm: BlockNorm) {
        columns = weights.columns + 1
        sums = [Double](repeating: 0, count: (weights.rows + 1) * columns)
        for row in 0..<weights.rows {
            var rowSum = 0.0
            for column in 0..<weights.columns {
                let value = Double(weights.values[row * weights.columns + column])
                rowSum += norm == .l1 ? abs(value) : value * value
                sums[(row + 1) * columns + column + 1] = sums[row * columns + column + 1] + rowSum
            }
        }
    }

    func sum(row: Int, column: Int, height: Int, width: Int) -> Float {
        let bottom = row + height, right = column + width
        return Float(sums[bottom * columns + right] - sums[row * columns + right]
            - sums[bottom * columns + column] + sums[row * columns + column])
    }
}

extension DenseWeights {
    /// Rows reordered: row i of the result is row `order[i]` of self.
    public func permutingRows(_ order: [Int]) throws -> DenseWeights {
        try Self.checkPermutation(order, count: rows, of: "rows")
        var values = [Float]()
        values.reserveCapacity(self.values.count)
        for row in order { values.append(contentsOf: self.values[(row * columns)..<((row + 1) * columns)]) }
        return DenseWeights(uncheckedRows: rows, columns: columns, values: values)
    }

    /// Input channels reordered (columns in channel-major groups of `kernelArea`): channel i of
    /// the result is channel `order[i]` of self. Pairs with the previous layer's `permutingRows`.
    public func permutingInputChannels(_ order: [Int], kernelArea: Int = 1) throws -> DenseWeights {
        guard kernelArea > 0, order.count * kernelArea == columns else {
            throw WeightFormatError.invalidMask(
                reason: "\(order.count) input channels × kernel area \(kernelArea) ≠ \(columns) columns")
        }
        try Self.checkPermutation(order, count: order.count, of: "input channels")
        var values = [Float]()
        values.reserveCapacity(self.values.count)
        for row in 0..<rows {
            for channel in order {
                let start = row * columns + channel * kernelArea
                values.append(contentsOf: self.values[start..<(start + kernelArea)])
            }
        }
        return DenseWeights(uncheckedRows: rows, columns: columns, values: values)
    }

    private static func checkPermutation(_ order: [Int], count: Int, of what: String) throws {
        var seen = [Bool](repeating: false, count: count)
        for index in order where (0..<count).contains(index) { seen[index] = true }
        guard order.count == count, seen.allSatisfy({ $0 }) else {
            throw WeightFormatError.invalidMask(reason: "channel order for \(what) must be a permutation of 0..<\(count)")
        }
    }
}
