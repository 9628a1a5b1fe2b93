// GearboxPortfolio/PrunedFormats: the engine weight-format factories for pruned variants: csr,
// bsr and ubp through the formats' `makeWeightMatrix`, and the channel-mask factory that builds
// one `MaskedWeightMatrix` per layer over shared weights, all layers switched by one
// `MaskSelection`. (Glue between the engine's loader and the formats; it can move into the
// engine once the engine registers the pruned formats itself.)

import GearboxEngine

public enum PrunedFormats {
    /// dense (built in), csr, bsr and ubp.
    public static var registry: WeightFormatRegistry {
        WeightFormatRegistry([WeightFormat.csr, .bsr, .ubp].map(PrunedFormatFactory.init(format:)))
    }
}

/// Converts a layer's dense weights (zeros = the pruning pattern) to csr, bsr or ubp. A layer
/// without a single zero was not pruned and stays dense (the engine's own dense path): a sparse
/// format would only add index overhead, and ubp cannot always tile a full matrix.
public struct PrunedFormatFactory: WeightFormatFactory {
    public let format: WeightFormat
    public init(format: WeightFormat) { self.format = format }
    public var formatName: String { format.rawValue }

    public func makeWeightMatrix(from dense: DenseWeightMatrix, layer: WeightLayerDescription,
                                 block: WeightBlockShape?) throws -> any WeightMatrix {
        let unpruned = dense.values.withUnsafeBufferPointer { !$0.contains(0) }
        if unpruned { return dense }
        let shape = try block.map { try BlockShape(rows: $0.rows, columns: $0.columns) }
            ?? (format.needsBlockShape ? BlockShape(rows: 4, columns: 4) : nil)
        return try dense.values.withUnsafeBufferPointer { buffer in
            try GearboxEngine.makeWeightMatrix(dense: buffer, rows: dense.rows, columns: dense.columns, format: format, block: shape)
        }
    }
}

/// Builds every Conv/Gemm layer of one model as a `MaskedWeightMatrix` over its shared dense
/// weights, with one channel-prefix mask per fraction, all switched by `selection`.
///
/// Conv layers keep the first round(f·M) filters and the first round(f·C) input channels (all
/// input channels for the first layer, which reads the image); Gemm layers keep every output (the
/// classes) and the first round(f·K) inputs. This matches channel-prefix pruning of a CNN whose
/// channels are in importance order and whose classifier follows a global pooling.
public final class ChannelMaskFactory: WeightFormatFactory, @unchecked Sendable {
    public let fractions: [Double]
    public let selection: MaskSelection
    public var formatName: String { WeightFormat.masked.rawValue }

    public init(fractions: [Double], selection: MaskSelection) {
        self.fractions = fractions; self.selection = selection
    }

    public func makeWeightMatrix(from dense: DenseWeightMatrix, layer: WeightLayerDescription,
                                 block: WeightBlockShape?) throws -> any WeightMatrix {
        guard layer.groupCount == 1 else {
            throw WeightFormatError.invalidMask(reason: "layer \(layer.nodeName) is a grouped Conv: channel masks need ungrouped layers")
        }
        let weights = try dense.values.withUnsafeBufferPointer {
            try DenseWeights(rows: dense.rows, columns: dense.columns, copying: $0)
        }
        let masks: [ChannelPrefixMask] = fractions.map { f in
            func keep(_ n: Int) -> Int { min(n, max(1, Int((f * Double(n)).rounded()))) }
            if layer.opType == "Conv" {
                let area = layer.kernelShape.dropFirst(2).reduce(1, *)
                let inputs = layer.kernelShape.count > 1 ? layer.kernelShape[1] : dense.columns
                let columns = layer.layerIndex == 0 ? dense.columns : keep(inputs) * area
                return ChannelPrefixMask(activeRows: keep(dense.rows), activeColumns: columns)
            }
            return ChannelPrefixMask(activeRows: dense.rows, activeColumns: keep(dense.columns))
        }
        return try MaskedWeightMatrix(storage: SharedWeightStorage(weights), masks: masks, selection: selection)
    }
}
