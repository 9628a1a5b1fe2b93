// GearboxEngine/Formats/VariantConversion: `gearbox variant convert`. Prunes a dense ONNX
// model's Conv/Gemm/MatMul weights with the pattern maker that matches the target format (or
// keeps the zeros already there), writes them back as an ONNX file with exact zeros — the form
// the engine loads and converts at load time (EngineOptions.weightFormat + `prunedFormats`) —
// and checks losslessness: the engine running the pruned file densely and in the format must
// give the same outputs on seeded random inputs. A sidecar JSON (`<out>.variant.json`) records
// the format, block, sparsity, per-layer densities and bytes, and the check.

import Foundation
import GearboxCore
import SwiftProtobuf

/// Converts a dense ONNX model into a pruned variant for one weight format.
public struct VariantConversion: Sendable {
    /// What to produce.
    public struct Request: Sendable {
        /// csr, bsr or ubp (dense and masked have no zero pattern to make).
        public var format: WeightFormat
        /// Block shape for bsr/ubp (4×4 when nil).
        public var block: BlockShape?
        /// Target sparsity per layer; nil keeps the zeros the weights already have.
        public var sparsity: Double?
        /// Seed of the random inputs of the losslessness check.
        public var checkSeed: UInt64
        /// Write a packed variant file (`.gbpk`, weights in kernel layout, memory-mapped at load)
        /// instead of ONNX with exact zeros.
        public var packed: Bool

        public init(format: WeightFormat, block: BlockShape? = nil, sparsity: Double? = nil, checkSeed: UInt64 = 1, packed: Bool = false) {
            self.format = format
            self.block = block
            self.sparsity = sparsity
            self.checkSeed = checkSeed
            self.packed = packed
        }

        /// Engine options that load the pruned model in this format.
        public var engineOptions: EngineOptions {
            var options = EngineOptions(weightFormat: format.rawValue, weightFormats: .prunedFormats)
            if let block = effectiveBlock { options.weightBlock = WeightBlockShape(rows: block.rows, columns: block.columns) }
            return options
        }

        /// The block shape in force (bsr/ubp only).
        public var effectiveBlock: BlockShape? { format.needsBlockShape ? (block ?? .fourByFour) : nil }
    }

    /// One weight matrix of the model (a Conv group, a Gemm or a MatMul).
    public struct Layer: Codable, Sendable, Hashable {
        public var node: String
        public var op: String
        public var initializer: String
        /// Conv group (0 otherwise).
        public var group: Int
        public var rows: Int
        public var columns: Int
        /// Fraction of weights that are nonzero after conversion.
        public var density: Double
        /// Whether the pattern maker pruned this matrix (false: zeros kept as found, or skipped).
        public var pruned: Bool
        /// Bytes the matrix takes dense and in the format, as loaded by the engine.
        public var denseBytes: Int
        public var formatBytes: Int
        /// The format the engine actually used for the matrix (dense for skipped layers).
        public var loadedFormat: String
        public var note: String?
    }

    /// Outcome of running the pruned model densely and in the format.
    public struct Check: Codable, Sendable, Hashable {
        public var outputs: [String]
        public var maxAbsoluteDifference: Double
        public var largestReferenceMagnitude: Double
        /// Allowed difference: 1e-5 + 1e-4 × largest reference magnitude (summation order only).
        public var tolerance: Double
        public var passed: Bool
        public var inputSeed: UInt64
        public var method: String
    }

    /// The sidecar file and the command's JSON output.
    public struct Report: VersionedFile, Sendable {
        public static let currentSchemaVersion = 1
        public var schemaVersion = Self.currentSchemaVersion
        public var source: String
        public var output: String
        public var format: WeightFormat
        public var block: String?
        public var requestedSparsity: Double?
        /// Over the converted matrices: 1 − nonzeros / weights.
        public var achievedSparsity: Double
        public var layers: [Layer]
        public var check: Check
    }

    public let request: Request

    public init(request: Request) throws {
        guard request.format == .csr || request.format == .bsr || request.format == .ubp else {
            throw WeightFormatError.unsupportedFormat(
                request.format.rawValue, reason: "variant convert makes csr, bsr or ubp variants")
        }
        if let sparsity = request.sparsity, !(0...1).contains(sparsity) {
            throw WeightFormatError.invalidFraction(setting: "sparsity", value: sparsity)
        }
        self.request = request
    }

