// GearboxPortfolio/DefaultPortfolio: the built-in default portfolio, made deterministically from
// one small CNN with seeded random weights: structurally pruned dense variants (channel-prefix
// slices of the base, channels in importance order), csr/bsr/ubp variants of one width at a few
// sparsities (magnitude, aligned-block and unaligned-block patterns), and a masked set sharing one
// weight file. Written as ONNX through the engine's writer; accuracy is unknown (null).

import Foundation
import GearboxCore
import GearboxEngine

public enum DefaultPortfolio {
    /// What to generate. The defaults span about 1–10 ms per inference on one core of a small
    /// x86 VM, so that DVFS steps and millisecond-scale switch costs are visible.
    public struct Layout: Sendable, Equatable {
        /// Base widths of the structurally pruned dense variants (channels per stage: w, w, 2w, 2w, 4w).
        public var widths: [Int]
        /// The width the sparse and masked variants are derived from.
        public var prunedWidth: Int
        public var sparse: [SparseVariant]
        /// Kept channel fractions of the masked variants (sharing one file); empty for none.
        public var maskFractions: [Double]
        public var seed: UInt64

        public init(widths: [Int] = [20, 28, 40, 52, 64], prunedWidth: Int = 40,
                    sparse: [SparseVariant] = SparseVariant.defaults, maskFractions: [Double] = [0.25, 0.5, 0.75, 1.0],
                    seed: UInt64 = 20_261_123) {
            self.widths = widths; self.prunedWidth = prunedWidth; self.sparse = sparse
            self.maskFractions = maskFractions; self.seed = seed
        }
    }

    /// One sparse variant of the pruned width.
    public struct SparseVariant: Sendable, Equatable {
        public var format: WeightFormat
        /// Target fraction of zeros in each pruned layer (every Conv but the first).
        public var sparsity: Double
        public var block: String?
        public init(format: WeightFormat, sparsity: Double, block: String? = nil) {
            self.format = format; self.sparsity = sparsity; self.block = block
        }
        public static let defaults = [
            SparseVariant(format: .csr, sparsity: 0.7), SparseVariant(format: .csr, sparsity: 0.9),
            SparseVariant(format: .bsr, sparsity: 0.7, block: "4x4"), SparseVariant(format: .ubp, sparsity: 0.7, block: "4x4"),
        ]
        var name: String { "\(format.rawValue)-s\(Int((sparsity * 100).rounded()))" + (block.map { "-b\($0)" } ?? "") }
    }

    public static let name = "default"
    static let inputName = "input"
    static let classes = 10
    static let image = 28
    /// Spatial size each conv runs at (one 2×2 max pool before the last conv): most work at full
    /// resolution keeps the files small for their MACs.
    static let convSizes = [28, 28, 28, 28, 14]

    /// Channels of the five convs at base width `w`.
    static func channels(width w: Int) -> [Int] { [w, w, 2 * w, 2 * w, 4 * w] }

    /// The CNN's weight layers: five 3×3 convs and a classifier, as M × K matrices plus biases.
    struct Network {
        var convs: [DenseWeights]
        var convBiases: [[Float]]
        var classifier: DenseWeights
        var classifierBias: [Float]

        var channels: [Int] { convs.map(\.rows) }
    }

    /// Writes the portfolio (ONNX files and `portfolio.json`) into `directory` and returns its manifest.
    @discardableResult
    public static func synthesize(into directory: String, layout: Layout = Layout()) throws -> PortfolioManifest {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw PortfolioError.cannotWrite(path: directory, reason: "cannot create the directory")
        }
        let maxWidth = max(layout.widths.max() ?? layout.prunedWidth, layout.prunedWidth)
        let base = try baseNetwork(maxWidth: maxWidth, seed: layout.seed)
        let source = "synthetic: seeded random weights (seed \(layout.seed)), not trained; accuracy unknown"
        var variants: [PortfolioManifest.Variant] = []

        func write(_ network: Network, file: String) throws -> String {
            let path = directory + "/" + file
            do { try builder(for: network).write(to: path) } catch {
                throw PortfolioError.cannotWrite(path: path, reason: "\(error)")
            }
            return try FileDigest.sha256Hex(ofFileAt: path)
        }

