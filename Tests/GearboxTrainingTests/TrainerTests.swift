// Tests for Trainer: the warm-up and cosine learning-rate schedule, how many iterations an epoch
// has, one SGD step's arithmetic (momentum, weight decay on weights only, masks re-applied), and
// that training is deterministic for a seed and lowers the loss on data it can fit.

import Foundation
import GearboxTestSupport
import Testing
@testable import GearboxTraining

@Suite struct TrainerTests {
    /// `n` 28×28 images whose class is written into their brightness, so a small CNN can fit them.
    static func separableData(_ n: Int, seed: UInt64) -> ImageDataset {
        var random = SeededRandom(seed: seed)
        var images: [UInt8] = []
        var labels: [UInt8] = []
        for _ in 0..<n {
            let label = UInt8(random.next() % 2)
            labels.append(label)
            images += (0..<784).map { _ in UInt8(Int(label) * 160 + Int(random.next() % 64)) }
        }
        return ImageDataset(images: images, labels: labels, height: 28, width: 28, classes: 10)
    }

    @Test func theLearningRateWarmsUpLinearlyThenFollowsACosineToZero() {
        let schedule = TrainingSchedule(epochs: 1, learningRate: 0.1, warmupIterations: 10)
        #expect(abs(schedule.learningRate(at: 0, of: 110) - 0.01) < 1e-6)
        #expect(abs(schedule.learningRate(at: 9, of: 110) - 0.1) < 1e-6)
        #expect(abs(schedule.learningRate(at: 10, of: 110) - 0.1) < 1e-6)
        #expect(abs(schedule.learningRate(at: 60, of: 110) - 0.05) < 1e-6)
        #expect(schedule.learningRate(at: 110, of: 110) < 1e-6)
        // Past the end it stays at zero instead of rising again.
        #expect(schedule.learningRate(at: 200, of: 110) < 1e-6)
    }

    @Test func anEpochDropsItsLastPartialBatchAndHonoursExamplesPerEpoch() {
        let network = ModelKind.cnn.make(seed: 1, widthScale: 0.25)
        let full = Trainer(network: network, schedule: TrainingSchedule(epochs: 1, batchSize: 64), seed: 1)
        #expect(full.iterationsPerEpoch(1000) == 15)
        #expect(full.iterationsPerEpoch(10) == 1)
        let capped = Trainer(network: network, schedule: TrainingSchedule(epochs: 1, batchSize: 64, examplesPerEpoch: 256), seed: 1)
        #expect(capped.iterationsPerEpoch(1000) == 4)
    }

    @Test func aStepAppliesMomentumAndDecaysWeightsOnlyThenKeepsPrunedWeightsAtZero() throws {
        let network = ModelKind.cnn.make(seed: 2, widthScale: 0.25)
        let weight = try #require(network.parameters.first { $0.role == .weight })
        let bias = try #require(network.parameters.first { $0.role != .weight })
        weight.mask = weight.value.indices.map { $0 % 2 == 0 ? 1 : 0 }
        let (w0, b0) = (weight.value, bias.value)
        for parameter in network.parameters {
            parameter.grad = [Float](repeating: 0.5, count: parameter.grad.count)
            parameter.velocity = [Float](repeating: 0.25, count: parameter.velocity.count)
        }
        let schedule = TrainingSchedule(epochs: 1, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        Trainer(network: network, schedule: schedule, seed: 1).step(learningRate: 0.1)

        // v = μ·v + g + λ·w, w -= lr·v; a bias has no decay.
        let expectedWeight = 0.9 * 0.25 + 0.5 + 0.01 * w0[0]
        #expect(abs(weight.velocity[0] - expectedWeight) < 1e-6)
        #expect(abs(weight.value[0] - (w0[0] - 0.1 * expectedWeight)) < 1e-6)
        #expect(abs(bias.value[0] - (b0[0] - 0.1 * (0.9 * 0.25 + 0.5))) < 1e-6)
        #expect(weight.value.indices.filter { $0 % 2 == 1 }.allSatisfy { weight.value[$0] == 0 && weight.velocity[$0] == 0 })
        #expect(network.parameters.allSatisfy { $0.grad.allSatisfy { $0 == 0 } })
    }

    @Test func trainingIsDeterministicForASeedAndLowersTheLoss() {
        let data = Self.separableData(128, seed: 5)
        let schedule = TrainingSchedule(epochs: 3, batchSize: 32, learningRate: 0.05, warmupIterations: 2)
        func trained() -> (weights: [Float], losses: [Float]) {
            var trainer = Trainer(network: ModelKind.cnn.make(seed: 7, widthScale: 0.25), schedule: schedule, seed: 11)
            var losses: [Float] = []
            var iterations = 0
            trainer.train(on: data, afterIteration: { iterations = $0 }, progress: { losses.append($0.loss) })
            #expect(iterations == 12)
            return (trainer.network.parameters.flatMap(\.value), losses)
        }
        let first = trained()
        let second = trained()
        #expect(first.weights == second.weights)
        #expect(first.losses == second.losses)
        #expect(first.losses.count == 3)
        #expect((first.losses.last ?? .infinity) < (first.losses.first ?? 0), "\(first.losses)")
    }
}
