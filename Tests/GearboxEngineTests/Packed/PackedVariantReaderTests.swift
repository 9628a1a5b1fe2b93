// Tests for Packed/PackedVariantReader on files built byte by byte here (header written field by
// field, sections holding known values, a hand-made manifest), so every expected value comes from
// the test and not from the writer: each header and manifest refusal with its own reason, section
// bounds and 64-byte alignment, type and count checks, values borrowed from the mapping, the graph's
// constants and attributes, mask levels, and the layer records with their refusals.
// (PackedVariantFileTests covers round trips through PackedVariantFile.write.)

import Foundation
import GearboxTestSupport
import Testing
@testable import GearboxEngine

@Suite struct PackedVariantReaderTests {
    let scratch = ScratchDirectory("gbpk-reader")

    // MARK: - Building files

    /// A manifest with an empty graph and no layers.
    static func manifest(layers: [PackedLayer] = [], initializers: [String: PackedConstant] = [:], nodes: [PackedNode] = [],
                         maskLevels: Int? = nil, maskInitialLevel: Int? = nil) -> PackedManifest {
        PackedManifest(
            schemaVersion: 1, source: "test.onnx", writer: "test", weightFormat: "dense", weightBlock: nil, fusesOperators: false,
            inputShapes: [:], architecture: "test", panelRows: 0, reductionBlock: 0, maskLevels: maskLevels, maskInitialLevel: maskInitialLevel,
            maskFractions: nil,
            graph: PackedGraph(name: "g", opsetVersion: 13, nodes: nodes, initializers: initializers,
                               inputs: [PackedValue(name: "x", elementType: 1, dimensions: [.init(fixed: 1, symbol: nil), .init(fixed: nil, symbol: "n"),
                                                                                          .init(fixed: nil, symbol: nil)])],
                               outputs: [PackedValue(name: "y", elementType: 1, dimensions: nil)]),
            layers: layers)
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// Header fields, each overridable to make a bad file.
    struct Header {
        var magic: [UInt8] = Array("GBPK\r\n".utf8) + [0x1A, 0x0A]
        var version: UInt32 = 1
        var byteOrder: UInt32 = 0x0A0B_0C0D
        var manifestOffset: UInt64?
        var manifestLength: UInt64?
        var fileLength: UInt64?
    }

    /// A file: 64-byte header, `data` (the data region, starting at offset 64), then the manifest.
    static func file(data: [UInt8], manifestJSON: [UInt8], header: Header = Header()) -> [UInt8] {
        let manifestOffset = 64 + data.count
        var out = header.magic
        out += bytes(header.version)
        out += bytes(header.byteOrder)
        out += bytes(header.manifestOffset ?? UInt64(manifestOffset))
        out += bytes(header.manifestLength ?? UInt64(manifestJSON.count))
        out += bytes(header.fileLength ?? UInt64(manifestOffset + manifestJSON.count))
        out += [UInt8](repeating: 0, count: 64 - out.count)
        return out + data + manifestJSON
    }

    static func file(data: [UInt8], manifest: PackedManifest, header: Header = Header()) throws -> [UInt8] {
        file(data: data, manifestJSON: Array(try JSONEncoder().encode(manifest)), header: header)
    }

    /// Writes `bytes` to a new file (a fresh name each time: a reader may still map an earlier one).
    func write(_ bytes: [UInt8], _ name: String = UUID().uuidString + ".gbpk") -> String {
        let path = scratch.file(name)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    /// 128 bytes of data: three floats at 64 (file offset), four int32s at 128.
    static let floatValues: [Float] = [1.5, -2, 3.25]
    static let intValues: [Int32] = [7, -1, 0, 1 << 20]
    static var sampleData: [UInt8] {
        var data = bytes(floatValues)
        data += [UInt8](repeating: 0, count: 64 - data.count)
        data += bytes(intValues)
        return data + [UInt8](repeating: 0, count: 128 - data.count)
    }

    func sampleReader(_ manifest: PackedManifest = PackedVariantReaderTests.manifest()) throws -> PackedVariantReader {
        try PackedVariantReader(path: write(try Self.file(data: Self.sampleData, manifest: manifest)))
    }

    /// The reason of the packed-file error `body` throws (recording an issue for anything else),
    /// after checking the error names `path` when given.
    func reason(path: String? = nil, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            try body()
            Issue.record("no error thrown", sourceLocation: sourceLocation)
        } catch let EngineError.packedFile(errorPath, reason, _) {
            if let path { #expect(errorPath == path, sourceLocation: sourceLocation) }
            return reason
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
        return ""
    }

    /// The reason `PackedVariantReader(path:)` gives for `bytes`.
    func openingReason(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let path = write(bytes, UUID().uuidString + ".gbpk")
        return reason(path: path, { _ = try PackedVariantReader(path: path) }, sourceLocation: sourceLocation)
    }

    // MARK: - Header

    @Test func aWellFormedFileOpensWithItsManifest() throws {
        let json = Array(try JSONEncoder().encode(Self.manifest()))
        let path = write(Self.file(data: Self.sampleData, manifestJSON: json))
        let reader = try PackedVariantReader(path: path)
        #expect(reader.path == path)
        #expect(reader.manifestOffset == 64 + 128)
        #expect(reader.file.byteCount == 64 + 128 + json.count)
        #expect(reader.manifest.source == "test.onnx")
        #expect(reader.manifest.graph.name == "g")
    }

    @Test func aFileWithAnEmptyDataRegionOpens() throws {
        let reader = try PackedVariantReader(path: write(try Self.file(data: [], manifest: Self.manifest())))
        #expect(reader.manifestOffset == 64)
    }

    @Test(arguments: [0, 1, 8, 63])
    func aFileShorterThanTheHeaderIsTruncated(length: Int) throws {
        let full = try Self.file(data: [], manifest: Self.manifest())
        #expect(openingReason(Array(full.prefix(length))) == "truncated: \(length) bytes, shorter than the 64-byte header")
    }

    @Test func aWrongMagicIsNotAPackedFile() throws {
        var header = Header()
        header.magic[3] = UInt8(ascii: "X")
        let reason = openingReason(try Self.file(data: [], manifest: Self.manifest(), header: header))
        #expect(reason.hasPrefix("not a packed variant file (wrong magic"))
    }

    @Test func aMagicWithoutItsLineEndingGuardIsRejected() throws {
        // "GBPK" alone is not enough: the \r\n\u{1A}\n tail catches text-mode transfers.
        var header = Header()
        header.magic[4] = UInt8(ascii: "\n")
        header.magic[5] = 0
        #expect(openingReason(try Self.file(data: [], manifest: Self.manifest(), header: header)).contains("wrong magic"))
    }

    @Test func theOtherByteOrderIsNamedWithAFix() throws {
        var header = Header()
        header.byteOrder = 0x0D0C_0B0A
        let path = write(try Self.file(data: [], manifest: Self.manifest(), header: header))
        do {
            _ = try PackedVariantReader(path: path)
            Issue.record("opened a file of the other byte order")
        } catch let EngineError.packedFile(errorPath, reason, fix) {
            #expect(errorPath == path)
            #expect(reason == "written on a CPU of the other byte order")
            #expect(fix.hasPrefix("re-create it on this machine"))
        }
    }

    @Test func aByteOrderMarkOfNeitherOrderIsACorruptHeader() throws {
        var header = Header()
        header.byteOrder = 0x1234_5678
        #expect(openingReason(try Self.file(data: [], manifest: Self.manifest(), header: header)) == "corrupt header (byte-order mark 305419896)")
    }

    @Test(arguments: [UInt32(0), 2, 99])
    func anotherFormatVersionIsRefused(version: UInt32) throws {
        var header = Header()
        header.version = version
        #expect(openingReason(try Self.file(data: [], manifest: Self.manifest(), header: header)) ==
            "format version \(version), this gearbox reads version 1")
    }

    @Test func aFileLengthFieldThatDisagreesIsTruncatedOrDamaged() throws {
        let good = try Self.file(data: Self.sampleData, manifest: Self.manifest())
        var header = Header()
        header.fileLength = UInt64(good.count + 1)
        #expect(openingReason(try Self.file(data: Self.sampleData, manifest: Self.manifest(), header: header)) ==
            "truncated or damaged: the header says \(good.count + 1) bytes, the file has \(good.count)")
        // Bytes appended after writing: the header's length no longer matches.
        #expect(openingReason(good + [0]) == "truncated or damaged: the header says \(good.count) bytes, the file has \(good.count + 1)")
    }

    @Test func aManifestInsideTheHeaderIsACorruptHeader() throws {
        // Offset 32 with a length that reaches exactly to the end: consistent, but inside the header.
        let json = Array(try JSONEncoder().encode(Self.manifest()))
        let total = 64 + json.count
        var header = Header()
        header.manifestOffset = 32
        header.manifestLength = UInt64(total - 32)
        let reason = openingReason(Self.file(data: [], manifestJSON: json, header: header))
        #expect(reason == "corrupt header (manifest at 32, \(total - 32) bytes, in a \(total)-byte file)")
    }

    @Test func aManifestThatDoesNotEndTheFileIsACorruptHeader() throws {
        let json = Array(try JSONEncoder().encode(Self.manifest()))
        var header = Header()
        header.manifestLength = UInt64(json.count - 1)
        #expect(openingReason(Self.file(data: Self.sampleData, manifestJSON: json, header: header)).hasPrefix("corrupt header (manifest at 192,"))
    }

    @Test func aManifestLongerThanTheFileIsACorruptHeader() throws {
        var header = Header()
        header.manifestLength = UInt64.max
        #expect(openingReason(try Self.file(data: [], manifest: Self.manifest(), header: header)).hasPrefix("corrupt header (manifest at 64,"))
    }

    // MARK: - Manifest

    /// The sample manifest as a JSON object, edited by `edit`, then re-serialised.
    static func editedManifestJSON(_ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        let data = try JSONEncoder().encode(manifest())
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        edit(&object)
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    @Test func aManifestThatIsNotJSONIsCorrupt() {
        #expect(openingReason(Self.file(data: [], manifestJSON: Array("{ not json".utf8))).hasPrefix("corrupt manifest (not JSON"))
    }

    @Test func aManifestMissingAKeyNamesIt() throws {
        let json = try Self.editedManifestJSON { $0["source"] = nil }
        #expect(openingReason(Self.file(data: [], manifestJSON: json)) == "corrupt manifest (missing source)")
    }

    @Test func aManifestValueOfTheWrongTypeNamesItsPath() throws {
        let json = try Self.editedManifestJSON { $0["panelRows"] = "six" }
        #expect(openingReason(Self.file(data: [], manifestJSON: json)) == "corrupt manifest (wrong type at panelRows)")
    }

    @Test func anotherManifestSchemaVersionIsRefused() throws {
        var manifest = Self.manifest()
        manifest.schemaVersion = 2
        #expect(openingReason(try Self.file(data: [], manifest: manifest)) == "manifest schemaVersion 2, this gearbox reads 1")
    }

    @Test func aMissingFileOrADirectoryCannotBeRead() {
        #expect(throws: EngineError.cannotRead(path: scratch.file("absent.gbpk"), reason: "No such file or directory")) {
            try PackedVariantReader(path: scratch.file("absent.gbpk"))
        }
        #expect(throws: EngineError.cannotRead(path: scratch.path, reason: "not a regular file")) {
            try PackedVariantReader(path: scratch.path)
        }
    }

