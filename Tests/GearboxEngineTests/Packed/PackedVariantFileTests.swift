// Tests of packed variant files: for every weight format, ONNX → packed → load gives the ONNX
// load's outputs; the weights of a packed load live in the mapping (not copied); truncated,
// mislabelled and out-of-bounds files are one-line errors naming the file, never a crash.

import Foundation
import GearboxCore
import GearboxTestSupport
import Testing
@testable import GearboxEngine

@Suite struct PackedVariantFileTests {
    /// Holds this test's files; removed when the test ends.
    let scratch = ScratchDirectory("gbpk")

    /// A path for `name` in a fresh folder of this test's scratch directory.
    func temporaryPath(_ name: String) -> String {
        let dir = scratch.file(UUID().uuidString)
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }

    /// A small net with every layer kind a packed file stores: Conv+BN+ReLU (folded), a
    /// depthwise Conv+BN, a grouped Conv, a 1×1 Conv, Gemm with bias, and MatMul.
    static func mixedModel() -> ONNXModelBuilder {
        var b = ONNXModelBuilder(graphName: "mixed")
        var rng = SplitMix64(seed: 11)
        b.addInput("input", shape: [1, 3, 12, 12])
        var x = SyntheticModels.convBNReLU(&b, "input", in: 3, out: 8, kernel: 3, stride: 1, rng: &rng)
        x = b.conv(x, weights: SyntheticModels.heUniform([8, 1, 3, 3], fanIn: 9, rng: &rng), pads: [1, 1, 1, 1], group: 8)
        x = b.batchNormalization(x, scale: SyntheticModels.uniform([8], 0.5...1.5, rng: &rng), bias: SyntheticModels.small([8], rng: &rng),
                                 mean: SyntheticModels.small([8], rng: &rng), variance: SyntheticModels.uniform([8], 0.5...1.5, rng: &rng))
        x = b.conv(x, weights: SyntheticModels.heUniform([8, 4, 3, 3], fanIn: 36, rng: &rng), strides: [2, 2], pads: [1, 1, 1, 1], group: 2)
        x = b.relu(b.conv(x, weights: SyntheticModels.heUniform([16, 8, 1, 1], fanIn: 8, rng: &rng),
                          bias: SyntheticModels.small([16], rng: &rng)))
        x = b.flatten(b.globalAveragePool(x))
        x = b.relu(b.linear(x, weights: SyntheticModels.heUniform([12, 16], fanIn: 16, rng: &rng), bias: SyntheticModels.small([12], rng: &rng)))
        b.addInitializer("mm.weight", SyntheticModels.heUniform([12, 5], fanIn: 12, rng: &rng))
        b.addNode("MatMul", inputs: [x, "mm.weight"], outputs: ["mm.out"], name: "mm")
        b.addOutput("mm.out")
        return b
    }

    /// Writes `data` packed with `options`, loads both ways and compares outputs.
    @discardableResult
    func expectSameOutputs(_ data: Data, _ options: EngineOptions, name: String) throws -> (onnx: InferenceModel, packed: InferenceModel) {
        let path = temporaryPath("\(name).gbpk")
        let summary = try PackedVariantFile.write(onnx: data, source: "\(name).onnx", options: options, to: path)
        #expect(summary.fileBytes > 0)
        #expect(PackedVariantFile.isPacked(path: path))
        let onnx = try InferenceModel(onnx: data, source: name, options: options)
        let packed = try InferenceModel(contentsOf: path)
        #expect(packed.packedFile == path)
        #expect(packed.mappedWeightBytes > 0)
        let expected = try runRandom(onnx, seed: 3), actual = try runRandom(packed, seed: 3)
        #expect(expected.shape == actual.shape)
        #expect(maxRelativeError(actual, expected) <= 1e-5, "\(name): packed output differs from the ONNX load")
        #expect(packed.weightLayers.map(\.matrix.formatName) == onnx.weightLayers.map(\.matrix.formatName))
        return (onnx, packed)
    }

    @Test func denseModelLoadsFromPackedWithSameOutputs() throws {
        try expectSameOutputs(try Self.mixedModel().serializedData(), EngineOptions(), name: "mixed-dense")
        try expectSameOutputs(try SyntheticModels.fashionMNISTCNN(seed: 2).serializedData(), EngineOptions(), name: "cnn-dense")
    }

    @Test func structurallyPrunedDenseModelLoadsFromPacked() throws {
        let narrow = SyntheticModels.resNet(seed: 3, imageSize: 24, widths: [4, 8], blocksPerStage: 1, classes: 10)
        try expectSameOutputs(try narrow.serializedData(), EngineOptions(), name: "resnet-narrow")
        var openBLAS = EngineOptions()
        openBLAS.denseConvolutionKernel = .openBLAS
        try expectSameOutputs(try narrow.serializedData(), openBLAS, name: "resnet-openblas")
    }

