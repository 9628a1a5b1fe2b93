// GearboxPortfolio/EngineRunner: the engine-backed `VariantBackend`. Loads each variant's ONNX
// file into an `InferenceModel`, converting Conv/Gemm weights to the variant's format (the file
// holds dense weights with the pruning pattern's zeros), prepares a seeded random input once, and
// runs allocation-free inferences on it. Masked variants of one file share ONE loaded model whose
// layers see the shared weights through channel-prefix masks; switching variants selects another
// mask level, moving no weights.

import Foundation
import GearboxCore
import GearboxEngine

/// A variant loaded into the engine.
public final class EngineRunner: VariantRunner {
    public let variant: PortfolioManifest.Variant
    public let model: InferenceModel
    public let sharedModelID: String
    public var residentBytes: Int { model.residentBytes }
    public var weightBytes: Int { model.weightBytes }
    public var mappedWeightBytes: Int { model.mappedWeightBytes }
    public let loadNs: Nanoseconds

    /// For masked variants: the shared model's mask switch and this variant's level.
    let maskSelection: MaskSelection?
    let maskLevel: Int

    init(variant: PortfolioManifest.Variant, model: InferenceModel, sharedModelID: String, loadNs: Nanoseconds,
         maskSelection: MaskSelection? = nil, maskLevel: Int = 0) {
        self.variant = variant; self.model = model; self.sharedModelID = sharedModelID; self.loadNs = loadNs
        self.maskSelection = maskSelection; self.maskLevel = maskLevel
    }

    /// Masked: selects this variant's mask level in the shared model (no weights move). Dense and
    /// sparse formats own their model and have nothing to switch.
    public func activate() throws {
        guard let maskSelection else { return }
        do { try maskSelection.select(level: maskLevel) } catch {
            throw PortfolioError.runFailed(variant: variant.name, reason: "selecting mask level \(maskLevel): \(error)")
        }
    }

    /// One inference on the input prepared at load (`InferenceModel.run()` allocates nothing).
    public func runOnce() throws { model.run() }
}

/// Loads variants into the engine with `threads` workers.
public final class EngineBackend: VariantBackend {
    public let name = "engine"
    public let threads: Int
    public let pinning: (any WorkerPinning)?
    /// The weight formats the engine can convert to; a variant whose format is missing here fails
    /// to load with an error naming it.
    public let formats: WeightFormatRegistry
    /// Seed of the random input every variant runs on.
    public let inputSeed: UInt64

    /// Masked models loaded so far, by file path: later masked variants of the file reuse them.
    private var sharedModels: [String: (model: InferenceModel, selection: MaskSelection, fractions: [Double], loadNs: Nanoseconds)] = [:]

    public init(threads: Int = 1, pinning: (any WorkerPinning)? = nil, formats: WeightFormatRegistry = PrunedFormats.registry,
                inputSeed: UInt64 = 1) {
        self.threads = threads; self.pinning = pinning; self.formats = formats; self.inputSeed = inputSeed
    }

    public func load(_ variant: PortfolioManifest.Variant, from portfolio: Portfolio) throws -> VariantRunner {
        let path = portfolio.path(of: variant)
        if variant.format == .masked { return try loadMasked(variant, from: portfolio) }
        guard variant.format == .dense || formats.factory(named: variant.format.rawValue) != nil else {
            throw PortfolioError.cannotLoad(
                variant: variant.name, path: path,
                reason: "the engine has no '\(variant.format.rawValue)' weight format (formats available: \(formats.formatNames.joined(separator: ", ")))")
        }
        var block: WeightBlockShape?
        if let text = variant.block {
            guard let parsed = WeightBlockShape(parsing: text) else {
                throw PortfolioError.cannotLoad(variant: variant.name, path: path, reason: "block '\(text)' is not RxC (e.g. 4x4)")
            }
            block = parsed
        }
        let options = EngineOptions(
            threads: threads, pinning: pinning, weightFormat: variant.format.rawValue, weightBlock: block, weightFormats: formats)
        let (model, loadNs) = try loadModel(variant, path: path, options: options)
        return EngineRunner(variant: variant, model: model, sharedModelID: variant.name, loadNs: loadNs)
    }

    public func releaseAll() { sharedModels.removeAll() }

    public func release(fileOf variant: PortfolioManifest.Variant, in portfolio: Portfolio) {
        sharedModels[portfolio.path(of: variant)] = nil
    }