    // MARK: - Sections

    @Test func floatAndIntSectionsReadTheirValuesFromTheMapping() throws {
        let reader = try sampleReader()
        let floats = try reader.floats(PackedSection(offset: 64, count: 3, type: .f32), "w")
        #expect(Array(floats) == Self.floatValues)
        #expect(floats.isMapped)
        #expect(reader.file.contains(floats.baseAddress))
        let ints = try reader.int32s(PackedSection(offset: 128, count: 4, type: .i32), "i")
        #expect(Array(ints) == Self.intValues)
        #expect(ints.isMapped)
        let buffer = try reader.buffer(PackedSection(offset: 64, count: 3, type: .f32), "b", count: 3)
        #expect(Array(buffer.buffer) == Self.floatValues)
        #expect(buffer.isMapped)
    }

    @Test func aSectionMayFillTheDataRegionExactly() throws {
        let reader = try sampleReader()
        let all = try reader.floats(PackedSection(offset: 64, count: 32, type: .f32), "w")
        #expect(all.count == 32)
        #expect(Array(all.prefix(3)) == Self.floatValues)
        #expect(try reader.int32s(PackedSection(offset: 128, count: 16, type: .i32), "i").count == 16)
    }

    @Test func anEmptySectionIsAnEmptyArray() throws {
        let reader = try sampleReader()
        #expect(try reader.floats(PackedSection(offset: 192, count: 0, type: .f32), "w").isEmpty)
        #expect(try reader.buffer(PackedSection(offset: 64, count: 0, type: .f32), "b", count: 0).count == 0)
    }

