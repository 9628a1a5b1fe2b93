// GearboxPortfolio/PrunedFormats: the engine weight-format factories for pruned variants: csr,
// bsr and ubp through the engine's `PrunedFormatFactory`, and the channel-mask factory that builds
// one `MaskedWeightMatrix` per layer over shared weights, all layers switched by one
// `MaskSelection`. (Glue between the engine's loader and the formats; it can move into the
// engine once the engine registers the pruned formats itself.)

import GearboxEngine

public enum PrunedFormats {
    /// dense (built in), csr, bsr and ubp; a layer without a single zero was not pruned and stays
    /// dense (ubp cannot always tile a full matrix).
    public static var registry: WeightFormatRegistry {
        WeightFormatRegistry([WeightFormat.csr, .bsr, .ubp].map {
            PrunedFormatFactory(format: $0, unprunedLayersStayDense: true)
        })
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