    /// A masked variant: its `mask` (the kept channel fraction) is one level of the file's shared
    /// model, whose levels are the masks of every masked variant of the portfolio on that file.
    private func loadMasked(_ variant: PortfolioManifest.Variant, from portfolio: Portfolio) throws -> VariantRunner {
        let path = portfolio.path(of: variant)
        guard let fraction = Self.maskFraction(variant) else {
            throw PortfolioError.cannotLoad(
                variant: variant.name, path: path,
                reason: "masked variant needs 'mask' as the kept channel fraction in (0, 1] (e.g. \"0.5\"), found \(variant.mask.map { "'\($0)'" } ?? "none")")
        }
        if let shared = sharedModels[path], let level = shared.fractions.firstIndex(of: fraction) {
            return EngineRunner(variant: variant, model: shared.model, sharedModelID: path, loadNs: .zero,
                                maskSelection: shared.selection, maskLevel: level)
        }
        if PackedVariantFile.isPacked(path: path) { return try loadPackedMasked(variant, path: path, fraction: fraction) }
        let fractions = Set(portfolio.variants.filter { $0.format == .masked && portfolio.path(of: $0) == path }
            .compactMap(Self.maskFraction)).union([fraction]).sorted()
        let selection: MaskSelection
        do { selection = try MaskSelection(levelCount: fractions.count, initialLevel: fractions.count - 1) } catch {
            throw PortfolioError.cannotLoad(variant: variant.name, path: path, reason: "\(error)")
        }
        var registry = formats
        registry.register(ChannelMaskFactory(fractions: fractions, selection: selection))
        let options = EngineOptions(threads: threads, pinning: pinning, weightFormat: "masked", weightFormats: registry)
        let (model, loadNs) = try loadModel(variant, path: path, options: options)
        sharedModels[path] = (model, selection, fractions, loadNs)
        let level = fractions.firstIndex(of: fraction) ?? fractions.count - 1
        return EngineRunner(variant: variant, model: model, sharedModelID: path, loadNs: loadNs,
                            maskSelection: selection, maskLevel: level)
    }

    /// A masked variant in a packed file: the file carries its mask levels and their fractions;
    /// the variant's fraction must be one of them.
    private func loadPackedMasked(_ variant: PortfolioManifest.Variant, path: String, fraction: Double) throws -> VariantRunner {
        let options = EngineOptions(threads: threads, pinning: pinning, weightFormat: "masked")
        let (model, loadNs) = try loadModel(variant, path: path, options: options)
        guard let selection = model.maskSelection, let fractions = model.maskFractions, let level = fractions.firstIndex(of: fraction) else {
            throw PortfolioError.cannotLoad(
                variant: variant.name, path: path,
                reason: "the packed file's mask levels \(model.maskFractions.map { "\($0)" } ?? "(none recorded)") do not include mask \(fraction); re-pack with gearbox variant convert --format masked --masks including it")
        }
        sharedModels[path] = (model, selection, fractions, loadNs)
        return EngineRunner(variant: variant, model: model, sharedModelID: path, loadNs: loadNs, maskSelection: selection, maskLevel: level)
    }

    static func maskFraction(_ variant: PortfolioManifest.Variant) -> Double? {
        guard let text = variant.mask, let value = Double(text), value > 0, value <= 1 else { return nil }
        return value
    }

    private func loadModel(_ variant: PortfolioManifest.Variant, path: String, options: EngineOptions) throws -> (InferenceModel, Nanoseconds) {
        let start = MonotonicClock.nowNs()
        let model: InferenceModel
        do { model = try InferenceModel(contentsOf: path, options: options) } catch {
            throw PortfolioError.cannotLoad(variant: variant.name, path: path, reason: "\(error)")
        }
        do {
            for (index, input) in model.inputs.enumerated() {
                try model.setInput(input.name, Tensor.random(shape: input.shape, seed: inputSeed &+ UInt64(index)))
            }
        } catch {
            throw PortfolioError.cannotLoad(variant: variant.name, path: path, reason: "preparing the input: \(error)")
        }
        return (model, MonotonicClock.elapsed(since: start))
    }
}

extension Portfolio {
    /// Loads every variant into the engine once, checks its interface against the portfolio's
    /// task (an input named `task.inputName` of shape `task.inputShape`, a first output of
    /// `task.classes` values) and runs one inference, so that an empty, random or truncated file
    /// whose hash the manifest matches fails before anything is measured or simulated.
    ///
    /// - Throws: `PortfolioError.cannotLoad` naming the variant and its file.
    public func checkEveryVariantRuns(threads: Int = 1) throws {
        let backend = EngineBackend(threads: threads)
        defer { backend.releaseAll() }
        for variant in variants {
            let runner = try backend.load(variant, from: self)
            guard let engine = runner as? EngineRunner else { continue }
            if let problem = Self.interfaceProblem(inputs: engine.model.inputs, outputs: engine.model.outputs, task: manifest.task) {
                throw PortfolioError.cannotLoad(variant: variant.name, path: path(of: variant), reason: problem)
            }
            try runner.activate()
            try runner.runOnce()
        }
    }

    /// What is wrong with a model's inputs and outputs for `task`, or nil: the one interface rule
    /// for profiling, `portfolio check` and `portfolio add` (an input named and shaped as the task
    /// says; a first output of `task.classes` values).
    public static func interfaceProblem(inputs: [TensorDescription], outputs: [TensorDescription], task: PortfolioManifest.Task) -> String? {
        let expected = "\(task.inputName) [\(task.inputShape.map(String.init).joined(separator: "x"))]"
        guard let input = inputs.first(where: { $0.name == task.inputName }) else {
            return "the model has inputs \(inputs.isEmpty ? "(none)" : inputs.map(\.description).joined(separator: ", ")), the portfolio's task needs \(expected)"
        }
        guard input.shape == task.inputShape else {
            return "its input is \(input), the portfolio's task says \(expected)"
        }
        guard let output = outputs.first else { return "the model has no output" }
        guard output.elementCount == task.classes else {
            return "its output \(output) has \(output.elementCount) values, the portfolio's task has \(task.classes) classes"
        }
        return nil
    }
}
