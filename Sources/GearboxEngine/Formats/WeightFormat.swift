// GearboxEngine/Formats/WeightFormat: the names of the weight formats (as in portfolio.json),
// the function that turns a layer's dense weights — possibly holding exact zeros left by
// pruning — into a kernel format keeping every nonzero, and the `WeightFormatFactory`s through
// which the model loader (EngineOptions.weightFormats) does the same for every Conv/Gemm layer.

/// The weight formats a variant's Conv/Gemm layers can use.
public enum WeightFormat: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// Dense sgemm (also structurally pruned models, which are simply smaller).
    case dense
    /// Compressed sparse rows: unstructured sparsity.
    case csr
    /// Block sparse rows: r×c blocks aligned to the block grid.
    case bsr
    /// Unaligned blocks: r×c blocks at any offset, non-overlapping.
    case ubp
    /// One shared dense weight set viewed through channel-prefix masks.
    case masked

    /// Whether the format is built from blocks and needs a `BlockShape`.
    public var needsBlockShape: Bool { self == .bsr || self == .ubp }

    public var description: String { rawValue }
}

/// Builds a weight matrix of `format` from dense row-major weights, keeping their exact zeros
/// as the pruning pattern: csr stores the nonzeros, bsr the grid blocks holding a nonzero, ubp
/// a greedy cover of the nonzeros by non-overlapping blocks, masked the smallest channel
/// prefix holding every nonzero (a one-level mask), dense everything.
///
/// - Throws: `WeightFormatError` for a bad shape, a missing block shape (bsr, ubp), or a ubp
///   pattern that non-overlapping blocks cannot cover.
public func makeWeightMatrix(
    dense: UnsafeBufferPointer<Float>, rows: Int, columns: Int, format: WeightFormat, block: BlockShape?
) throws -> any WeightMatrix {
    let weights = try DenseWeights(rows: rows, columns: columns, copying: dense)
    return try makeWeightMatrix(weights, format: format, block: block)
}

/// `makeWeightMatrix(dense:rows:columns:format:block:)` for weights already in a `DenseWeights`.
public func makeWeightMatrix(_ weights: DenseWeights, format: WeightFormat, block: BlockShape?) throws -> any WeightMatrix {
    switch format {
    case .dense:
        return DenseWeightMatrix(rows: weights.rows, columns: weights.columns, values: weights.values)
    case .csr:
        return CSRWeightMatrix(dense: weights)
    case .bsr:
        guard let block else { throw WeightFormatError.blockShapeRequired(format: format.rawValue) }
        return BlockSparseWeightMatrix(dense: weights, block: block)
    case .ubp:
        guard let block else { throw WeightFormatError.blockShapeRequired(format: format.rawValue) }
        return try UnalignedBlockWeightMatrix(dense: weights, block: block)
    case .masked:
        var lastRow = -1, lastColumn = -1
        for row in 0..<weights.rows {
            for column in 0..<weights.columns where weights.values[row * weights.columns + column] != 0 {
                lastRow = max(lastRow, row)
                lastColumn = max(lastColumn, column)
            }
        }
        return try MaskedWeightMatrix(
            storage: SharedWeightStorage(weights),
            mask: ChannelPrefixMask(activeRows: lastRow + 1, activeColumns: lastColumn + 1))
    }
}

extension BlockShape {
    /// The engine's block shape as a format block shape.
    public init(_ shape: WeightBlockShape) throws {
        try self.init(rows: shape.rows, columns: shape.columns)
    }
}

/// Converts every Conv/Gemm/MatMul layer the loader hands it to one pruned format, keeping the
/// dense weights' exact zeros as the pattern (`makeWeightMatrix(_:format:block:)`). bsr and ubp
/// use the loader's block shape, or 4×4 when none is given; a matrix smaller than one block
/// stays dense (its `formatName` says so), as `gearbox variant convert` leaves it unpruned.
/// With `unprunedLayersStayDense`, so does a layer without a single zero: it was not pruned, and
/// a sparse format would only add index overhead (portfolio variants load this way).
public struct PrunedFormatFactory: WeightFormatFactory {
    public let format: WeightFormat
    /// Block shape when the loader gives none.
    public let defaultBlock: BlockShape
    /// Whether a layer without zeros keeps the engine's dense path.
    public let unprunedLayersStayDense: Bool

