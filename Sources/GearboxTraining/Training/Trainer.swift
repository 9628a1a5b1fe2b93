// GearboxTraining/Trainer: mini-batch SGD with momentum and weight decay, a learning-rate
// schedule, masks kept applied after every step, seeded shuffling, and in-trainer evaluation.

import Foundation

/// How long and how fast to train.
public struct TrainingSchedule: Codable, Equatable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    /// Linear warm-up over this many iterations, then cosine decay to zero.
    public var warmupIterations: Int
    /// Examples drawn (without replacement, reshuffled each epoch) per epoch; nil uses all.
    public var examplesPerEpoch: Int?

    public init(epochs: Int, batchSize: Int = 64, learningRate: Float = 0.05, momentum: Float = 0.9,
                weightDecay: Float = 5e-4, warmupIterations: Int = 100, examplesPerEpoch: Int? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.warmupIterations = warmupIterations
        self.examplesPerEpoch = examplesPerEpoch
    }

    /// Learning rate at `iteration` of `total`.
    public func learningRate(at iteration: Int, of total: Int) -> Float {
        if iteration < warmupIterations {
            return learningRate * Float(iteration + 1) / Float(warmupIterations)
        }
        let span = max(1, total - warmupIterations)
        let t = Float(iteration - warmupIterations) / Float(span)
        return learningRate * 0.5 * (1 + cos(.pi * min(1, t)))
    }
}

/// One line of training progress.
public struct EpochReport: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var loss: Float
    public var trainAccuracy: Double
    public var seconds: Double
    public var learningRate: Float
}

/// A normalised mini-batch in the trainer's (C, N, H, W) layout.
public struct Batch {
    public var input: TrainingTensor
    public var labels: [Int]

    /// Gathers `indices` from `data`, normalising pixels with Fashion-MNIST's preprocessing.
    public init(_ data: ImageDataset, indices: ArraySlice<Int>) {
        let p = data.pixelsPerImage
        let (scale, mean, std) = (Float(FashionMNIST.preprocess.scale), Float(FashionMNIST.preprocess.mean),
                                  Float(FashionMNIST.preprocess.std))
        var x = [Float](repeating: 0, count: indices.count * p)
        data.images.withUnsafeBufferPointer { src in
            x.withUnsafeMutableBufferPointer { dst in
                for (row, i) in indices.enumerated() {
                    for j in 0..<p { dst[row * p + j] = (Float(src[i * p + j]) * scale - mean) / std }
                }
            }
        }
        input = TrainingTensor(shape: [1, indices.count, data.height, data.width], data: x)
        labels = indices.map { Int(data.labels[$0]) }
    }
}

/// Trains a network with mini-batch SGD; keeps pruned weights at zero.
public struct Trainer {
    public var network: Network
    public var schedule: TrainingSchedule
    public var random: SeededRandom

    public init(network: Network, schedule: TrainingSchedule, seed: UInt64) {
        self.network = network
        self.schedule = schedule
        self.random = SeededRandom(seed: seed)
    }

    /// Iterations per epoch for a data set of `count` examples (last partial batch dropped).
    public func iterationsPerEpoch(_ count: Int) -> Int {
        max(1, min(count, schedule.examplesPerEpoch ?? count) / schedule.batchSize)
    }

    /// Trains for `schedule.epochs` epochs. `afterIteration(globalIteration)` runs after every
    /// optimiser step (used to capture rewind points); `progress` after every epoch.
    public mutating func train(
        on data: ImageDataset,
        afterIteration: (Int) -> Void = { _ in },
        progress: (EpochReport) -> Void = { _ in }
    ) {
        let perEpoch = iterationsPerEpoch(data.count)
        let total = perEpoch * schedule.epochs
        var iteration = 0
        for epoch in 0..<schedule.epochs {
            let start = Date()
            let order = random.permutation(data.count)
            var lossSum: Double = 0
            var correct = 0
            var seen = 0
            var lr: Float = 0
            for b in 0..<perEpoch {
                let slice = order[(b * schedule.batchSize)..<min(data.count, (b + 1) * schedule.batchSize)]
                let batch = Batch(data, indices: slice)
                lr = schedule.learningRate(at: iteration, of: total)
                let (loss, hits) = Self.accumulateGradients(network, batch)
                step(learningRate: lr)
                lossSum += Double(loss) * Double(slice.count)
                correct += hits
                seen += slice.count
                iteration += 1
                afterIteration(iteration)
            }
            progress(EpochReport(epoch: epoch + 1, epochs: schedule.epochs, loss: Float(lossSum / Double(seen)),
                                 trainAccuracy: Double(correct) / Double(seen),
                                 seconds: Date().timeIntervalSince(start), learningRate: lr))
        }
    }

    /// Forward + backward on one batch, adding into the parameters' gradients.
    /// Returns the batch loss and the number of correct predictions.
    @discardableResult
    public static func accumulateGradients(_ network: Network, _ batch: Batch, lossWeight: Float = 1) -> (Float, Int) {
        let pass = network.forward(batch.input, training: true)
        var (loss, grad) = SoftmaxCrossEntropy.lossAndGradient(logits: pass.logits, labels: batch.labels)
        if lossWeight != 1 { for i in 0..<grad.data.count { grad.data[i] *= lossWeight } }
        network.backward(pass, outputGradient: grad)
        let predicted = SoftmaxCrossEntropy.predictions(pass.logits)
        return (loss, zip(predicted, batch.labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) })
    }

    /// One SGD step with momentum and weight decay (weights only), then re-applies masks and
    /// clears gradients.
    public func step(learningRate lr: Float) {
        let mu = schedule.momentum
        for p in network.parameters {
            let decay: Float = p.role == .weight ? schedule.weightDecay : 0
            let mask = p.mask
            p.value.withUnsafeMutableBufferPointer { w in
                p.grad.withUnsafeMutableBufferPointer { g in
                    p.velocity.withUnsafeMutableBufferPointer { v in
                        for i in 0..<w.count {
                            let d = g[i] + decay * w[i]
                            v[i] = mu * v[i] + d
                            w[i] -= lr * v[i]
                            g[i] = 0
                        }
                        if let mask {
                            for i in 0..<w.count where mask[i] == 0 { w[i] = 0; v[i] = 0 }
                        }
                    }
                }
            }
        }
    }
}

/// Accuracy of a network inside the trainer (the portfolio's figures come from the engine).
public enum Evaluation {
    /// Top-1 accuracy on `data`, in inference mode, batched.
    public static func accuracy(_ network: Network, on data: ImageDataset, batchSize: Int = 500) -> Double {
        var correct = 0
        var start = 0
        while start < data.count {
            let end = min(data.count, start + batchSize)
            let batch = Batch(data, indices: Array(start..<end)[...])
            let logits = network.forward(batch.input, training: false).logits
            let predicted = SoftmaxCrossEntropy.predictions(logits)
            correct += zip(predicted, batch.labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
            start = end
        }
        return data.count == 0 ? 0 : Double(correct) / Double(data.count)
    }

    /// Logits for `data` in inference mode, (N, classes) row-major.
    public static func logits(_ network: Network, on data: ImageDataset, batchSize: Int = 500) -> [Float] {
        var out: [Float] = []
        var start = 0
        while start < data.count {
            let end = min(data.count, start + batchSize)
            let batch = Batch(data, indices: Array(start..<end)[...])
            out += network.forward(batch.input, training: false).logits.data
            start = end
        }
        return out
    }
}
