// GearboxTraining/BuildOptions: what `gearbox portfolio build` was asked for, and the training
// plan that follows from it (full run, or the tiny `--quick` run CI uses).

import Foundation

/// The four pruning methods Gearbox builds portfolios with.
public enum PruningMethod: String, CaseIterable, Codable, Sendable {
    /// Iterative magnitude pruning with rewinding, then lossless removal of zero channels.
    case dnnshifter
    /// Pruning at initialisation (SNIP), then structured removal of (almost) empty channels.
    case reconvene
    /// Unaligned block pruning (blocks at any offset) against aligned blocks and unstructured.
    case ubp
    /// One weight set with nested channel masks for several ratios, trained jointly.
    case allinone
}

/// Everything the build needs to know.
public struct PortfolioBuildOptions: Sendable {
    public var method: PruningMethod
    public var model: ModelKind
    /// Where portfolio.json and the variant files go.
    public var outputDirectory: String
    /// Where Fashion-MNIST's IDX files are.
    public var dataDirectory: String
    /// Where checkpoints go (shared by methods, so `all` trains the dense baseline once).
    public var workDirectory: String
    /// Tiny model, data subsets and epochs: seconds, for CI.
    public var quick: Bool
    public var seed: UInt64
    /// Discard checkpoints from earlier runs instead of resuming.
    public var fresh: Bool
    /// OpenBLAS threads while training.
    public var threads: Int
    /// Replaces the default plan (experiments); nil uses `BuildPlan.make`.
    public var plan: BuildPlan?

    public init(method: PruningMethod, model: ModelKind = .cnn, outputDirectory: String,
                dataDirectory: String = FashionMNIST.defaultDirectory, workDirectory: String = ".build/portfolio-work",
                quick: Bool = false, seed: UInt64 = 1, fresh: Bool = false, threads: Int = 2, plan: BuildPlan? = nil) {
        self.method = method
        self.model = model
        self.outputDirectory = outputDirectory
        self.dataDirectory = dataDirectory
        self.workDirectory = workDirectory
        self.quick = quick
        self.seed = seed
        self.fresh = fresh
        self.threads = threads
        self.plan = plan
    }

    /// The portfolio directory name used when `--out` is not given, e.g. `fashion-dnnshifter`.
    public static func defaultName(method: PruningMethod, model: ModelKind, quick: Bool) -> String {
        "fashion-\(method.rawValue)" + (model == .cnn ? "" : "-\(model.rawValue)") + (quick ? "-quick" : "")
    }
}

/// Sizes and schedules derived from the options.
public struct BuildPlan: Codable, Equatable, Sendable {
    public var trainExamples: Int
    public var testExamples: Int
    public var widthScale: Double
    public var denseEpochs: Int
    public var batchSize: Int
    public var learningRate: Float
    /// DNNShifter: the iteration whose weights every IMP round rewinds to.
    public var rewindIteration: Int
    /// DNNShifter: pruning rounds (20% of the remaining weights each) and retraining epochs per round.
    public var impRounds: Int
    public var impPruneFraction: Double
    public var impEpochs: Int
    /// Images per retraining epoch in pruning phases (IMP rounds, block fine-tuning); nil: all.
    public var retrainExamples: Int?
    /// DNNShifter: the rounds that become portfolio variants.
    public var impVariantRounds: [Int]
    /// DNNShifter: variants also trained from scratch (by round) to compare generation time.
    public var scratchRounds: [Int]
    /// Reconvene: sparsities pruned at initialisation, and training epochs for each.
    public var reconveneSparsities: [Double]
    public var reconveneEpochs: Int
    /// UBP: densities compared, block shape, pruning steps and fine-tuning epochs per pattern.
    public var blockDensities: [Double]
    public var blockRows: Int
    public var blockColumns: Int
    public var blockSteps: Int
    public var blockEpochs: Int
    /// All-in-One: channel keep ratios and joint training epochs.
    public var allInOneRatios: [Double]
    public var allInOneEpochs: Int
    /// Latency comparisons: timed runs per model after warm-up.
    public var latencyRuns: Int

    public static func make(quick: Bool, model: ModelKind) -> BuildPlan {
        if quick {
            return BuildPlan(
                trainExamples: 512, testExamples: 200, widthScale: 0.25, denseEpochs: 1, batchSize: 32,
                learningRate: 0.05, rewindIteration: 4, impRounds: 3, impPruneFraction: 0.5, impEpochs: 1, retrainExamples: nil,
                impVariantRounds: [1, 3], scratchRounds: [3], reconveneSparsities: [0.5, 0.9], reconveneEpochs: 1,
                blockDensities: [0.5], blockRows: 2, blockColumns: 2, blockSteps: 1, blockEpochs: 1,
                allInOneRatios: [0.5, 1.0], allInOneEpochs: 1, latencyRuns: 5)
        }
        // Sized for a shared 2-core VM: a half-width CNN (8-16-16-32 channels, 2.3 M MACs) and
        // retraining phases on 30 000-image epochs.
        return BuildPlan(
            trainExamples: 60_000, testExamples: 10_000, widthScale: 0.5, denseEpochs: 6, batchSize: 64,
            learningRate: model == .cnn ? 0.05 : 0.1, rewindIteration: 500, impRounds: 20, impPruneFraction: 0.2,
            impEpochs: 2, retrainExamples: 30_000, impVariantRounds: [3, 6, 9, 12, 15, 18, 20], scratchRounds: [20],
            reconveneSparsities: [0.8, 0.9, 0.95], reconveneEpochs: 4,
            blockDensities: [0.25, 0.1], blockRows: 4, blockColumns: 4, blockSteps: 2, blockEpochs: 1,
            allInOneRatios: [0.25, 0.5, 0.75, 1.0], allInOneEpochs: 4, latencyRuns: 300)
    }
}