    @Test(arguments: ["csr", "bsr", "ubp"])
    func prunedFormatLoadsFromPackedWithSameOutputs(format: String) throws {
        let block = try BlockShape(rows: 2, columns: 4)
        let request = VariantConversion.Request(format: .ubp, block: block, sparsity: 0.7)
        let (pruned, _) = try VariantConversion(request: request).convert(
            onnx: try SyntheticModels.fashionMNISTCNN(seed: 4).serializedData(), source: "cnn.onnx")
        let options = EngineOptions(weightFormat: format, weightBlock: WeightBlockShape(rows: 2, columns: 4), weightFormats: .prunedFormats)
        let (_, packed) = try expectSameOutputs(pruned, options, name: "cnn-\(format)")
        #expect(packed.weightLayers.contains { $0.matrix.formatName == format })
    }

    @Test func maskedModelKeepsEveryMaskLevel() throws {
        let data = try SyntheticModels.fashionMNISTCNN(seed: 5).serializedData()
        let selection = try MaskSelection(levelCount: 2, initialLevel: 1)
        var options = EngineOptions(weightFormat: "masked")
        options.weightFormats.register(try MaskedFormatFactory(selection: selection, fractions: [0.5, 1]))
        let path = temporaryPath("masked.gbpk")
        try PackedVariantFile.write(onnx: data, source: "cnn.onnx", options: options, maskFractions: [0.5, 1], to: path)
        let onnx = try InferenceModel(onnx: data, source: "cnn", options: options)
        let packed = try InferenceModel(contentsOf: path)
        let packedSelection = try #require(packed.maskSelection)
        #expect(packedSelection.levelCount == 2)
        #expect(packed.maskFractions == [0.5, 1])
        for level in [0, 1] {
            try selection.select(level: level)
            try packedSelection.select(level: level)
            #expect(maxRelativeError(try runRandom(packed, seed: 9), try runRandom(onnx, seed: 9)) <= 1e-5)
        }
    }

    @Test func packedWeightsAreMappedNotCopied() throws {
        let request = VariantConversion.Request(format: .csr, sparsity: 0.5)
        let data = try SyntheticModels.fashionMNISTCNN(seed: 6).serializedData()
        let (pruned, _) = try VariantConversion(request: request).convert(onnx: data, source: "cnn.onnx")
        for (name, options) in [("dense", EngineOptions()), ("csr", EngineOptions(weightFormat: "csr", weightFormats: .prunedFormats))] {
            let path = temporaryPath("\(name).gbpk")
            try PackedVariantFile.write(onnx: name == "dense" ? data : pruned, source: "cnn.onnx", options: options, to: path)
            let onnx = try InferenceModel(onnx: name == "dense" ? data : pruned, source: "cnn", options: options)
            let packed = try InferenceModel(contentsOf: path)
            for layer in packed.weightLayers {
                switch layer.matrix {
                case let m as PackedDenseWeightMatrix: #expect(m.storage.isMapped)
                case let m as DenseWeightMatrix: #expect(m.storage.isMapped)
                case let m as CSRWeightMatrix: #expect(m.valueArray.isMapped && m.indexArray.isMapped && m.offsetArray.isMapped)
                default: Issue.record("unexpected matrix \(type(of: layer.matrix))")
                }
            }
            #expect(onnx.mappedWeightBytes == 0)
            // Of Gearbox's own weights, only biases and small constants stay on the heap (XNNPACK's
            // packed copies of the layers it runs are heap in both loads).
            let packedOwn = packed.heapWeightBytes - packed.libraryWeightBytes, onnxOwn = onnx.heapWeightBytes - onnx.libraryWeightBytes
            #expect(packedOwn * 20 < onnxOwn, "\(name): \(packedOwn) heap bytes vs \(onnxOwn)")
        }
    }

    @Test func packedFileAskedForAnotherFormatIsAnError() throws {
        let path = temporaryPath("dense.gbpk")
        try PackedVariantFile.write(onnx: try SyntheticModels.fashionMNISTCNN().serializedData(), source: "cnn.onnx", to: path)
        #expect(throws: EngineError.self) { try InferenceModel(contentsOf: path, options: EngineOptions(weightFormat: "csr")) }
    }

    // MARK: - Corrupt files

