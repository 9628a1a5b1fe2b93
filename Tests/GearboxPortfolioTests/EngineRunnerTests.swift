// Tests for EngineRunner, EngineBackend and the interface checks in EngineRunner.swift: dense and
// sparse variants get a model of their own in their format, masked variants of one file share one
// model with one level per mask fraction (levels sorted by fraction), release drops shared models,
// the input seed decides the input, and each refusal (unknown format, bad block, bad mask, missing
// file, impossible mask level, wrong interface) is one error naming the variant.

import Foundation
import GearboxCore
import GearboxTestSupport
import Testing
@testable import GearboxEngine
@testable import GearboxPortfolio

@Suite struct EngineRunnerTests {
    let scratch = ScratchDirectory("engine-runner")

    func tiny() throws -> Portfolio { try synthesizeTiny(in: scratch) }

    func engineRunner(_ backend: EngineBackend, _ name: String, in portfolio: Portfolio) throws -> EngineRunner {
        let variant = try #require(portfolio.variant(named: name))
        return try #require(try backend.load(variant, from: portfolio) as? EngineRunner)
    }

    /// The `cannotLoad` error `body` throws, or nil (recording an issue).
    func loadError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> (variant: String, path: String, reason: String)? {
        do {
            try body()
            Issue.record("loaded without error", sourceLocation: sourceLocation)
        } catch let PortfolioError.cannotLoad(variant, path, reason) {
            return (variant, path, reason)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    static let sparseFormats: Set<String> = ["csr", "bsr", "ubp", "masked"]

    // MARK: - Dense and sparse

    @Test func aDenseVariantGetsADenseModelOfItsOwn() throws {
        let portfolio = try tiny()
        let backend = EngineBackend()
        let runner = try engineRunner(backend, "dense-w8", in: portfolio)
        #expect(runner.variant.name == "dense-w8")
        #expect(runner.sharedModelID == "dense-w8")
        #expect(runner.maskSelection == nil)
        #expect(!runner.model.weightLayers.isEmpty)
        #expect(runner.model.weightLayers.allSatisfy { !Self.sparseFormats.contains($0.matrix.formatName) })
        #expect(runner.weightBytes == runner.model.weightBytes && runner.residentBytes == runner.model.residentBytes)
        #expect(runner.mappedWeightBytes == 0, "an ONNX file is read, not mapped")
        try runner.activate() // nothing to switch
        try runner.runOnce()
        // A second load of the same dense variant is a new model: only masked models are shared.
        let again = try engineRunner(backend, "dense-w8", in: portfolio)
        #expect(again.model !== runner.model)
    }

    @Test(arguments: ["csr", "bsr", "ubp"])
    func aSparseVariantIsConvertedToItsFormat(format: String) throws {
        let portfolio = try tiny()
        let variant = try #require(portfolio.variants.first { $0.format.rawValue == format })
        let runner = try #require(try EngineBackend().load(variant, from: portfolio) as? EngineRunner)
        #expect(runner.sharedModelID == variant.name)
        #expect(runner.maskSelection == nil)
        #expect(runner.model.weightLayers.contains { $0.matrix.formatName == format })
        #expect(!runner.model.weightLayers.contains { $0.matrix.formatName != format && $0.matrix.formatName != "dense" })
        try runner.runOnce()
    }

    @Test func theInputSeedDecidesTheInput() throws {
        let portfolio = try tiny()
        func output(seed: UInt64) throws -> [Float] {
            let runner = try engineRunner(EngineBackend(inputSeed: seed), "dense-w8", in: portfolio)
            try runner.runOnce()
            return runner.model.withOutputBuffer(at: 0) { Array($0) }
        }
        let a = try output(seed: 3), b = try output(seed: 3), c = try output(seed: 4)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func theBackendKeepsItsSettings() {
        let backend = EngineBackend(threads: 2, inputSeed: 9)
        #expect(backend.name == "engine")
        #expect(backend.threads == 2)
        #expect(backend.inputSeed == 9)
        #expect(backend.pinning == nil)
        #expect(backend.formats.formatNames == PrunedFormats.registry.formatNames)
    }

    // MARK: - Masked

    @Test func maskedVariantsOfOneFileShareOneModelWithALevelPerFraction() throws {
        let portfolio = try tiny()
        let backend = EngineBackend()
        let half = try engineRunner(backend, "masked-50-w8", in: portfolio)
        let full = try engineRunner(backend, "masked-100-w8", in: portfolio)
        #expect(half.model === full.model)
        let path = try #require(portfolio.variant(named: "masked-50-w8").map(portfolio.path(of:)))
        #expect(half.sharedModelID == path && full.sharedModelID == path)
        let selection = try #require(half.maskSelection)
        #expect(full.maskSelection === selection)
        #expect(selection.levelCount == 2)
        // Levels in ascending fraction: 0.50 → 0, 1.00 → 1.
        #expect(half.maskLevel == 0 && full.maskLevel == 1)
        #expect(full.loadNs == .zero, "the second mask reuses the loaded model")
        try half.activate()
        #expect(selection.level == 0)
        try full.activate()
        #expect(selection.level == 1)
        try half.activate()
        #expect(selection.level == 0)
    }

    @Test func theFirstMaskLoadedAlreadyHasEveryLevelOfItsFile() throws {
        let portfolio = try tiny()
        let full = try engineRunner(EngineBackend(), "masked-100-w8", in: portfolio)
        let selection = try #require(full.maskSelection)
        #expect(selection.levelCount == 2)
        #expect(full.maskLevel == 1)
        // The model starts at the last (widest) level.
        #expect(selection.level == 1)
    }

    @Test func releasingDropsTheSharedModel() throws {
        let portfolio = try tiny()
        let backend = EngineBackend()
        let first = try engineRunner(backend, "masked-50-w8", in: portfolio)
        backend.releaseAll()
        let second = try engineRunner(backend, "masked-50-w8", in: portfolio)
        #expect(second.model !== first.model)
        let variant = try #require(portfolio.variant(named: "masked-100-w8"))
        backend.release(fileOf: variant, in: portfolio)
        let third = try engineRunner(backend, "masked-100-w8", in: portfolio)
        #expect(third.model !== second.model)
        // Without a release the next mask is served from the shared model again.
        let fourth = try engineRunner(backend, "masked-50-w8", in: portfolio)
        #expect(fourth.model === third.model)
    }

    @Test func aMaskNotAmongTheFilesLevelsLoadsAModelWithItAdded() throws {
        let portfolio = try tiny()
        let backend = EngineBackend()
        let half = try engineRunner(backend, "masked-50-w8", in: portfolio)
        var quarter = try #require(portfolio.variant(named: "masked-50-w8"))
        quarter.name = "masked-25-w8"
        quarter.mask = "0.25"
        let runner = try #require(try backend.load(quarter, from: portfolio) as? EngineRunner)
        #expect(runner.model !== half.model)
        // Fractions {0.25, 0.5, 1}: 0.25 is the lowest level.
        #expect(runner.maskSelection?.levelCount == 3)
        #expect(runner.maskLevel == 0)
        try runner.activate()
        try runner.runOnce()
    }

    @Test func selectingALevelTheModelLacksIsARunFailure() throws {
        let portfolio = try tiny()
        let loaded = try engineRunner(EngineBackend(), "masked-50-w8", in: portfolio)
        let selection = try MaskSelection(levelCount: 2)
        let runner = EngineRunner(variant: loaded.variant, model: loaded.model, sharedModelID: "x", loadNs: .zero,
                                  maskSelection: selection, maskLevel: 5)
        do {
            try runner.activate()
            Issue.record("selected level 5 of 2")
        } catch let PortfolioError.runFailed(variant, reason) {
            #expect(variant == "masked-50-w8")
            #expect(reason.hasPrefix("selecting mask level 5: "))
        }
        #expect(selection.level == 0, "a refused selection leaves the level as it was")
    }

    @Test(arguments: [("0.5", 0.5), ("1", 1.0), ("1.00", 1.0), ("0.001", 0.001)])
    func maskFractionsInTheUnitIntervalAreAccepted(text: String, value: Double) throws {
        var variant = try #require(try tiny().variant(named: "masked-50-w8"))
        variant.mask = text
        #expect(EngineBackend.maskFraction(variant) == value)
    }

    @Test(arguments: [nil, "", "0", "-0.5", "1.01", "2", "half", "nan", "inf"] as [String?])
    func maskFractionsOutsideTheUnitIntervalAreRefused(text: String?) throws {
        let portfolio = try tiny()
        var variant = try #require(portfolio.variant(named: "masked-50-w8"))
        variant.mask = text
        #expect(EngineBackend.maskFraction(variant) == nil)
        let error = try #require(loadError { _ = try EngineBackend().load(variant, from: portfolio) })
        #expect(error.variant == "masked-50-w8")
        #expect(error.path == portfolio.path(of: variant))
        let found = text.map { "'\($0)'" } ?? "none"
        #expect(error.reason == "masked variant needs 'mask' as the kept channel fraction in (0, 1] (e.g. \"0.5\"), found \(found)")
    }

    // MARK: - Refusals

    @Test func aFormatTheEngineLacksIsNamedWithTheFormatsItHas() throws {
        let portfolio = try tiny()
        let variant = try #require(portfolio.variants.first { $0.format == .csr })
        let backend = EngineBackend(formats: WeightFormatRegistry())
        let error = try #require(loadError { _ = try backend.load(variant, from: portfolio) })
        #expect(error.variant == variant.name)
        #expect(error.path == portfolio.path(of: variant))
        #expect(error.reason == "the engine has no 'csr' weight format (formats available: dense)")
        // Dense needs no registered format.
        let dense = try #require(portfolio.variant(named: "dense-w8"))
        #expect(throws: Never.self) { try backend.load(dense, from: portfolio) }
    }

    @Test(arguments: ["4by4", "x4", "4x", "0x4", "4x4x4", ""])
    func aBlockThatIsNotRowsByColumnsIsRefused(block: String) throws {
        let portfolio = try tiny()
        var variant = try #require(portfolio.variants.first { $0.format == .bsr })
        variant.block = block
        let error = try #require(loadError { _ = try EngineBackend().load(variant, from: portfolio) })
        #expect(error.variant == variant.name)
        #expect(error.reason == "block '\(block)' is not RxC (e.g. 4x4)")
    }

    @Test func aMissingFileIsALoadErrorNamingVariantAndPath() throws {
        let portfolio = try tiny()
        var variant = try #require(portfolio.variant(named: "dense-w8"))
        variant.file = "absent.onnx"
        let error = try #require(loadError { _ = try EngineBackend().load(variant, from: portfolio) })
        #expect(error.variant == "dense-w8")
        #expect(error.path.hasSuffix("/absent.onnx"))
        #expect(error.path == portfolio.path(of: variant))
    }

    @Test func aFileThatIsNotAModelIsALoadError() throws {
        let portfolio = try tiny()
        var variant = try #require(portfolio.variant(named: "masked-50-w8"))
        variant.file = "junk.onnx"
        #expect(FileManager.default.createFile(atPath: scratch.file("junk.onnx"), contents: Data("not a model".utf8)))
        let error = try #require(loadError { _ = try EngineBackend().load(variant, from: portfolio) })
        #expect(error.variant == "masked-50-w8")
        #expect(error.path == portfolio.path(of: variant))
        #expect(!error.reason.isEmpty)
    }

    // MARK: - Interface

    static let task = PortfolioManifest.Task(dataset: "none", inputName: "x", inputShape: [1, 1, 28, 28], classes: 10,
                                             preprocess: .init(scale: 1, mean: 0, std: 1))

    @Test func aMatchingInterfaceHasNoProblem() {
        let problem = Portfolio.interfaceProblem(
            inputs: [TensorDescription(name: "other", shape: [1]), TensorDescription(name: "x", shape: [1, 1, 28, 28])],
            outputs: [TensorDescription(name: "y", shape: [1, 10]), TensorDescription(name: "z", shape: [3])], task: Self.task)
        #expect(problem == nil)
    }

    @Test func aMissingInputIsNamedWithTheInputsTheModelHas() {
        #expect(Portfolio.interfaceProblem(inputs: [TensorDescription(name: "a", shape: [1, 3]), TensorDescription(name: "b", shape: [2])],
                                           outputs: [TensorDescription(name: "y", shape: [10])], task: Self.task) ==
            "the model has inputs a [1x3], b [2], the portfolio's task needs x [1x1x28x28]")
        #expect(Portfolio.interfaceProblem(inputs: [], outputs: [], task: Self.task) ==
            "the model has inputs (none), the portfolio's task needs x [1x1x28x28]")
    }

