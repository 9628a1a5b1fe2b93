// Tests that a portfolio's variants may be packed variant files (.gbpk): hashes are checked as
// for ONNX files, the engine backend loads them mapped, and masked variants of one packed file
// share one model whose mask levels come from the file.

import Foundation
import GearboxCore
import GearboxEngine
import GearboxTestSupport
import Testing

@testable import GearboxPortfolio

@Test func packedVariantFilesLoadMappedInAPortfolio() throws {
    let scratch = ScratchDirectory("packed-portfolio")
    let dir = scratch.path
    let onnx = try SyntheticModels.fashionMNISTCNN(seed: 7).serializedData()
    try PackedVariantFile.write(onnx: onnx, source: "cnn.onnx", to: dir + "/dense.gbpk")
    let (pruned, _) = try VariantConversion(request: .init(format: .csr, sparsity: 0.7)).convert(onnx: onnx, source: "cnn.onnx")
    try PackedVariantFile.write(onnx: pruned, source: "cnn.csr.onnx",
                                options: EngineOptions(weightFormat: "csr", weightFormats: .prunedFormats), to: dir + "/csr.gbpk")
    try PackedVariantFile.write(onnx: onnx, source: "cnn.onnx", options: try PackedVariantFile.maskedOptions(fractions: [0.5, 1]),
                                maskFractions: [0.5, 1], to: dir + "/masked.gbpk")
    let specs: [(String, PortfolioManifest.Format, String, String?)] = [
        ("dense", .dense, "dense.gbpk", nil), ("csr70", .csr, "csr.gbpk", nil),
        ("m50", .masked, "masked.gbpk", "0.5"), ("m100", .masked, "masked.gbpk", "1"),
    ]
    let variants = try specs.map { name, format, file, mask in
        PortfolioManifest.Variant(name: name, file: file, format: format, method: "test", sparsity: 0, params: 1, macs: 1, accuracy: nil,
                                  accuracySource: nil, sha256: try FileDigest.sha256Hex(ofFileAt: dir + "/" + file), mask: mask)
    }
    let manifest = PortfolioManifest(
        name: "packed", task: .init(dataset: "none", inputName: "input", inputShape: [1, 1, 28, 28], classes: 10,
                                    preprocess: .init(scale: 1, mean: 0, std: 1)),
        variants: variants)
    try JSONFile.write(manifest, to: dir + "/portfolio.json")

    let backend = EngineBackend()
    let portfolio = try Portfolio.open(directory: dir, checkLoadingWith: backend)
    let runners = try portfolio.variants.map { try backend.load($0, from: portfolio) }
    for runner in runners {
        #expect(runner.mappedWeightBytes > 0, "\(runner.variant.name) is not mapped")
        try runner.activate()
        try runner.runOnce()
    }
    #expect(runners[2].sharedModelID == runners[3].sharedModelID)
    // A masked fraction the file does not hold is one error naming the variant.
    let missing = PortfolioManifest.Variant(name: "m25", file: "masked.gbpk", format: .masked, method: "test", sparsity: 0, params: 1,
                                            macs: 1, accuracy: nil, accuracySource: nil, mask: "0.25")
    #expect(throws: PortfolioError.self) { try EngineBackend().load(missing, from: portfolio) }
    // Asking for another format than the file holds is rejected.
    let wrong = PortfolioManifest.Variant(name: "bsr", file: "csr.gbpk", format: .bsr, method: "test", sparsity: 0, params: 1,
                                          macs: 1, accuracy: nil, accuracySource: nil, block: "4x4")
    #expect(throws: PortfolioError.self) { try EngineBackend().load(wrong, from: portfolio) }
}
