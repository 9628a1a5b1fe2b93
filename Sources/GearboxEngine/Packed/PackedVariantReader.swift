// GearboxEngine/Packed/PackedVariantReader: opens a packed variant file — maps it, checks the
// header (magic, version, byte order, length), decodes the manifest, and rebuilds the graph IR
// and the weight layers with every array borrowed from the mapping after bounds checks, so a
// truncated or corrupt file is one error line, never an out-of-bounds read.

import Foundation

/// A packed file opened for loading.
struct PackedVariantReader {
    let path: String
    let file: MappedFile
    let manifest: PackedManifest
    let manifestOffset: Int

    init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let size = file.byteCount
        guard size >= PackedHeader.size, let base = file.base else {
            throw Self.error(path, "truncated: \(size) bytes, shorter than the \(PackedHeader.size)-byte header")
        }
        guard Array(UnsafeRawBufferPointer(start: base, count: 8)) == PackedHeader.magic else {
            throw Self.error(path, "not a packed variant file (wrong magic; expected \"GBPK\")", fix: "give a .gbpk file written by gearbox variant convert, or the ONNX model")
        }
        func word<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T { base.loadUnaligned(fromByteOffset: offset, as: T.self) }
        let order = word(12, UInt32.self)
        if order == PackedHeader.byteOrderMark.byteSwapped {
            throw Self.error(path, "written on a CPU of the other byte order", fix: "re-create it on this machine: " + PackedVariantFile.recreateHint)
        }
        guard order == PackedHeader.byteOrderMark else { throw Self.error(path, "corrupt header (byte-order mark \(order))") }
        let version = word(8, UInt32.self)
        guard version == PackedHeader.version else {
            throw Self.error(path, "format version \(version), this gearbox reads version \(PackedHeader.version)",
                             fix: "re-create it with this gearbox: " + PackedVariantFile.recreateHint)
        }
        let manifestOffset = word(16, UInt64.self), manifestLength = word(24, UInt64.self), fileLength = word(32, UInt64.self)
        guard fileLength == UInt64(size) else {
            throw Self.error(path, "truncated or damaged: the header says \(fileLength) bytes, the file has \(size)")
        }
        guard manifestOffset >= UInt64(PackedHeader.size), manifestLength <= fileLength, manifestOffset == fileLength - manifestLength else {
            throw Self.error(path, "corrupt header (manifest at \(manifestOffset), \(manifestLength) bytes, in a \(size)-byte file)")
        }
        self.manifestOffset = Int(manifestOffset)
        let json = Data(file.bytes(Int(manifestOffset)..<size))
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { manifest = try decoder.decode(PackedManifest.self, from: json) } catch {
            throw Self.error(path, "corrupt manifest (\(Self.describe(error)))")
        }
        guard manifest.schemaVersion == PackedManifest.currentSchemaVersion else {
            throw Self.error(path, "manifest schemaVersion \(manifest.schemaVersion), this gearbox reads \(PackedManifest.currentSchemaVersion)",
                             fix: "re-create it with this gearbox: " + PackedVariantFile.recreateHint)
        }
    }

    static func error(_ path: String, _ reason: String, fix: String = PackedVariantFile.recreateHint) -> EngineError {
        .packedFile(path: path, reason: reason, fix: fix)
    }

    private func error(_ reason: String) -> EngineError { Self.error(path, reason) }

    private static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, _): return "missing \(key.stringValue)"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case let DecodingError.dataCorrupted(context): return "not JSON at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "undecodable"
        }
    }

    // MARK: - Sections

    /// The raw range of a section after checking type, alignment and bounds.
    private func range(_ section: PackedSection, _ type: PackedSection.ElementKind, _ what: String) throws -> UnsafeRawPointer? {
        guard section.type == type else { throw error("\(what) is \(section.type.rawValue), expected \(type.rawValue)") }
        let (bytes, overflow) = section.count.multipliedReportingOverflow(by: section.elementBytes)
        guard section.count >= 0, !overflow, section.offset >= PackedHeader.size, section.offset % 64 == 0,
              section.offset <= manifestOffset, bytes <= manifestOffset - section.offset
        else { throw error("section of \(what) (\(section.count) × \(section.type.rawValue) at \(section.offset)) lies outside the data region") }
        return file.base.map { $0 + section.offset }
    }

    func floats(_ section: PackedSection, _ what: String, count expected: Int? = nil) throws -> WeightArray<Float> {
        let start = try range(section, .f32, what)
        try check(section, expected, what)
        return WeightArray(borrowing: start?.assumingMemoryBound(to: Float.self), count: section.count, owner: file)
    }

    func int32s(_ section: PackedSection, _ what: String) throws -> WeightArray<Int32> {
        let start = try range(section, .i32, what)
        return WeightArray(borrowing: start?.assumingMemoryBound(to: Int32.self), count: section.count, owner: file)
    }

    func buffer(_ section: PackedSection, _ what: String, count expected: Int) throws -> AlignedBuffer {
        let start = try range(section, .f32, what)
        try check(section, expected, what)
        guard let start else { return AlignedBuffer(count: 0) }
        return AlignedBuffer(borrowing: start.assumingMemoryBound(to: Float.self), count: section.count, owner: file)
    }

    private func check(_ section: PackedSection, _ expected: Int?, _ what: String) throws {
        if let expected, section.count != expected { throw error("\(what) holds \(section.count) values, expected \(expected)") }
    }

    private func elementCount(_ shape: [Int], _ what: String) throws -> Int {
        var total = 1
        for d in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow, product <= maximumTensorElements else { throw error("\(what) has an invalid shape \(shape)") }
            total = product
        }
        return total
    }

    // MARK: - Graph

    /// The graph IR, with float constants borrowed from the mapping and weight initializers as
    /// shape-only placeholders over zero pages (they are never read: the layers are adopted).
    func graph() throws -> Graph {
        let g = manifest.graph
        var largestPlaceholder = 0
        for (name, constant) in g.initializers where constant.section == nil {
            largestPlaceholder = max(largestPlaceholder, try elementCount(constant.shape, "initializer \(name)"))
        }
        let zeros = try MappedFile(zeroFilledBytes: largestPlaceholder * MemoryLayout<Float>.stride)
        var initializers = [String: ConstantTensor]()
        for (name, constant) in g.initializers {
            initializers[name] = try self.constant(constant, "initializer \(name)", zeros: zeros)
        }
        var nodes = [GraphNode]()
        for node in g.nodes {
            var attributes = [String: AttributeValue]()
            for (key, a) in node.attributes { attributes[key] = try attribute(a, "attribute \(key) of node \(node.name)", zeros: zeros) }
            nodes.append(GraphNode(name: node.name, opType: node.opType, domain: node.domain, inputs: node.inputs, outputs: node.outputs,
                                   attributes: attributes))
        }
        return Graph(name: g.name, nodes: nodes, initializers: initializers, inputs: g.inputs.map(value), outputs: g.outputs.map(value),
                     opsetVersion: g.opsetVersion)
    }

    private func constant(_ c: PackedConstant, _ what: String, zeros: MappedFile) throws -> ConstantTensor {
        let count = try elementCount(c.shape, what)
        let type = ElementType(onnxCode: c.elementType)
        guard let section = c.section else {
            guard type == .float else { throw error("\(what) has no data") }
            guard count > 0, let base = zeros.base else { return .float(Tensor(zeros: c.shape)) }
            return .float(Tensor(shape: c.shape, storage: AlignedBuffer(borrowing: base.assumingMemoryBound(to: Float.self), count: count, owner: zeros)))
        }
        if type == .float {
            return .float(Tensor(shape: c.shape, storage: try buffer(section, what, count: count)))
        }
        guard type.isInteger else { throw error("\(what) has element type \(type)") }
        let start = try range(section, .i64, what)
        try check(section, count, what)
        let values = Array(UnsafeBufferPointer(start: start?.assumingMemoryBound(to: Int64.self), count: count))
        return .integer(shape: c.shape, values: values, type: type)
    }

    private func attribute(_ a: PackedAttribute, _ what: String, zeros: MappedFile) throws -> AttributeValue {
        switch a.kind {
        case "int": if let v = a.int { return .int(v) }
        case "float": if let v = a.float { return .float(v) }
        case "string": if let v = a.string { return .string(v) }
        case "ints": if let v = a.ints { return .ints(v) }
        case "floats": if let v = a.floats { return .floats(v) }
        case "strings": if let v = a.strings { return .strings(v) }
        case "tensor": if let t = a.tensor { return .tensor(try constant(t, what, zeros: zeros)) }
        case "unsupported": return .unsupported(kind: a.string ?? "?")
        default: break
        }
        throw error("\(what) is malformed (kind '\(a.kind)')")
    }

    private func value(_ v: PackedValue) -> GraphValue {
        GraphValue(name: v.name, elementType: ElementType(onnxCode: v.elementType), dimensions: v.dimensions?.map { d in
            if let fixed = d.fixed { return .fixed(fixed) }
            if let symbol = d.symbol { return .symbolic(symbol) }
            return .unknown
        })
    }

    // MARK: - Layers

    /// The mask switch of a masked variant (nil for other formats).
    func maskSelection() throws -> MaskSelection? {
        guard let levels = manifest.maskLevels else { return nil }
        do { return try MaskSelection(levelCount: levels, initialLevel: manifest.maskInitialLevel ?? levels - 1) } catch {
            throw self.error("mask levels: \(error)")
        }
    }

    /// The weight layers in execution order, every array borrowed from the mapping.
    func layers(selection: MaskSelection?) throws -> (layers: [WeightLayerRecord], mappedBytes: Int) {
        var mapped = 0
        var records = [WeightLayerRecord]()
        for layer in manifest.layers {
            let what = "layer \(layer.node)"
            var record = WeightLayerRecord(
                node: layer.node, op: layer.op,
                descriptions: layer.descriptions.map {
                    WeightLayerDescription(nodeName: layer.node, opType: layer.op, kernelShape: $0.kernelShape, groupIndex: $0.groupIndex,
                                           groupCount: $0.groupCount, layerIndex: $0.layerIndex)
                },
                matrices: [])
            for matrix in layer.matrices {
                let m = try self.matrix(matrix, what, selection: selection)
                mapped += m.storedBytes
                record.matrices.append(m)
            }
            if let bias = layer.bias {
                let values = try floats(bias, "\(what) bias")
                switch (layer.op, layer.biasKind) {
                case ("Conv", _): record.convBias = Array(values)
                case (_, "perFeature"?): record.linearBias = .perFeature(Array(values))
                case (_, "full"?):
                    let shape = layer.biasShape ?? []
                    let count = try elementCount(shape, "\(what) bias")
                    record.linearBias = .full(Tensor(shape: shape, storage: try buffer(bias, "\(what) bias", count: count)))
                default: throw error("\(what) has a bias of unknown kind")
                }
            }
            if let direct = layer.depthwiseWeights {
                let shape = layer.depthwiseShape ?? []
                let count = try elementCount(shape, "\(what) depthwise weights")
                record.depthwiseWeights = Tensor(shape: shape, storage: try buffer(direct, "\(what) depthwise weights", count: count))
                mapped += count * MemoryLayout<Float>.stride
            }
            records.append(record)
        }
        return (records, mapped)
    }

    private func matrix(_ m: PackedMatrix, _ what: String, selection: MaskSelection?) throws -> any WeightMatrix {
        guard m.rows >= 0, m.columns >= 0, !m.rows.multipliedReportingOverflow(by: m.columns).overflow,
              m.rows * m.columns <= maximumTensorElements
        else { throw error("\(what) has an invalid \(m.rows)x\(m.columns) matrix") }
        func section(_ name: String) throws -> PackedSection {
            guard let s = m.sections[name] else { throw error("\(what) lacks its \(name) section") }
            return s
        }
        do {
            switch m.kind {
            case .dense:
                let values = try buffer(section("values"), "\(what) values", count: m.rows * m.columns)
                return DenseWeightMatrix(rows: m.rows, columns: m.columns, values: Tensor(shape: [m.rows, m.columns], storage: values))
            case .packedDense:
                guard PackedDenseWeightMatrix.isSupported, manifest.panelRows == packedPanelRowsForTiling,
                      manifest.reductionBlock == PackedDenseWeightMatrix.reductionBlock
                else {
                    throw Self.error(path, "dense panels laid out for \(manifest.architecture) (\(manifest.panelRows)-row panels, \(manifest.reductionBlock)-column blocks) cannot run on this CPU (\(PackedHeader.currentArchitecture), packed kernels \(PackedDenseWeightMatrix.isSupported ? "\(packedPanelRowsForTiling)-row" : "unavailable"))",
                                     fix: "re-create it on this machine, or load the ONNX model: " + PackedVariantFile.recreateHint)
                }
                let count = PackedDenseWeightMatrix.storageCount(rows: m.rows, columns: m.columns)
                return PackedDenseWeightMatrix(rows: m.rows, columns: m.columns, storage: try buffer(section("values"), "\(what) panels", count: count))
            case .csr:
                return try CSRWeightMatrix(rows: m.rows, columns: m.columns, offsets: int32s(section("rowOffsets"), "\(what) row offsets"),
                                           indices: int32s(section("columnIndices"), "\(what) column indices"),
                                           values: floats(section("values"), "\(what) values"))
            case .bsr, .ubp:
                let block = try BlockShape(rows: m.blockRows ?? 0, columns: m.blockColumns ?? 0)
                let tables = try BlockBands.tableNames.map { try int32s(section($0), "\(what) \($0)") }
                let bands = try BlockBands(rows: m.rows, columns: m.columns, block: block, tables: tables,
                                           blockValues: floats(section("values"), "\(what) block values"))
                return m.kind == .bsr ? BlockSparseWeightMatrix(bands: bands) : UnalignedBlockWeightMatrix(bands: bands)
            case .masked:
                guard let selection, let masks = m.masks else { throw error("\(what) is masked but the file has no mask levels") }
                let values = try floats(section("values"), "\(what) values", count: m.rows * m.columns)
                return try MaskedWeightMatrix(storage: SharedWeightStorage(rows: m.rows, columns: m.columns, weights: values),
                                              masks: masks, selection: selection)
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw self.error("\(what): \(error)")
        }
    }
}