    @Test func anInputOfAnotherShapeIsRefused() {
        #expect(Portfolio.interfaceProblem(inputs: [TensorDescription(name: "x", shape: [1, 28, 28])],
                                           outputs: [TensorDescription(name: "y", shape: [10])], task: Self.task) ==
            "its input is x [1x28x28], the portfolio's task says x [1x1x28x28]")
    }

    @Test func noOutputOrAWrongClassCountIsRefused() {
        let input = [TensorDescription(name: "x", shape: [1, 1, 28, 28])]
        #expect(Portfolio.interfaceProblem(inputs: input, outputs: [], task: Self.task) == "the model has no output")
        // Only the first output counts.
        #expect(Portfolio.interfaceProblem(inputs: input, outputs: [TensorDescription(name: "y", shape: [1, 5]),
                                                                    TensorDescription(name: "z", shape: [10])], task: Self.task) ==
            "its output y [1x5] has 5 values, the portfolio's task has 10 classes")
    }

    @Test func everyVariantOfAGoodPortfolioRuns() throws {
        let portfolio = try tiny()
        #expect(throws: Never.self) { try portfolio.checkEveryVariantRuns() }
    }

    @Test func aTaskTheModelsDoNotFitFailsTheCheckNamingTheFirstVariant() throws {
        let portfolio = try tiny()
        var manifest = portfolio.manifest
        manifest.task.classes = 11
        let edited = Portfolio(directory: portfolio.directory, manifest: manifest)
        let first = try #require(edited.variants.first)
        let error = try #require(loadError { try edited.checkEveryVariantRuns() })
        #expect(error.variant == first.name)
        #expect(error.path == edited.path(of: first))
        #expect(error.reason.hasSuffix("the portfolio's task has 11 classes"))
    }
}
