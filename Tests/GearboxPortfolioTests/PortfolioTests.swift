import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxPortfolio

/// A portfolio with small fake variant files and their hashes, written into `scratch`; returns
/// its directory (`scratch.path`).
func makePortfolioDirectory(
    in scratch: ScratchDirectory,
    variants: [(name: String, format: PortfolioManifest.Format, file: String)] = [
        ("w100", .dense, "w100.onnx"), ("w050", .dense, "w050.onnx"),
        ("m75", .masked, "shared.onnx"), ("m50", .masked, "shared.onnx"),
    ],
    hashes: Bool = true
) throws -> String {
    let dir = scratch.path
    var entries: [PortfolioManifest.Variant] = []
    for v in variants {
        let path = dir + "/" + v.file
        if !FileManager.default.fileExists(atPath: path) {
            try Data("weights of \(v.file)".utf8).write(to: URL(fileURLWithPath: path))
        }
        entries.append(PortfolioManifest.Variant(
            name: v.name, file: v.file, format: v.format, method: "synthetic", sparsity: 0.5, params: 1000, macs: 100_000,
            accuracy: nil, accuracySource: "synthetic: random weights",
            sha256: hashes ? try FileDigest.sha256Hex(ofFileAt: path) : nil))
    }
    let manifest = PortfolioManifest(
        name: "test",
        task: .init(dataset: "none", inputName: "x", inputShape: [1, 1, 28, 28], classes: 10,
                    preprocess: .init(scale: 1.0 / 255, mean: 0.5, std: 0.5)),
        variants: entries)
    try JSONFile.write(manifest, to: dir + "/portfolio.json")
    return dir
}

@Test func openingAValidPortfolioChecksEveryFileAndHash() throws {
    let scratch = ScratchDirectory("portfolio")
    let dir = try makePortfolioDirectory(in: scratch)
    let portfolio = try Portfolio.open(directory: dir)
    #expect(portfolio.variants.map(\.name) == ["w100", "w050", "m75", "m50"])
    #expect(portfolio.path(of: portfolio.variants[0]) == dir + "/w100.onnx")
}

@Test func aMissingVariantFileIsNamedWithItsVariant() throws {
    let scratch = ScratchDirectory("portfolio")
    let dir = try makePortfolioDirectory(in: scratch)
    try FileManager.default.removeItem(atPath: dir + "/w050.onnx")
    #expect(throws: PortfolioError.missingFile(variant: "w050", path: dir + "/w050.onnx")) {
        try Portfolio.open(directory: dir)
    }
}

@Test func aChangedFileFailsItsHashCheck() throws {
    let scratch = ScratchDirectory("portfolio")
    let dir = try makePortfolioDirectory(in: scratch)
    try Data("tampered".utf8).write(to: URL(fileURLWithPath: dir + "/w100.onnx"))
    do {
        _ = try Portfolio.open(directory: dir)
        Issue.record("expected a hash mismatch")
    } catch let error as PortfolioError {
        guard case let .hashMismatch(variant, path, _, _) = error else { Issue.record("wrong error \(error)"); return }
        #expect(variant == "w100")
        #expect(path.hasSuffix("w100.onnx"))
        #expect(!error.description.contains("\n"))
    }
    // Without hash verification the same portfolio opens.
    _ = try Portfolio.open(directory: dir, verifyHashes: false)
}

@Test func aTruncatedManifestIsOneLineNamingTheFile() throws {
    let scratch = ScratchDirectory("portfolio")
    let dir = try makePortfolioDirectory(in: scratch)
    let path = dir + "/portfolio.json"
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
    do {
        _ = try Portfolio.open(directory: dir)
        Issue.record("expected an error")
    } catch let error as PortfolioError {
        #expect(error.description.contains(path))
        #expect(!error.description.contains("\n"))
    }
}

@Test func aMissingManifestNamesThePath() throws {
    let scratch = ScratchDirectory("empty")
    let dir = scratch.path
    #expect(throws: PortfolioError.manifest(path: dir + "/portfolio.json", reason: "no such file or not readable")) {
        try Portfolio.open(directory: dir)
    }
}

@Test func duplicateVariantNamesAreRejected() throws {
    let scratch = ScratchDirectory("portfolio")
    let dir = try makePortfolioDirectory(in: scratch, variants: [("a", .dense, "a.onnx"), ("a", .dense, "b.onnx")])
    #expect(throws: FileFormatError.invalidValue(
        path: dir + "/portfolio.json", keyPath: "variants[1].name", value: "'a'", allowed: "names must be unique (variants[0] has it too)")) {
        try Portfolio.open(directory: dir)
    }
}

@Test func maskedVariantsOfOneFileShareOneLoadedModel() throws {
    let scratch = ScratchDirectory("portfolio")
    let dir = try makePortfolioDirectory(in: scratch)
    let backend = SpinBackend { _ in 0 }
    let portfolio = try Portfolio.open(directory: dir, checkLoadingWith: backend)
    let fresh = SpinBackend { _ in 0 }
    let runners = try portfolio.variants.map { try fresh.load($0, from: portfolio) }
    #expect(fresh.modelsLoaded == 3)  // w100, w050 and one shared model for m75 + m50
    #expect(runners[2].sharedModelID == runners[3].sharedModelID)
    #expect(runners[0].sharedModelID != runners[1].sharedModelID)
}

@Test func aSpinRunnerCountsItsCalls() throws {
    let variant = PortfolioManifest.Variant(
        name: "v", file: "v.onnx", format: .dense, method: "synthetic", sparsity: 0, params: 1, macs: 1, accuracy: nil,
        accuracySource: nil)
    let runner = SpinRunner(variant: variant, spinNs: 1000)
    try runner.activate()
    for _ in 0..<3 { try runner.runOnce() }
    #expect(runner.activations == 1)
    #expect(runner.runs == 3)
}

@Test func fileDigestMatchesAKnownVector() throws {
    #expect(FileDigest.sha256Hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
}

@Test func formatNamesSortInDeclarationOrderWithUnknownNamesLast() {
    #expect(PortfolioManifest.Format.sortedNames(["masked", "zeta", "csr", "dense", "csr", "alpha"])
        == ["dense", "csr", "masked", "alpha", "zeta"])
}
