import Foundation
import GearboxEngine
import GearboxTestSupport
import Testing

@testable import GearboxPortfolio

/// A small layout so that tests synthesize in well under a second.
let tinyLayout = DefaultPortfolio.Layout(
    widths: [8, 12], prunedWidth: 8,
    sparse: [.init(format: .csr, sparsity: 0.5), .init(format: .bsr, sparsity: 0.5, block: "4x4"),
             .init(format: .ubp, sparsity: 0.5, block: "4x4")],
    maskFractions: [0.5, 1.0], seed: 5)

/// The tiny synthetic portfolio, written into `scratch` and opened.
func synthesizeTiny(in scratch: ScratchDirectory) throws -> Portfolio {
    try DefaultPortfolio.synthesize(into: scratch.path, layout: tinyLayout)
    return try Portfolio.open(directory: scratch.path)
}

@Test func theSyntheticPortfolioIsDeterministic() throws {
    let a = ScratchDirectory("synth"), b = ScratchDirectory("synth"), c = ScratchDirectory("synth")
    let pa = try synthesizeTiny(in: a)
    let pb = try synthesizeTiny(in: b)
    #expect(pa.manifest == pb.manifest)
    for v in pa.variants {
        #expect(try FileDigest.sha256Hex(ofFileAt: a.file(v.file)) == FileDigest.sha256Hex(ofFileAt: b.file(v.file)))
    }
    var other = tinyLayout
    other.seed = 6
    let manifest = try DefaultPortfolio.synthesize(into: c.path, layout: other)
    #expect(manifest.variants.first?.sha256 != pa.variants.first?.sha256)
}

@Test func theSyntheticPortfolioHasEveryFormatAndHonestLabels() throws {
    let scratch = ScratchDirectory("synth")
    let portfolio = try synthesizeTiny(in: scratch)
    let formats = Set(portfolio.variants.map(\.format))
    #expect(formats == [.dense, .csr, .bsr, .ubp, .masked])
    for v in portfolio.variants {
        #expect(v.accuracy == nil)
        #expect(v.accuracySource?.contains("synthetic") == true)
        #expect(v.sha256 != nil)
        #expect(v.macs > 0 && v.params > 0)
    }
    let csr = try #require(portfolio.variants.first { $0.format == .csr })
    #expect(csr.sparsity > 0.3 && csr.sparsity < 0.6)
    let masked = portfolio.variants.filter { $0.format == .masked }
    #expect(Set(masked.map(\.file)).count == 1)
    #expect(masked.map(\.mask) == ["0.50", "1.00"])
}

@Test func everyVariantLoadsAndRunsInTheEngine() throws {
    let scratch = ScratchDirectory("synth")
    let portfolio = try synthesizeTiny(in: scratch)
    let backend = EngineBackend()
    for variant in portfolio.variants {
        let runner = try backend.load(variant, from: portfolio)
        try runner.activate()
        try runner.runOnce()
        #expect(runner.residentBytes >= runner.weightBytes && runner.weightBytes > 0, "\(variant.name)")
    }
}

@Test func maskedVariantsShareOneModelAndMatchTheirStructuredTwin() throws {
    let scratch = ScratchDirectory("synth")
    let portfolio = try synthesizeTiny(in: scratch)
    let backend = EngineBackend()
    let half = try #require(portfolio.variant(named: "masked-50-w8"))
    let full = try #require(portfolio.variant(named: "masked-100-w8"))
    let halfRunner = try #require(try backend.load(half, from: portfolio) as? EngineRunner)
    let fullRunner = try #require(try backend.load(full, from: portfolio) as? EngineRunner)
    // One loaded model: the same object, so no weights were copied for the second mask.
    #expect(halfRunner.model === fullRunner.model)
    #expect(halfRunner.sharedModelID == fullRunner.sharedModelID)

    // The 100% mask runs the shared file unmasked: it must equal dense-w8, the same weights.
    let denseVariant = try #require(portfolio.variant(named: "dense-w8"))
    let dense = try #require(try backend.load(denseVariant, from: portfolio) as? EngineRunner)
    try dense.runOnce()
    let reference = dense.model.withOutputBuffer(at: 0) { Array($0) }
    try fullRunner.activate()
    try fullRunner.runOnce()
    let masked = fullRunner.model.withOutputBuffer(at: 0) { Array($0) }
    #expect(zip(reference, masked).allSatisfy { abs($0 - $1) < 1e-4 })

    // Switching masks changes the result without reloading.
    try halfRunner.activate()
    try halfRunner.runOnce()
    let halfOutput = halfRunner.model.withOutputBuffer(at: 0) { Array($0) }
    #expect(zip(reference, halfOutput).contains { abs($0 - $1) > 1e-4 })
}

@Test func aHalfMaskEqualsTheStructuredSliceOfHalfTheWidth() throws {
    // Width 12 dense is the prefix slice of the same base; a 50% mask over a width-24 file is too.
    let scratch = ScratchDirectory("synth")
    let dir = scratch.path
    let layout = DefaultPortfolio.Layout(widths: [12], prunedWidth: 24, sparse: [], maskFractions: [0.5, 1.0], seed: 5)
    try DefaultPortfolio.synthesize(into: dir, layout: layout)
    let portfolio = try Portfolio.open(directory: dir)
    let backend = EngineBackend()
    let denseVariant = try #require(portfolio.variant(named: "dense-w12"))
    let halfVariant = try #require(portfolio.variant(named: "masked-50-w24"))
    let dense = try #require(try backend.load(denseVariant, from: portfolio) as? EngineRunner)
    let half = try #require(try backend.load(halfVariant, from: portfolio) as? EngineRunner)
    try dense.runOnce()
    try half.activate()
    try half.runOnce()
    let a = dense.model.withOutputBuffer(at: 0) { Array($0) }
    let b = half.model.withOutputBuffer(at: 0) { Array($0) }
    #expect(a.count == b.count)
    #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) }, "\(a) vs \(b)")
    // And the manifest's MACs for the half mask are the slice's.
    #expect(portfolio.variant(named: "masked-50-w24")?.macs == portfolio.variant(named: "dense-w12")?.macs)
}

@Test func aVariantInAnUnknownFormatFailsNamingTheVariant() throws {
    let scratch = ScratchDirectory("synth")
    let portfolio = try synthesizeTiny(in: scratch)
    var manifest = portfolio.manifest
    manifest.variants[0].block = "banana"
    manifest.variants[0].format = .bsr
    let broken = Portfolio(directory: scratch.path, manifest: manifest)
    do {
        _ = try EngineBackend().load(manifest.variants[0], from: broken)
        Issue.record("expected a load error")
    } catch let error as PortfolioError {
        #expect(error.description.contains(manifest.variants[0].name))
        #expect(error.description.contains("banana"))
    }
}