        for width in layout.widths.sorted() {
            let net = try slice(base, width: width)
            let file = "dense-w\(width).onnx"
            variants.append(PortfolioManifest.Variant(
                name: "dense-w\(width)", file: file, format: .dense, method: "structured", sparsity: 0,
                params: parameters(net), macs: macs(net), accuracy: nil, accuracySource: source,
                sha256: try write(net, file: file)))
        }
        let pruned = try slice(base, width: layout.prunedWidth)
        for spec in layout.sparse {
            let net = try prune(pruned, spec)
            let name = spec.name + "-w\(layout.prunedWidth)"
            let file = name + ".onnx"
            variants.append(PortfolioManifest.Variant(
                name: name, file: file, format: Format(rawValue: spec.format.rawValue) ?? .dense,
                method: spec.format == .csr ? "magnitude" : spec.format == .bsr ? "aligned-block" : "unaligned-block",
                sparsity: zeroFraction(net), params: parameters(net), macs: macs(net), accuracy: nil,
                accuracySource: source, sha256: try write(net, file: file), block: spec.block))
        }
        if !layout.maskFractions.isEmpty {
            let file = "masked-w\(layout.prunedWidth).onnx"
            let hash = try write(pruned, file: file)
            for fraction in layout.maskFractions.sorted() {
                // A mask keeps the channel prefix: the same work as the structured slice of that width.
                let equivalent = try maskedEquivalent(pruned, fraction: fraction)
                variants.append(PortfolioManifest.Variant(
                    name: "masked-\(Int((fraction * 100).rounded()))-w\(layout.prunedWidth)", file: file, format: .masked,
                    method: "allinone", sparsity: 1 - Double(parameters(equivalent)) / Double(parameters(pruned)),
                    params: parameters(equivalent), macs: macs(equivalent), accuracy: nil, accuracySource: source,
                    sha256: hash, mask: String(format: "%.2f", fraction)))
            }
        }
        let manifest = PortfolioManifest(
            name: name,
            task: .init(dataset: "fashion-mnist", inputName: inputName, inputShape: [1, 1, image, image], classes: classes,
                        preprocess: .init(scale: 1.0 / 255, mean: 0.2860, std: 0.3530)),
            variants: variants)
        do { try JSONFile.write(manifest, to: directory + "/" + Portfolio.manifestFileName) } catch {
            throw PortfolioError.cannotWrite(path: directory + "/" + Portfolio.manifestFileName, reason: "\(error)")
        }
        return manifest
    }

    public typealias Format = PortfolioManifest.Format

    // MARK: - The network

    /// He-uniform random weights at `maxWidth`, each layer's output channels sorted by L1 norm
    /// (largest first) so that every channel prefix keeps the most important channels.
    static func baseNetwork(maxWidth: Int, seed: UInt64) throws -> Network {
        let ch = channels(width: maxWidth)
        var convs: [DenseWeights] = [], biases: [[Float]] = []
        var inputs = 1
        for (index, outputs) in ch.enumerated() {
            let fanIn = inputs * 9
            let bound = Float((6.0 / Double(fanIn)).squareRoot())
            let values = Tensor.random(shape: [outputs * fanIn], seed: seed &+ UInt64(index) &* 101, in: -bound...bound).scalars
            convs.append(try DenseWeights(rows: outputs, columns: fanIn, values: values))
            biases.append(Tensor.random(shape: [outputs], seed: seed &+ UInt64(index) &* 101 &+ 7, in: -0.05...0.05).scalars)
            inputs = outputs
        }
        let bound = Float((6.0 / Double(inputs)).squareRoot())
        var classifier = try DenseWeights(
            rows: classes, columns: inputs,
            values: Tensor.random(shape: [classes * inputs], seed: seed &+ 999, in: -bound...bound).scalars)
        let classifierBias = Tensor.random(shape: [classes], seed: seed &+ 1000, in: -0.05...0.05).scalars
        // Importance order: permute each conv's filters, and the next layer's input channels with them.
        for index in convs.indices {
            let order = Pruning.outputChannelOrder(convs[index])
            convs[index] = try convs[index].permutingRows(order)
            biases[index] = order.map { biases[index][$0] }
            if index + 1 < convs.count {
                convs[index + 1] = try convs[index + 1].permutingInputChannels(order, kernelArea: 9)
            } else {
                classifier = try classifier.permutingInputChannels(order, kernelArea: 1)
            }
        }
        return Network(convs: convs, convBiases: biases, classifier: classifier, classifierBias: classifierBias)
    }

    /// The channel-prefix slice of `base` at width `w` (structured pruning of the base).
    static func slice(_ base: Network, width w: Int) throws -> Network {
        try prefix(base, keep: channels(width: w))
    }

    /// Keeps the first `keep[i]` filters of conv i (and the matching inputs of the next layer).
    static func prefix(_ base: Network, keep: [Int]) throws -> Network {
        var convs: [DenseWeights] = [], biases: [[Float]] = []
        var inputs = 1
        for (index, conv) in base.convs.enumerated() {
            let outputs = min(keep[index], conv.rows)
            let baseInputs = conv.columns / 9
            var values: [Float] = []
            values.reserveCapacity(outputs * inputs * 9)
            for row in 0..<outputs {
                let start = row * conv.columns
                values.append(contentsOf: conv.values[start..<(start + inputs * 9)])
            }
            _ = baseInputs
            convs.append(try DenseWeights(rows: outputs, columns: inputs * 9, values: values))
            biases.append(Array(base.convBiases[index].prefix(outputs)))
            inputs = outputs
        }
        var classifierValues: [Float] = []
        for row in 0..<base.classifier.rows {
            let start = row * base.classifier.columns
            classifierValues.append(contentsOf: base.classifier.values[start..<(start + inputs)])
        }
        return Network(convs: convs, convBiases: biases,
                       classifier: try DenseWeights(rows: classes, columns: inputs, values: classifierValues),
                       classifierBias: base.classifierBias)
    }

    /// The structured network a channel mask of `fraction` computes (rounding as the mask does).
    static func maskedEquivalent(_ net: Network, fraction: Double) throws -> Network {
        try prefix(net, keep: net.channels.map { min($0, max(1, Int((fraction * Double($0)).rounded()))) })
    }

    /// Applies a sparse pattern to every conv but the first (one input channel: nothing to gain).
    static func prune(_ net: Network, _ spec: SparseVariant) throws -> Network {
        var out = net
        let block = try spec.block.map { try BlockShape(parsing: $0) } ?? BlockShape(rows: 4, columns: 4)
        for index in net.convs.indices.dropFirst() {
            switch spec.format {
            case .csr: out.convs[index] = try Pruning.magnitude(net.convs[index], sparsity: spec.sparsity)
            case .bsr: out.convs[index] = try Pruning.alignedBlocks(net.convs[index], block: block, sparsity: spec.sparsity)
            case .ubp: out.convs[index] = try Pruning.unalignedBlocks(net.convs[index], block: block, sparsity: spec.sparsity).pruned
            case .dense, .masked: break
            }
        }
        return out
    }

    /// The ONNX graph: conv-relu ×4 at 28×28, maxpool, conv-relu at 14×14, global average pool,
    /// flatten, linear (logits).
    static func builder(for net: Network) -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: "gearbox_default_cnn")
        b.addInput(inputName, shape: [1, 1, image, image])
        var x = inputName
        var inputs = 1
        for (index, conv) in net.convs.enumerated() {
            let weights = Tensor(shape: [conv.rows, inputs, 3, 3], scalars: conv.values)
            x = b.relu(b.conv(x, weights: weights, bias: Tensor(shape: [conv.rows], scalars: net.convBiases[index]),
                              pads: [1, 1, 1, 1], name: "conv\(index)"))
            if index == 3 { x = b.maxPool(x, kernel: [2, 2], strides: [2, 2]) }
            inputs = conv.rows
        }
        x = b.flatten(b.globalAveragePool(x))
        let logits = b.linear(x, weights: Tensor(shape: [classes, inputs], scalars: net.classifier.values),
                              bias: Tensor(shape: [classes], scalars: net.classifierBias), name: "classifier")
        b.addOutput(logits)
        return b
    }

    /// Nonzero weights plus biases.
    static func parameters(_ net: Network) -> Int {
        net.convs.map(\.nonzeroCount).reduce(0, +) + net.convBiases.map(\.count).reduce(0, +)
            + net.classifier.nonzeroCount + net.classifierBias.count
    }

    /// Multiply-adds of the nonzero weights per inference.
    static func macs(_ net: Network) -> Int {
        var total = 0
        for (index, conv) in net.convs.enumerated() {
            total += conv.nonzeroCount * convSizes[index] * convSizes[index]
        }
        return total + net.classifier.nonzeroCount
    }

    /// Fraction of zeros among all Conv/Gemm weights.
    static func zeroFraction(_ net: Network) -> Double {
        let all = net.convs.map(\.values.count).reduce(0, +) + net.classifier.values.count
        let nonzero = net.convs.map(\.nonzeroCount).reduce(0, +) + net.classifier.nonzeroCount
        return 1 - Double(nonzero) / Double(all)
    }
}
