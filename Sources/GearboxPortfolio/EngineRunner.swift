// GearboxPortfolio/EngineRunner: the engine-backed `VariantBackend`. Loads each variant's ONNX
// file into an `InferenceModel`, converting Conv/Gemm weights to the variant's format (the file
// holds dense weights with the pruning pattern's zeros), prepares a seeded random input once, and
// runs allocation-free inferences on it.

import Foundation
import GearboxEngine

/// A variant loaded into the engine.
public final class EngineRunner: VariantRunner {
    public let variant: PortfolioManifest.Variant
    public let model: InferenceModel
    public let sharedModelID: String
    public var residentBytes: Int { model.residentBytes }
    public var weightBytes: Int { model.weightBytes }
    public let loadNs: Int

    init(variant: PortfolioManifest.Variant, model: InferenceModel, sharedModelID: String, loadNs: Int) {
        self.variant = variant; self.model = model; self.sharedModelID = sharedModelID; self.loadNs = loadNs
    }

    /// Dense and sparse formats have nothing to switch: each runner owns its model.
    public func activate() throws {}

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

    public init(threads: Int = 1, pinning: (any WorkerPinning)? = nil, formats: WeightFormatRegistry = WeightFormatRegistry(),
                inputSeed: UInt64 = 1) {
        self.threads = threads; self.pinning = pinning; self.formats = formats; self.inputSeed = inputSeed
    }

    public func load(_ variant: PortfolioManifest.Variant, from portfolio: Portfolio) throws -> VariantRunner {
        let path = portfolio.path(of: variant)
        guard variant.format != .masked else {
            // Sharing one weight set between masks needs the engine's masked loading path.
            throw PortfolioError.cannotLoad(
                variant: variant.name, path: path,
                reason: "this build's engine cannot load masked variants with shared weights yet (remove the masked variants or rebuild with the masked format)")
        }
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
        let start = DispatchTime.now().uptimeNanoseconds
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
        let loadNs = Int(DispatchTime.now().uptimeNanoseconds - start)
        return EngineRunner(variant: variant, model: model, sharedModelID: variant.name, loadNs: loadNs)
    }

    public func releaseAll() {}
}