    func writeDense() throws -> (path: String, bytes: [UInt8]) {
        let path = temporaryPath("cnn.gbpk")
        try PackedVariantFile.write(onnx: try Self.mixedModel().serializedData(), source: "mixed.onnx", to: path)
        return (path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    /// Loading `bytes` must fail with a packed-file error line naming the file.
    func expectPackedError(_ bytes: [UInt8], _ label: String, file path: String) {
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        do {
            _ = try InferenceModel(contentsOf: path)
            Issue.record("\(label): loaded without error")
        } catch let error as EngineError {
            let line = "\(error)"
            #expect(!line.contains("\n"))
            #expect(line.contains(path), "\(label): \(line)")
        } catch {
            Issue.record("\(label): unexpected error \(error)")
        }
    }

    @Test func truncatedPackedFilesAreOneLineErrors() throws {
        let (_, bytes) = try writeDense()
        let path = temporaryPath("truncated.gbpk")
        var offsets = [8, 12, 40, 63, 64, 65, 100, bytes.count - 1, bytes.count - 100, bytes.count / 2]
        for i in 1..<24 { offsets.append(bytes.count * i / 24) }
        for cut in Set(offsets) where cut >= 8 && cut < bytes.count {
            expectPackedError(Array(bytes[..<cut]), "cut at \(cut)", file: path)
        }
    }

    @Test func wrongMagicAndVersionAreRejected() throws {
        let (_, bytes) = try writeDense()
        let path = temporaryPath("bad.gbpk")
        var wrongVersion = bytes
        wrongVersion[8] = 99
        expectPackedError(wrongVersion, "version 99", file: path)
        var swapped = bytes
        swapped[12..<16].reverse()
        expectPackedError(swapped, "byte order", file: path)
        // A wrong magic is not recognised as packed at all: it is read as ONNX and fails there.
        var wrongMagic = bytes
        wrongMagic[0] = UInt8(ascii: "X")
        FileManager.default.createFile(atPath: path, contents: Data(wrongMagic))
        #expect(throws: EngineError.self) { try InferenceModel(contentsOf: path) }
        #expect(throws: EngineError.self) { try PackedVariantReader(path: path) }
    }

    /// Rewrites the manifest of a valid file through `edit` (header updated to match).
    static func rewritingManifest(_ bytes: [UInt8], _ edit: (inout PackedManifest) -> Void) throws -> [UInt8] {
        let offset = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self) })
        var manifest = try JSONDecoder().decode(PackedManifest.self, from: Data(bytes[offset...]))
        edit(&manifest)
        let json = Array(try JSONEncoder().encode(manifest))
        var out = Array(bytes[..<offset]) + json
        withUnsafeBytes(of: UInt64(json.count)) { out.replaceSubrange(24..<32, with: $0) }
        withUnsafeBytes(of: UInt64(out.count)) { out.replaceSubrange(32..<40, with: $0) }
        return out
    }

    @Test func sectionsOutsideTheFileAreRejected() throws {
        let (_, bytes) = try writeDense()
        let path = temporaryPath("sections.gbpk")
        expectPackedError(try Self.rewritingManifest(bytes) { $0.layers[0].matrices[0].sections["values"]?.offset = 1 << 40 },
                          "offset past the end", file: path)
        expectPackedError(try Self.rewritingManifest(bytes) { $0.layers[0].matrices[0].sections["values"]?.count = 1 << 40 },
                          "count past the end", file: path)
        expectPackedError(try Self.rewritingManifest(bytes) { $0.layers[0].matrices[0].sections["values"]?.offset = 72 },
                          "misaligned", file: path)
        expectPackedError(try Self.rewritingManifest(bytes) { $0.layers.removeLast() }, "missing layer", file: path)
        expectPackedError(try Self.rewritingManifest(bytes) { $0.layers[0].matrices[0].rows = 5 }, "wrong shape", file: path)
        expectPackedError(try Self.rewritingManifest(bytes) { $0.schemaVersion = 7 }, "schema", file: path)
    }

    @Test func corruptSparseIndicesAreRejected() throws {
        let request = VariantConversion.Request(format: .csr, sparsity: 0.6)
        let (pruned, _) = try VariantConversion(request: request).convert(
            onnx: try SyntheticModels.fashionMNISTCNN(seed: 8).serializedData(), source: "cnn.onnx")
        let path = temporaryPath("csr.gbpk")
        try PackedVariantFile.write(onnx: pruned, source: "cnn.onnx", options: EngineOptions(weightFormat: "csr", weightFormats: .prunedFormats), to: path)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let offset = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self) })
        let manifest = try JSONDecoder().decode(PackedManifest.self, from: Data(bytes[offset...]))
        let csr = try #require(manifest.layers.flatMap(\.matrices).first { $0.kind == .csr })
        let indices = try #require(csr.sections["columnIndices"])
        // Point the first nonzero's column far outside the matrix.
        withUnsafeBytes(of: Int32(1 << 30)) { bytes.replaceSubrange(indices.offset..<(indices.offset + 4), with: $0) }
        expectPackedError(bytes, "column index", file: temporaryPath("csr-bad.gbpk"))
    }
}