    @Test(arguments: [
        (64, 33), // one float past the data region, into the manifest
        (128, 17),
        (192, 1), // starts where the manifest starts
        (256, 0), // starts past the manifest
        (0, 1), // inside the header
        (-64, 1),
        (64, -1), // negative count
        (64, Int.max / 2), // count × 4 overflows
        (1 << 40, 1),
    ])
    func sectionsOutsideTheDataRegionAreRefused(offset: Int, count: Int) throws {
        let reader = try sampleReader()
        let section = PackedSection(offset: offset, count: count, type: .f32)
        #expect(reason(path: reader.path) { _ = try reader.floats(section, "weights of conv1") } ==
            "section of weights of conv1 (\(count) × f32 at \(offset)) lies outside the data region")
    }

    @Test(arguments: [65, 96, 100, 132])
    func sectionsNotOn64ByteBoundariesAreRefused(offset: Int) throws {
        let reader = try sampleReader()
        #expect(reason { _ = try reader.int32s(PackedSection(offset: offset, count: 1, type: .i32), "idx") } ==
            "section of idx (1 × i32 at \(offset)) lies outside the data region")
    }

    @Test func aSectionOfTheWrongElementTypeIsRefused() throws {
        let reader = try sampleReader()
        #expect(reason { _ = try reader.floats(PackedSection(offset: 128, count: 4, type: .i32), "w") } == "w is i32, expected f32")
        #expect(reason { _ = try reader.int32s(PackedSection(offset: 64, count: 3, type: .f32), "o") } == "o is f32, expected i32")
        #expect(reason { _ = try reader.buffer(PackedSection(offset: 64, count: 1, type: .i64), "b", count: 1) } == "b is i64, expected f32")
    }

    @Test func aSectionOfTheWrongCountIsRefused() throws {
        let reader = try sampleReader()
        #expect(reason { _ = try reader.floats(PackedSection(offset: 64, count: 3, type: .f32), "bias", count: 4) } ==
            "bias holds 3 values, expected 4")
        #expect(reason { _ = try reader.buffer(PackedSection(offset: 64, count: 3, type: .f32), "w", count: 2) } ==
            "w holds 3 values, expected 2")
    }

    // MARK: - Graph

    @Test func graphRebuildsInterfaceConstantsAndAttributes() throws {
        let initializers: [String: PackedConstant] = [
            "scale": PackedConstant(shape: [3], elementType: 1, section: PackedSection(offset: 64, count: 3, type: .f32)),
            "weight": PackedConstant(shape: [2, 4], elementType: 1, section: nil),
            "axes": PackedConstant(shape: [2], elementType: 7, section: PackedSection(offset: 128, count: 2, type: .i64)),
        ]
        let attributes: [String: PackedAttribute] = [
            "axis": PackedAttribute(kind: "int", int: 3),
            "alpha": PackedAttribute(kind: "float", float: 0.5),
            "mode": PackedAttribute(kind: "string", string: "constant"),
            "pads": PackedAttribute(kind: "ints", ints: [1, 2]),
            "graph": PackedAttribute(kind: "unsupported", string: "GRAPH"),
        ]
        let node = PackedNode(name: "n", opType: "Pad", domain: "", inputs: ["x"], outputs: ["y"], attributes: attributes)
        let reader = try sampleReader(Self.manifest(initializers: initializers, nodes: [node]))
        let graph = try reader.graph()
        #expect(graph.name == "g")
        #expect(graph.opsetVersion == 13)
        #expect(graph.inputs.map(\.name) == ["x"])
        #expect(graph.inputs.first?.elementType == .float)
        #expect(graph.inputs.first?.dimensions == [.fixed(1), .symbolic("n"), .unknown])
        #expect(graph.outputs.first?.dimensions == nil)

        guard case let .float(scale)? = graph.initializers["scale"] else { Issue.record("scale is not float"); return }
        #expect(scale.shape == [3] && scale.scalars == Self.floatValues)
        guard case let .float(weight)? = graph.initializers["weight"] else { Issue.record("weight is not float"); return }
        #expect(weight.shape == [2, 4] && weight.scalars == [Float](repeating: 0, count: 8))
        guard case let .integer(shape, values, type)? = graph.initializers["axes"] else { Issue.record("axes is not integer"); return }
        // The int32 bytes 7, -1 read as two little-endian int64s.
        let expected = Self.bytes(Self.intValues).withUnsafeBytes { raw in
            (0..<2).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
        }
        #expect(shape == [2] && type == .int64 && values == expected)

        let attrs = try #require(graph.nodes.first?.attributes)
        guard case .int(3)? = attrs["axis"], case .float(0.5)? = attrs["alpha"], case .string("constant")? = attrs["mode"],
              case .ints([1, 2])? = attrs["pads"], case .unsupported(kind: "GRAPH")? = attrs["graph"]
        else { Issue.record("attributes \(attrs)"); return }
    }

    @Test func anInitializerWithAnInvalidShapeIsRefused() throws {
        let reader = try sampleReader(Self.manifest(initializers: ["w": PackedConstant(shape: [2, -1], elementType: 1, section: nil)]))
        #expect(reason { _ = try reader.graph() } == "initializer w has an invalid shape [2, -1]")
        let huge = try sampleReader(Self.manifest(initializers: ["w": PackedConstant(shape: [1 << 40, 1 << 40], elementType: 1, section: nil)]))
        #expect(reason { _ = try huge.graph() } == "initializer w has an invalid shape [1099511627776, 1099511627776]")
    }

    @Test func aNonFloatInitializerWithoutDataIsRefused() throws {
        let reader = try sampleReader(Self.manifest(initializers: ["k": PackedConstant(shape: [2], elementType: 7, section: nil)]))
        #expect(reason { _ = try reader.graph() } == "initializer k has no data")
    }

    @Test func anInitializerOfANonNumericTypeIsRefused() throws {
        let section = PackedSection(offset: 64, count: 1, type: .i64)
        let reader = try sampleReader(Self.manifest(initializers: ["s": PackedConstant(shape: [1], elementType: 8, section: section)]))
        #expect(reason { _ = try reader.graph() } == "initializer s has element type string")
    }

    @Test func anInitializerSectionThatDisagreesWithItsShapeIsRefused() throws {
        let section = PackedSection(offset: 64, count: 3, type: .f32)
        let reader = try sampleReader(Self.manifest(initializers: ["w": PackedConstant(shape: [2, 2], elementType: 1, section: section)]))
        #expect(reason { _ = try reader.graph() } == "initializer w holds 3 values, expected 4")
    }

    @Test func anInt64SectionIsBoundedByEightByteElements() throws {
        // 16 int64s (128 bytes) fill the data region exactly; 17 do not, though 17 float32s would.
        let fits = try sampleReader(Self.manifest(initializers: [
            "k": PackedConstant(shape: [16], elementType: 7, section: PackedSection(offset: 64, count: 16, type: .i64)),
        ]))
        #expect(throws: Never.self) { try fits.graph() }
        let over = try sampleReader(Self.manifest(initializers: [
            "k": PackedConstant(shape: [17], elementType: 7, section: PackedSection(offset: 64, count: 17, type: .i64)),
        ]))
        #expect(reason { _ = try over.graph() } == "section of initializer k (17 × i64 at 64) lies outside the data region")
    }

    @Test(arguments: ["int", "float", "string", "ints", "floats", "strings", "tensor", "graph"])
    func anAttributeWithoutTheValueOfItsKindIsMalformed(kind: String) throws {
        let node = PackedNode(name: "n", opType: "Relu", domain: "", inputs: [], outputs: [], attributes: ["a": PackedAttribute(kind: kind)])
        let reader = try sampleReader(Self.manifest(nodes: [node]))
        #expect(reason { _ = try reader.graph() } == "attribute a of node n is malformed (kind '\(kind)')")
    }

    // MARK: - Mask levels

    @Test func maskSelectionFollowsTheManifest() throws {
        #expect(try sampleReader().maskSelection() == nil)
        let defaulted = try #require(try sampleReader(Self.manifest(maskLevels: 3)).maskSelection())
        #expect(defaulted.levelCount == 3 && defaulted.level == 2)
        let chosen = try #require(try sampleReader(Self.manifest(maskLevels: 3, maskInitialLevel: 0)).maskSelection())
        #expect(chosen.level == 0)
    }

    @Test func impossibleMaskLevelsAreRefused() throws {
        #expect(reason { _ = try sampleReader(Self.manifest(maskLevels: 2, maskInitialLevel: 2)).maskSelection() }.hasPrefix("mask levels: "))
        #expect(reason { _ = try sampleReader(Self.manifest(maskLevels: 0)).maskSelection() }.hasPrefix("mask levels: "))
    }

    // MARK: - Layers

    static func denseLayer(op: String = "Gemm", rows: Int = 2, columns: Int = 3, values: PackedSection? = PackedSection(offset: 64, count: 6, type: .f32),
                           bias: PackedSection? = nil, biasKind: String? = nil, biasShape: [Int]? = nil) -> PackedLayer {
        PackedLayer(node: "fc", op: op, descriptions: [PackedLayerDescription(kernelShape: [1, 1], groupIndex: 0, groupCount: 1, layerIndex: 4)],
                    matrices: [PackedMatrix(kind: .dense, rows: rows, columns: columns, sections: values.map { ["values": $0] } ?? [:])],
                    bias: bias, biasKind: biasKind, biasShape: biasShape)
    }

    @Test func aDenseLayerIsBorrowedAndCounted() throws {
        let layer = Self.denseLayer(bias: PackedSection(offset: 64, count: 2, type: .f32), biasKind: "perFeature")
        let reader = try sampleReader(Self.manifest(layers: [layer]))
        let (records, mapped) = try reader.layers(selection: nil)
        #expect(mapped == 6 * 4)
        let record = try #require(records.first)
        #expect(records.count == 1)
        #expect(record.node == "fc" && record.op == "Gemm")
        #expect(record.descriptions.map(\.layerIndex) == [4])
        #expect(record.descriptions.first?.nodeName == "fc")
        let matrix = try #require(record.matrices.first as? DenseWeightMatrix)
        #expect(matrix.rows == 2 && matrix.columns == 3)
        #expect(matrix.storage.isMapped)
        #expect(Array(matrix.storage.buffer.prefix(3)) == Self.floatValues)
        guard case let .perFeature(bias) = record.linearBias else { Issue.record("bias \(record.linearBias)"); return }
        #expect(bias == [1.5, -2])
    }

    @Test func convBiasAndFullGemmBias() throws {
        let conv = Self.denseLayer(op: "Conv", bias: PackedSection(offset: 64, count: 3, type: .f32))
        let convRecord = try #require(try sampleReader(Self.manifest(layers: [conv])).layers(selection: nil).layers.first)
        #expect(convRecord.convBias == Self.floatValues)

        let full = Self.denseLayer(bias: PackedSection(offset: 64, count: 6, type: .f32), biasKind: "full", biasShape: [2, 3])
        let fullRecord = try #require(try sampleReader(Self.manifest(layers: [full])).layers(selection: nil).layers.first)
        guard case let .full(tensor) = fullRecord.linearBias else { Issue.record("bias \(fullRecord.linearBias)"); return }
        #expect(tensor.shape == [2, 3])
        #expect(Array(tensor.scalars.prefix(3)) == Self.floatValues)

        let wrongShape = Self.denseLayer(bias: PackedSection(offset: 64, count: 6, type: .f32), biasKind: "full", biasShape: [4])
        #expect(reason { _ = try sampleReader(Self.manifest(layers: [wrongShape])).layers(selection: nil) } == "layer fc bias holds 6 values, expected 4")
    }

    @Test func aGemmBiasOfUnknownKindIsRefused() throws {
        let layer = Self.denseLayer(bias: PackedSection(offset: 128, count: 2, type: .f32), biasKind: "diagonal")
        #expect(reason { _ = try sampleReader(Self.manifest(layers: [layer])).layers(selection: nil) } == "layer fc has a bias of unknown kind")
    }

    @Test func depthwiseWeightsAreBorrowedAndCounted() throws {
        var layer = Self.denseLayer(op: "Conv")
        layer.depthwiseWeights = PackedSection(offset: 64, count: 4, type: .f32)
        layer.depthwiseShape = [1, 1, 2, 2]
        let (records, mapped) = try sampleReader(Self.manifest(layers: [layer])).layers(selection: nil)
        #expect(mapped == 6 * 4 + 4 * 4)
        let weights = try #require(records.first?.depthwiseWeights)
        #expect(weights.shape == [1, 1, 2, 2])
        #expect(weights.scalars == Self.floatValues + [0])
    }

    @Test func aMatrixWithoutItsValuesSectionIsRefused() throws {
        let layer = Self.denseLayer(values: nil)
        #expect(reason { _ = try sampleReader(Self.manifest(layers: [layer])).layers(selection: nil) } == "layer fc lacks its values section")
    }

    @Test(arguments: [(-1, 3), (2, -3), (Int.max, 2), (1 << 20, 1 << 20)])
    func aMatrixOfImpossibleShapeIsRefused(rows: Int, columns: Int) throws {
        let layer = Self.denseLayer(rows: rows, columns: columns)
        #expect(reason { _ = try sampleReader(Self.manifest(layers: [layer])).layers(selection: nil) } ==
            "layer fc has an invalid \(rows)x\(columns) matrix")
    }

    @Test func aDenseMatrixWhoseValuesDisagreeWithItsShapeIsRefused() throws {
        let layer = Self.denseLayer(rows: 2, columns: 2)
        #expect(reason { _ = try sampleReader(Self.manifest(layers: [layer])).layers(selection: nil) } == "layer fc values holds 6 values, expected 4")
    }

    @Test func aMaskedMatrixWithoutMaskLevelsIsRefused() throws {
        var layer = Self.denseLayer()
        layer.matrices[0].kind = .masked
        #expect(reason { _ = try sampleReader(Self.manifest(layers: [layer])).layers(selection: nil) } ==
            "layer fc is masked but the file has no mask levels")
    }

    @Test func aCSRMatrixReadsItsThreeSections() throws {
        // 2×3 with nonzeros (0,1)=1.5 and (1,2)=-2: offsets [0,1,2], columns [1,2].
        // Data region offsets 0, 64, 128 are file offsets 64, 128, 192.
        var data = Self.bytes([Float(1.5), -2])
        data += [UInt8](repeating: 0, count: 64 - data.count)
        data += Self.bytes([Int32(0), 1, 2])
        data += [UInt8](repeating: 0, count: 128 - data.count)
        data += Self.bytes([Int32(1), 2])
        data += [UInt8](repeating: 0, count: 192 - data.count)
        let sections = ["values": PackedSection(offset: 64, count: 2, type: .f32), "rowOffsets": PackedSection(offset: 128, count: 3, type: .i32),
                        "columnIndices": PackedSection(offset: 192, count: 2, type: .i32)]
        let layer = PackedLayer(node: "fc", op: "Gemm", descriptions: [],
                                matrices: [PackedMatrix(kind: .csr, rows: 2, columns: 3, sections: sections)])
        let reader = try PackedVariantReader(path: write(try Self.file(data: data, manifest: Self.manifest(layers: [layer]))))
        let csr = try #require(try reader.layers(selection: nil).layers.first?.matrices.first as? CSRWeightMatrix)
        #expect(Array(csr.valueArray) == [1.5, -2])
        #expect(Array(csr.offsetArray) == [0, 1, 2])
        #expect(Array(csr.indexArray) == [1, 2])

        // A column index outside the matrix is refused, naming the layer.
        var bad = data
        bad.replaceSubrange(128..<132, with: Self.bytes(Int32(3)))
        let badReader = try PackedVariantReader(path: write(try Self.file(data: bad, manifest: Self.manifest(layers: [layer]))))
        #expect(reason(path: badReader.path) { _ = try badReader.layers(selection: nil) }.hasPrefix("layer fc: "))
    }
}
