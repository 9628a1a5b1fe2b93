// GearboxEngine/Packed/PackedVariantFile: writes and reads packed variant files (`.gbpk`, see
// PackedManifest for the layout). Writing compiles the ONNX model with the requested format and
// stores every weight layer exactly as its kernel reads it; reading maps the file and hands the
// kernels pointers into the mapping, so a cold load parses a small JSON manifest, plans the arena
// and does no weight conversion, packing or copying. Every malformed input is one
// `EngineError.packedFile` line naming the file and the fix.

import Foundation
import GearboxCore

/// Packed variant files: Gearbox's memory-mappable format with weights in kernel layout.
///
/// ```swift
/// try PackedVariantFile.write(onnxFile: "model.onnx", options: EngineOptions(weightFormat: "csr",
///                             weightFormats: .prunedFormats), to: "model.csr.gbpk")
/// let model = try InferenceModel(contentsOf: "model.csr.gbpk")   // mapped, not copied
/// ```
public enum PackedVariantFile {
    /// The customary file extension.
    public static let fileExtension = "gbpk"
    /// The fix printed with every packed-file error.
    static let recreateHint = "re-create it from the ONNX model: gearbox variant convert MODEL.onnx --format FORMAT --out FILE.gbpk"

    /// What was written.
    public struct Summary: Sendable, Codable {
        public var path: String
        public var fileBytes: Int
        /// Bytes of weight sections (kernel layout).
        public var weightBytes: Int
        public var layers: Int
        public var weightFormat: String
    }

