// GearboxTraining/BuildContext: shared state of one portfolio build: the data, the plan, the
// progress log, and checkpoints. Every expensive step (a training run, an IMP round) is saved
// under the work directory when it finishes, keyed by the settings that produced it, so a killed
// build resumes where it stopped and `--method all` trains the shared dense baseline once.

import Foundation
import GearboxCore

/// One build's data, plan, log and checkpoint store.
public final class BuildContext {
    public let options: PortfolioBuildOptions
    public let plan: BuildPlan
    public let train: ImageDataset
    public let test: ImageDataset
    let log: (String) -> Void
    let startTime = Date()

    public init(options: PortfolioBuildOptions, log: @escaping (String) -> Void) throws {
        self.options = options
        self.plan = options.plan ?? BuildPlan.make(quick: options.quick, model: options.model)
        self.log = log
        let trainAll = try FashionMNIST.load(split: .train, directory: options.dataDirectory)
        let testAll = try FashionMNIST.load(split: .test, directory: options.dataDirectory)
        train = trainAll.prefix(plan.trainExamples)
        test = testAll.prefix(plan.testExamples)
        BLAS.setThreads(options.threads)
        BLAS.keepLargeAllocationsInHeap()
    }

    /// Test-set description for accuracySource strings.
    public var testDescription: String {
        test.count == 10_000 ? "fashion-mnist test set (10000 images)"
            : "fashion-mnist test subset (first \(test.count) images, --quick)"
    }

    /// Settings every checkpoint depends on.
    var baseKey: String {
        "\(options.model.rawValue) seed \(options.seed) n \(plan.trainExamples) width \(plan.widthScale) batch \(plan.batchSize) lr \(plan.learningRate)"
    }

    /// The dense baseline's settings (every method starting from it depends on them).
    var denseKey: String { baseKey + " dense \(plan.denseEpochs) rewind \(plan.rewindIteration)" }

    /// Pruning-phase retraining settings.
    var retrainKey: String { " retrain \(plan.retrainExamples.map(String.init) ?? "all")" }

    var checkpointDirectory: String {
        options.workDirectory + "/" + options.model.rawValue + (options.quick ? "-quick" : "") + "-seed\(options.seed)"
    }

    func checkpointPath(_ step: String) -> String { checkpointDirectory + "/" + step + ".gbck" }

    /// Loads step `name` into `network` when a checkpoint made with the same settings (`key`)
    /// exists; otherwise runs `body` (which trains `network` and returns metadata such as
    /// seconds), then saves it. Returns the metadata either way.
    @discardableResult
    func checkpointed(_ name: String, _ network: Network, key: String,
                      _ body: () throws -> [String: String]) throws -> [String: String] {
        let path = checkpointPath(name)
        let fingerprint = key.hashValueStable
        if options.fresh { try? FileManager.default.removeItem(atPath: path) }
        if FileManager.default.fileExists(atPath: path) {
            let state = try NetworkState.read(from: path)
            if state.metadata["fingerprint"] == fingerprint {
                try state.restore(into: network, path: path)
                log("  resumed \(name) from \(path)")
                return state.metadata
            }
            log("  ignoring \(path): made with other settings")
        }
        var metadata = try body()
        metadata["fingerprint"] = fingerprint
        try NetworkState(of: network, metadata: metadata).write(to: path)
        return metadata
    }

    /// Trains `network` with `schedule`, logging one line per epoch; returns seconds taken.
    func train(_ network: Network, _ schedule: TrainingSchedule, label: String, seed: UInt64,
               afterIteration: (Int) -> Void = { _ in }) -> Double {
        let start = Date()
        var trainer = Trainer(network: network, schedule: schedule, seed: seed)
        trainer.train(on: train, afterIteration: afterIteration) { report in
            self.log(String(format: "  %@ epoch %d/%d  loss %.4f  train acc %.2f%%  lr %.4f  %.1fs",
                            label, report.epoch, report.epochs, report.loss, report.trainAccuracy * 100,
                            report.learningRate, report.seconds))
        }
        return Date().timeIntervalSince(start)
    }

    /// A fresh network of the build's model and width.
    func makeNetwork(seed: UInt64) -> Network {
        options.model.make(seed: seed, widthScale: plan.widthScale)
    }

    /// The dense schedule for the build.
    func schedule(epochs: Int, warmup: Bool = true, learningRate: Float? = nil, retraining: Bool = false) -> TrainingSchedule {
        TrainingSchedule(epochs: epochs, batchSize: plan.batchSize, learningRate: learningRate ?? plan.learningRate,
                         warmupIterations: warmup ? min(100, train.count / plan.batchSize / 2) : 0,
                         examplesPerEpoch: retraining ? plan.retrainExamples : nil)
    }

    /// The dense baseline (shared by methods): trained once, with the DNNShifter rewind point
    /// captured along the way. Returns the network, the rewind snapshot and training seconds.
    func denseBaseline() throws -> (network: Network, rewind: NetworkState, seconds: Double) {
        let network = makeNetwork(seed: options.seed)
        let rewindNetwork = makeNetwork(seed: options.seed)
        var rewind: NetworkState?
        var seconds = 0.0
        // The rewind point is saved first (it is needed whenever the dense model is).
        let rewindPath = checkpointPath("dense-rewind")
        let meta = try checkpointed("dense", network, key: denseKey) {
            log("training the dense \(options.model.rawValue) (\(plan.denseEpochs) epochs on \(train.count) images)")
            seconds = train(network, schedule(epochs: plan.denseEpochs), label: "dense", seed: options.seed) { it in
                if it == self.plan.rewindIteration { rewind = NetworkState(of: network) }
            }
            var r = rewind ?? NetworkState(of: network)
            r.metadata["fingerprint"] = denseKey.hashValueStable
            try r.write(to: rewindPath)
            return ["seconds": String(seconds)]
        }
        seconds = Double(meta["seconds"] ?? "") ?? seconds
        let state = try NetworkState.read(from: rewindPath)
        try state.restore(into: rewindNetwork, path: rewindPath)
        return (network, NetworkState(of: rewindNetwork), seconds)
    }

    /// Seconds since the build started.
    var elapsed: Double { Date().timeIntervalSince(startTime) }
}

extension String {
    /// FNV-1a of the UTF-8 bytes: stable across runs (unlike `hashValue`).
    var hashValueStable: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }
}