    /// Converts the model in `input` and writes the pruned ONNX to `output` and the report to
    /// `output + ".variant.json"`, both atomically, only after the check passed.
    public func convert(file input: String, to output: String) throws -> Report {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: input)) } catch {
            throw EngineError.cannotRead(path: input, reason: "no such file or not readable")
        }
        let (model, report) = try convert(onnx: data, source: input, output: output)
        guard report.check.passed else {
            throw EngineError.checkFailed(
                what: "\(request.format.rawValue) losslessness",
                reason: "outputs differ by \(report.check.maxAbsoluteDifference) > \(report.check.tolerance) between the dense and \(request.format) runs of \(output); nothing written")
        }
        if request.packed {
            try PackedVariantFile.write(onnx: model, source: input, options: request.engineOptions, to: output)
        } else {
            try AtomicFile.write(model, to: output)
        }
        try JSONFile.write(report, to: Self.reportPath(for: output))
        return report
    }

    /// Where the report of a variant written to `output` goes.
    public static func reportPath(for output: String) -> String { output + ".variant.json" }

    /// Converts serialized ONNX bytes; returns the pruned model's bytes and the report.
    public func convert(onnx data: Data, source: String, output: String = "<memory>") throws -> (Data, Report) {
        _ = try InferenceModel(onnx: data, source: source)  // the engine must accept the input first
        var model = try ONNXImporter.modelProto(from: data, source: source)
        let block = request.effectiveBlock
        var layers = [Layer]()
        var done = Set<String>()
        for node in model.graph.node {
            guard let target = Self.weightTarget(node), !done.contains(target.initializer),
                  let index = model.graph.initializer.firstIndex(where: { $0.name == target.initializer })
            else { continue }
            done.insert(target.initializer)
            guard case .float(let tensor) = try TensorProtoCoding.constant(from: model.graph.initializer[index], source: source)
            else { continue }
            var values = tensor.scalars
            for matrix in try target.matrices(shape: tensor.shape, node: node, source: source) {
                var weights = matrix.extract(from: values)
                var note: String? = matrix.note
                var pruned = false
                if note == nil, let sparsity = request.sparsity {
                    if let block, weights.rows < block.rows || weights.columns < block.columns {
                        note = "smaller than a \(block) block: left dense"
                    } else {
                        weights = try prune(weights, sparsity: sparsity, block: block)
                        pruned = true
                    }
                }
                matrix.insert(weights, into: &values)
                layers.append(Layer(
                    node: Self.displayName(node), op: node.opType,
                    initializer: target.initializer, group: matrix.group, rows: weights.rows, columns: weights.columns,
                    density: weights.density, pruned: pruned, denseBytes: weights.values.count * 4, formatBytes: weights.values.count * 4,
                    loadedFormat: "dense", note: note))
            }
            model.graph.initializer[index] = TensorProtoCoding.proto(
                from: Tensor(shape: tensor.shape, scalars: values), name: target.initializer)
        }
        let pruned = try model.serializedBytes() as Data
        let check = try checkLossless(pruned, source: output, layers: &layers)
        let total = layers.reduce(0) { $0 + $1.rows * $1.columns }
        let nonzeros = layers.reduce(0.0) { $0 + $1.density * Double($1.rows * $1.columns) }
        let report = Report(
            source: source, output: output, format: request.format, block: block?.description,
            requestedSparsity: request.sparsity, achievedSparsity: total == 0 ? 0 : 1 - nonzeros / Double(total),
            layers: layers, check: check)
        return (pruned, report)
    }

    // MARK: - Pruning

    private func prune(_ weights: DenseWeights, sparsity: Double, block: BlockShape?) throws -> DenseWeights {
        switch (request.format, block) {
        case (.bsr, let block?): return try Pruning.alignedBlocks(weights, block: block, sparsity: sparsity)
        case (.ubp, let block?): return try Pruning.unalignedBlocks(weights, block: block, sparsity: sparsity).pruned
        default: return try Pruning.magnitude(weights, sparsity: sparsity)
        }
    }

    // MARK: - Losslessness

    private func checkLossless(_ model: Data, source: String, layers: inout [Layer]) throws -> Check {
        let dense = try InferenceModel(onnx: model, source: source)
        let converted = try InferenceModel(onnx: model, source: source, options: request.engineOptions)
        for (index, layer) in layers.enumerated() {
            if let loaded = converted.weightLayers.first(where: {
                $0.description.nodeName == layer.node && $0.description.groupIndex == layer.group
            }) {
                layers[index].formatBytes = loaded.matrix.storedBytes
                layers[index].loadedFormat = loaded.matrix.formatName
            }
        }
        var inputs = [String: Tensor]()
        for (offset, port) in dense.inputs.enumerated() {
            inputs[port.name] = Tensor.random(shape: port.shape, seed: request.checkSeed &+ UInt64(offset))
        }
        let expected = try dense.run(inputs), actual = try converted.run(inputs)
        var difference: Float = 0, magnitude: Float = 0
        for (name, reference) in expected {
            guard let result = actual[name] else { continue }
            difference = max(difference, reference.maxAbsoluteDifference(to: result))
            reference.withUnsafeBufferPointer { magnitude = max(magnitude, $0.map(abs).max() ?? 0) }
        }
        let tolerance = 1e-5 + 1e-4 * Double(magnitude)
        return Check(
            outputs: expected.keys.sorted(), maxAbsoluteDifference: Double(difference),
            largestReferenceMagnitude: Double(magnitude), tolerance: tolerance,
            passed: Double(difference) <= tolerance && !difference.isNaN, inputSeed: request.checkSeed,
            method: "engine on the pruned ONNX: dense vs \(request.format), seeded random inputs")
    }

    // MARK: - Which weights

    /// The initializer a node multiplies by, and how its tensor maps to weight matrices.
    struct WeightTarget {
        enum Layout { case conv(groups: Int), rowsOut, columnsOut }
        var initializer: String
        var layout: Layout

        func matrices(shape: [Int], node: Onnx_NodeProto, source: String) throws -> [MatrixSlice] {
            switch layout {
            case .conv(let groups):
                guard shape.count == 4, groups >= 1, shape[0] % groups == 0 else { return [] }
                let rows = shape[0] / groups, columns = shape[1] * shape[2] * shape[3]
                let depthwise = groups > 1 && shape[1] == 1
                return (0..<groups).map {
                    MatrixSlice(group: $0, offset: $0 * rows * columns, rows: rows, columns: columns, transposed: false,
                                note: depthwise ? "depthwise: the engine runs it directly, left dense" : nil)
                }
            case .rowsOut:
                guard shape.count == 2 else { return [] }
                return [MatrixSlice(group: 0, offset: 0, rows: shape[0], columns: shape[1], transposed: false, note: nil)]
            case .columnsOut:
                guard shape.count == 2 else { return [] }
                return [MatrixSlice(group: 0, offset: 0, rows: shape[1], columns: shape[0], transposed: true, note: nil)]
            }
        }
    }

    /// One M×K weight matrix inside an initializer (stored transposed for Gemm transB=0 and MatMul).
    struct MatrixSlice {
        var group: Int
        var offset: Int
        var rows: Int
        var columns: Int
        var transposed: Bool
        var note: String?

        func extract(from values: [Float]) -> DenseWeights {
            var out = [Float](repeating: 0, count: rows * columns)
            for row in 0..<rows {
                for column in 0..<columns {
                    out[row * columns + column] = values[offset + (transposed ? column * rows + row : row * columns + column)]
                }
            }
            return DenseWeights(uncheckedRows: rows, columns: columns, values: out)
        }

        func insert(_ weights: DenseWeights, into values: inout [Float]) {
            for row in 0..<rows {
                for column in 0..<columns {
                    values[offset + (transposed ? column * rows + row : row * columns + column)] = weights.values[row * columns + column]
                }
            }
        }
    }

    /// The node's name as the engine reports it (`<first output>` when unnamed).
    static func displayName(_ node: Onnx_NodeProto) -> String {
        node.name.isEmpty ? (node.output.first.map { "<\($0)>" } ?? "<unnamed>") : node.name
    }

    static func weightTarget(_ node: Onnx_NodeProto) -> WeightTarget? {
        guard node.domain.isEmpty || node.domain == "ai.onnx", node.input.count >= 2, !node.input[1].isEmpty else { return nil }
        func intAttribute(_ name: String, _ fallback: Int) -> Int {
            node.attribute.first(where: { $0.name == name }).map { Int(clamping: $0.i) } ?? fallback
        }
        switch node.opType {
        case "Conv": return WeightTarget(initializer: node.input[1], layout: .conv(groups: intAttribute("group", 1)))
        case "Gemm": return WeightTarget(initializer: node.input[1], layout: intAttribute("transB", 0) != 0 ? .rowsOut : .columnsOut)
        case "MatMul": return WeightTarget(initializer: node.input[1], layout: .columnsOut)
        default: return nil
        }
    }
}