    public init(format: WeightFormat, defaultBlock: BlockShape = .fourByFour, unprunedLayersStayDense: Bool = false) {
        self.format = format
        self.defaultBlock = defaultBlock
        self.unprunedLayersStayDense = unprunedLayersStayDense
    }

    public var formatName: String { format.rawValue }

    public func makeWeightMatrix(
        from dense: DenseWeightMatrix, layer: WeightLayerDescription, block: WeightBlockShape?
    ) throws -> any WeightMatrix {
        if unprunedLayersStayDense, dense.values.withUnsafeBufferPointer({ !$0.contains(0) }) { return dense }
        let shape = try block.map(BlockShape.init) ?? defaultBlock
        if format.needsBlockShape, dense.rows < shape.rows || dense.columns < shape.columns { return dense }
        let weights = try dense.withUnsafeValues {
            try DenseWeights(rows: dense.rows, columns: dense.columns, copying: $0)
        }
        return try GearboxEngine.makeWeightMatrix(weights, format: format, block: format.needsBlockShape ? shape : nil)
    }
}

/// Converts Conv layers to `masked` with one channel-prefix mask per level of a model-wide
/// `MaskSelection`: level i keeps round(fractions[i] × channels) output channels and, except for
/// the first layer (the model's input), as many input channels. Gemm/MatMul layers and grouped
/// Convs get full masks: their inputs are already zero where upstream channels are masked, and
/// a classifier's outputs must all stay. Weights are used in the order they are stored, so
/// they should already be importance-ordered (see `Pruning.outputChannelOrder`).
public struct MaskedFormatFactory: WeightFormatFactory {
    /// The switch shared by every layer this factory builds.
    public let selection: MaskSelection
    /// Channel keep fraction per selection level.
    public let fractions: [Double]

    public init(selection: MaskSelection, fractions: [Double]) throws {
        guard fractions.count == selection.levelCount else {
            throw WeightFormatError.invalidMask(
                reason: "\(fractions.count) fractions for a selection of \(selection.levelCount) levels: give one per level")
        }
        self.selection = selection
        self.fractions = fractions
    }

    public var formatName: String { WeightFormat.masked.rawValue }

    public func makeWeightMatrix(
        from dense: DenseWeightMatrix, layer: WeightLayerDescription, block: WeightBlockShape?
    ) throws -> any WeightMatrix {
        let weights = try dense.withUnsafeValues {
            try DenseWeights(rows: dense.rows, columns: dense.columns, copying: $0)
        }
        let masks: [ChannelPrefixMask]
        if layer.opType == "Conv", layer.groupCount == 1, layer.kernelShape.count == 4 {
            let kernelArea = layer.kernelShape[2] * layer.kernelShape[3]
            masks = try Pruning.channelPrefixMasks(
                outputChannels: dense.rows, inputChannels: dense.columns / max(1, kernelArea), kernelArea: kernelArea,
                fractions: fractions, maskInputs: layer.layerIndex > 0)
        } else {
            masks = Array(repeating: ChannelPrefixMask(activeRows: dense.rows, activeColumns: dense.columns),
                          count: fractions.count)
        }
        return try MaskedWeightMatrix(storage: SharedWeightStorage(weights), masks: masks, selection: selection)
    }
}

extension WeightFormatRegistry {
    /// csr, bsr, ubp and masked (single mask from the weights' zeros), converting the loader's
    /// dense weights with `PrunedFormatFactory`.
    public static var prunedFormats: WeightFormatRegistry {
        WeightFormatRegistry([WeightFormat.csr, .bsr, .ubp, .masked].map { PrunedFormatFactory(format: $0) })
    }
}