    /// Whether the file at `path` starts with the packed magic (false when unreadable).
    public static func isPacked(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: PackedHeader.magic.count)) ?? Data()
        return Array(head) == PackedHeader.magic
    }

    // MARK: - Writing

    /// Options for packing a dense model as `masked`: one channel-prefix mask level per fraction
    /// (kept channel fraction, ascending), the last level selected.
    public static func maskedOptions(fractions: [Double]) throws -> EngineOptions {
        guard !fractions.isEmpty, fractions.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw WeightFormatError.invalidMask(reason: "mask fractions \(fractions) must each be in (0, 1], e.g. 0.25,0.5,1")
        }
        let selection = try MaskSelection(levelCount: fractions.count, initialLevel: fractions.count - 1)
        var options = EngineOptions(weightFormat: WeightFormat.masked.rawValue)
        options.weightFormats.register(try MaskedFormatFactory(selection: selection, fractions: fractions))
        return options
    }

    /// Loads the ONNX model at `onnxFile` with `options` (format, block, mask factories) and
    /// writes it packed to `path`, atomically.
    /// - Parameter maskFractions: for masked variants, each level's kept channel fraction (recorded for loaders).
    @discardableResult
    public static func write(onnxFile: String, options: EngineOptions = EngineOptions(), maskFractions: [Double]? = nil,
                             to path: String) throws -> Summary {
        let graph = try ONNXImporter.graph(fromFile: onnxFile)
        return try write(graph: graph, source: onnxFile, options: options, maskFractions: maskFractions, to: path)
    }

    /// `write(onnxFile:…)` for serialized ONNX bytes; `source` names them in errors and the manifest.
    @discardableResult
    public static func write(onnx data: Data, source: String, options: EngineOptions = EngineOptions(),
                             maskFractions: [Double]? = nil, to path: String) throws -> Summary {
        let graph = try ONNXImporter.graph(from: data, source: source)
        return try write(graph: graph, source: source, options: options, maskFractions: maskFractions, to: path)
    }

    static func write(graph: Graph, source: String, options: EngineOptions, maskFractions: [Double]?, to path: String) throws -> Summary {
        guard options.boundInputs.isEmpty else {
            throw EngineError.invalidOption(name: "constantInputs", reason: "packed files do not store bound inputs; load the ONNX model instead")
        }
        var single = options
        single.threads = 1
        single.pinning = nil
        let model = try InferenceModel(graph: graph, source: source, options: single, start: .now)
        var builder = SectionBuilder()
        let records = model.weightRecords
        var layers = [PackedLayer]()
        var maskSelection: MaskSelection?
        for record in records {
            layers.append(try builder.layer(record, path: path, selection: &maskSelection))
        }
        let weightBytes = builder.bytes.count
        // Weight initializers the layers hold in kernel layout are stored as shapes only.
        let weightNames = placeholderInitializers(graph: graph, records: records)
        var initializers = [String: PackedConstant]()
        for (name, constant) in graph.initializers {
            initializers[name] = weightNames.contains(name)
                ? PackedConstant(shape: constant.shape, elementType: ElementType.float.rawValue, section: nil)
                : builder.constant(constant)
        }
        let nodes = graph.nodes.map { node in
            PackedNode(name: node.name, opType: node.opType, domain: node.domain, inputs: node.inputs, outputs: node.outputs,
                       attributes: node.attributes.mapValues { builder.attribute($0) })
        }
        let manifest = PackedManifest(
            schemaVersion: PackedManifest.currentSchemaVersion, source: source, writer: "gearbox \(GearboxBuild.version)",
            weightFormat: options.weightFormat, weightBlock: options.weightBlock?.description,
            fusesOperators: options.fusesOperators, inputShapes: model.inputShapes,
            architecture: PackedHeader.currentArchitecture, panelRows: packedPanelRowsForTiling,
            reductionBlock: PackedDenseWeightMatrix.reductionBlock, maskLevels: maskSelection?.levelCount,
            maskInitialLevel: maskSelection?.level, maskFractions: maskSelection == nil ? nil : maskFractions,
            graph: PackedGraph(name: graph.name, opsetVersion: graph.opsetVersion, nodes: nodes, initializers: initializers,
                               inputs: graph.inputs.map(packedValue), outputs: graph.outputs.map(packedValue)),
            layers: layers)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let json = try encoder.encode(manifest)
        builder.align(64)
        let manifestOffset = PackedHeader.size + builder.bytes.count
        let total = manifestOffset + json.count
        let header = PackedHeader(manifestOffset: UInt64(manifestOffset), manifestLength: UInt64(json.count), fileLength: UInt64(total),
                                  architecture: PackedHeader.currentArchitecture, panelRows: UInt32(packedPanelRowsForTiling),
                                  reductionBlock: UInt32(PackedDenseWeightMatrix.reductionBlock))
        var file = Data(header.encoded())
        file.append(builder.bytes)
        file.append(json)
        do { try AtomicFile.write(file, to: path) } catch {
            throw EngineError.cannotWrite(path: path, reason: "\(error)")
        }
        return Summary(path: path, fileBytes: total, weightBytes: weightBytes, layers: layers.count, weightFormat: options.weightFormat)
    }

    /// Initializers read only as the weight input of a layer that stores its weights itself.
    private static func placeholderInitializers(graph: Graph, records: [WeightLayerRecord]) -> Set<String> {
        let layerNodes = Set(records.map(\.node))
        var uses = [String: Int]()
        for node in graph.nodes { for input in node.inputs where !input.isEmpty { uses[input, default: 0] += 1 } }
        for output in graph.outputs { uses[output.name, default: 0] += 1 }
        var names = Set<String>()
        for node in graph.nodes where ["Conv", "Gemm", "MatMul"].contains(node.opType) && layerNodes.contains(node.displayName) {
            guard node.inputs.count > 1, let constant = graph.initializers[node.inputs[1]], case .float = constant,
                  uses[node.inputs[1]] == 1 else { continue }
            names.insert(node.inputs[1])
        }
        return names
    }

    private static func packedValue(_ value: GraphValue) -> PackedValue {
        PackedValue(name: value.name, elementType: value.elementType.rawValue, dimensions: value.dimensions?.map { d in
            switch d {
            case let .fixed(v): return .init(fixed: v, symbol: nil)
            case let .symbolic(s): return .init(fixed: nil, symbol: s)
            case .unknown: return .init(fixed: nil, symbol: nil)
            }
        })
    }

    /// Appends arrays to the data region, each aligned for mapping.
    struct SectionBuilder {
        var bytes = Data()

        mutating func align(_ alignment: Int) {
            let offset = PackedHeader.size + bytes.count
            let padded = (offset + alignment - 1) / alignment * alignment
            bytes.append(contentsOf: [UInt8](repeating: 0, count: padded - offset))
        }

        mutating func append<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, _ type: PackedSection.ElementKind) -> PackedSection {
            let byteCount = buffer.count * MemoryLayout<T>.stride
            align(byteCount >= 65_536 ? 4096 : 64)
            let offset = PackedHeader.size + bytes.count
            if let base = buffer.baseAddress { bytes.append(UnsafeBufferPointer(start: UnsafeRawPointer(base).assumingMemoryBound(to: UInt8.self), count: byteCount)) }
            return PackedSection(offset: offset, count: buffer.count, type: type)
        }

        mutating func floats(_ array: WeightArray<Float>) -> PackedSection { array.withUnsafeBufferPointer { append($0, .f32) } }
        mutating func int32s(_ array: WeightArray<Int32>) -> PackedSection { array.withUnsafeBufferPointer { append($0, .i32) } }
        mutating func floats(_ buffer: AlignedBuffer) -> PackedSection { append(UnsafeBufferPointer(buffer.buffer), .f32) }
        mutating func floats(_ values: [Float]) -> PackedSection { values.withUnsafeBufferPointer { append($0, .f32) } }
        mutating func floats(_ tensor: Tensor) -> PackedSection { tensor.withUnsafeBufferPointer { append($0, .f32) } }

        mutating func constant(_ constant: ConstantTensor) -> PackedConstant {
            switch constant {
            case let .float(t):
                return PackedConstant(shape: t.shape, elementType: ElementType.float.rawValue, section: floats(t))
            case let .integer(shape, values, type):
                return PackedConstant(shape: shape, elementType: type.rawValue, section: values.withUnsafeBufferPointer { append($0, .i64) })
            }
        }

        mutating func attribute(_ value: AttributeValue) -> PackedAttribute {
            var a = PackedAttribute(kind: "")
            switch value {
            case let .int(v): a.kind = "int"; a.int = v
            case let .float(v): a.kind = "float"; a.float = v
            case let .string(v): a.kind = "string"; a.string = v
            case let .ints(v): a.kind = "ints"; a.ints = v
            case let .floats(v): a.kind = "floats"; a.floats = v
            case let .strings(v): a.kind = "strings"; a.strings = v
            case let .tensor(t): a.kind = "tensor"; a.tensor = constant(t)
            case let .unsupported(kind): a.kind = "unsupported"; a.string = kind
            }
            return a
        }

        mutating func matrix(_ matrix: any WeightMatrix, path: String, node: String, selection: inout MaskSelection?) throws -> PackedMatrix {
            var packed = PackedMatrix(kind: .dense, rows: matrix.rows, columns: matrix.columns, sections: [:])
            switch matrix {
            case let m as PackedDenseWeightMatrix:
                packed.kind = .packedDense
                packed.sections["values"] = floats(m.storage)
            case let m as DenseWeightMatrix:
                packed.sections["values"] = floats(m.storage)
            case let m as CSRWeightMatrix:
                packed.kind = .csr
                packed.sections["rowOffsets"] = int32s(m.offsetArray)
                packed.sections["columnIndices"] = int32s(m.indexArray)
                packed.sections["values"] = floats(m.valueArray)
            case let m as BlockSparseWeightMatrix:
                packed.kind = .bsr
                bands(m.bands, into: &packed)
            case let m as UnalignedBlockWeightMatrix:
                packed.kind = .ubp
                bands(m.bands, into: &packed)
            case let m as MaskedWeightMatrix:
                if let existing = selection, existing !== m.selection, existing.levelCount != m.selection.levelCount {
                    throw EngineError.weightFormat(format: "masked", reason: "layer \(node): mask selections with different level counts cannot share one packed file")
                }
                selection = selection ?? m.selection
                packed.kind = .masked
                packed.masks = m.masks
                packed.sections["values"] = floats(m.storage.weights)
            default:
                throw EngineError.weightFormat(format: matrix.formatName, reason: "layer \(node): no packed layout for \(type(of: matrix)); load the ONNX model instead of writing \(path)")
            }
            return packed
        }

        private mutating func bands(_ bands: BlockBands, into packed: inout PackedMatrix) {
            packed.blockRows = bands.block.rows
            packed.blockColumns = bands.block.columns
            for (name, table) in zip(BlockBands.tableNames, bands.tables) { packed.sections[name] = int32s(table) }
            packed.sections["values"] = floats(bands.blockValues)
        }

        mutating func layer(_ record: WeightLayerRecord, path: String, selection: inout MaskSelection?) throws -> PackedLayer {
            var layer = PackedLayer(
                node: record.node, op: record.op,
                descriptions: record.descriptions.map {
                    PackedLayerDescription(kernelShape: $0.kernelShape, groupIndex: $0.groupIndex, groupCount: $0.groupCount, layerIndex: $0.layerIndex)
                },
                matrices: try record.matrices.map { try matrix($0, path: path, node: record.node, selection: &selection) })
            if let bias = record.convBias { layer.bias = floats(bias) }
            switch record.linearBias {
            case .none: break
            case let .perFeature(b): layer.biasKind = "perFeature"; layer.bias = floats(b)
            case let .full(t): layer.biasKind = "full"; layer.biasShape = t.shape; layer.bias = floats(t)
            }
            if let direct = record.depthwiseWeights {
                layer.depthwiseWeights = floats(direct)
                layer.depthwiseShape = direct.shape
            }
            return layer
        }
    }
}
