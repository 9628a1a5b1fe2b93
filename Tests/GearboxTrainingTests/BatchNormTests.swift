// Tests for GearboxTraining/Network/BatchNorm on its own (GradientCheckTests checks it only inside
// a network): the initial parameters and statistics, training forward against hand-worked batch
// statistics, the running-statistics update (unbiased variance, the single-element case),
// inference with running statistics, the zero-input constant, and backward (scale/shift
// gradients, accumulation, the input gradient's invariants and central differences).

import Testing
@testable import GearboxTraining

@Suite struct BatchNormTests {
    static func layer(scale: [Float], shift: [Float], mean: [Float], variance: [Float], epsilon: Float = 0,
                      momentum: Float = 0.1) -> BatchNorm {
        BatchNorm(scale: Parameter(name: "bn.scale", shape: [scale.count], role: .scale, value: scale),
                  shift: Parameter(name: "bn.shift", shape: [shift.count], role: .shift, value: shift),
                  runningMean: mean, runningVariance: variance, epsilon: epsilon, momentum: momentum)
    }

    static func near(_ a: Float, _ b: Double, _ tolerance: Double = 1e-5) -> Bool { abs(Double(a) - b) <= tolerance }

    /// Two channels of (N 2, H 1, W 2): channel 0 holds 1, 2, 3, 4 (mean 2.5, variance 1.25, unbiased 5/3);
    /// channel 1 holds 10, 10, 14, 14 (mean 12, variance 4, unbiased 16/3).
    static let input = TrainingTensor(shape: [2, 2, 1, 2], data: [1, 2, 3, 4, 10, 10, 14, 14])

    @Test func theNamedInitialiserStartsAsTheIdentityWithUnitStatistics() {
        let bn = BatchNorm(name: "stage2.bn", channels: 3)
        #expect(bn.channels == 3)
        #expect(bn.scale.name == "stage2.bn.scale" && bn.scale.role == .scale && bn.scale.value == [1, 1, 1])
        #expect(bn.shift.name == "stage2.bn.shift" && bn.shift.role == .shift && bn.shift.value == [0, 0, 0])
        #expect(bn.runningMean == [0, 0, 0] && bn.runningVariance == [1, 1, 1])
        #expect(bn.epsilon == 1e-5 && bn.momentum == 0.1)
    }

    @Test func trainingForwardNormalisesWithTheBatchStatistics() throws {
        let bn = Self.layer(scale: [2, 0.5], shift: [0.5, -1], mean: [0, 0], variance: [1, 1])
        let (y, cache) = bn.forward(Self.input, training: true)
        #expect(y.shape == Self.input.shape)
        let s0 = 1.25.squareRoot()
        let expected0 = [1.0, 2, 3, 4].map { 2 * ($0 - 2.5) / s0 + 0.5 }
        let expected1 = [10.0, 10, 14, 14].map { 0.5 * ($0 - 12) / 2 - 1 }  // −1.5, −1.5, −0.5, −0.5
        for (a, b) in zip(y.data, expected0 + expected1) { #expect(Self.near(a, b), "\(a) vs \(b)") }
        let saved = try #require(cache)
        #expect(Self.near(saved.inverseStd[0], 1 / s0) && Self.near(saved.inverseStd[1], 0.5))
        for (a, b) in zip(saved.normalized, [1.0, 2, 3, 4].map { ($0 - 2.5) / s0 } + [-1, -1, 1, 1]) {
            #expect(Self.near(a, b))
        }
    }

    @Test func epsilonIsAddedToTheVariance() {
        // Variance 4 with ε 5: the normalised values are (x − 12) / 3.
        let bn = Self.layer(scale: [1], shift: [0], mean: [0], variance: [1], epsilon: 5)
        let y = bn.forward(TrainingTensor(shape: [1, 4, 1, 1], data: [10, 10, 14, 14]), training: true).0
        for (a, b) in zip(y.data, [-2.0 / 3, -2.0 / 3, 2.0 / 3, 2.0 / 3]) { #expect(Self.near(a, b)) }
    }

    @Test func trainingUpdatesTheRunningStatisticsWithUnbiasedVariance() {
        let bn = Self.layer(scale: [1, 1], shift: [0, 0], mean: [1, -2], variance: [2, 0.5], momentum: 0.25)
        _ = bn.forward(Self.input, training: true)
        // mean ← 0.75 · old + 0.25 · batch mean; variance likewise with the unbiased batch variance.
        #expect(Self.near(bn.runningMean[0], 0.75 * 1 + 0.25 * 2.5))
        #expect(Self.near(bn.runningMean[1], 0.75 * -2 + 0.25 * 12))
        #expect(Self.near(bn.runningVariance[0], 0.75 * 2 + 0.25 * 5.0 / 3))
        #expect(Self.near(bn.runningVariance[1], 0.75 * 0.5 + 0.25 * 16.0 / 3))
    }

    @Test func aSingleValuePerChannelHasZeroVarianceAndOutputsTheShift() {
        // m = 1: no Bessel correction (it would divide by zero); x̂ = 0 so y = shift.
        let bn = Self.layer(scale: [3], shift: [0.75], mean: [0], variance: [1], epsilon: 1e-5, momentum: 0.5)
        let y = bn.forward(TrainingTensor(shape: [1, 1, 1, 1], data: [8]), training: true).0
        #expect(y.data == [0.75])
        #expect(Self.near(bn.runningMean[0], 4))
        #expect(Self.near(bn.runningVariance[0], 0.5))
    }

    @Test func inferenceUsesTheRunningStatisticsAndLeavesThemAlone() {
        let bn = Self.layer(scale: [2, -1], shift: [1, 0.25], mean: [3, -1], variance: [4, 0.25], epsilon: 0)
        let (y, cache) = bn.forward(Self.input, training: false)
        #expect(cache == nil)
        // Channel 0: 2 · (x − 3) / 2 + 1 = x − 2; channel 1: −(x + 1) / 0.5 + 0.25.
        let expected = [1.0, 2, 3, 4].map { $0 - 2 } + [10.0, 10, 14, 14].map { -($0 + 1) / 0.5 + 0.25 }
        for (a, b) in zip(y.data, expected) { #expect(Self.near(a, b, 1e-4), "\(a) vs \(b)") }
        #expect(bn.runningMean == [3, -1] && bn.runningVariance == [4, 0.25])
    }

    @Test func theZeroInputConstantIsWhatInferenceGivesAnAllZeroChannel() {
        let bn = Self.layer(scale: [1.5, 2], shift: [0.3, -0.4], mean: [0.5, 0.7], variance: [2, 3], epsilon: 1e-5)
        #expect(Self.near(bn.outputForZeroInput(0), 0.3 - 1.5 * 0.5 / (2 + 1e-5).squareRoot()))
        #expect(Self.near(bn.outputForZeroInput(1), -0.4 - 2 * 0.7 / (3 + 1e-5).squareRoot()))
        let zeros = bn.forward(TrainingTensor(zeros: [2, 3, 1, 1]), training: false).0
        for ch in 0..<2 {
            for j in 0..<3 { #expect(Self.near(zeros.data[ch * 3 + j], Double(bn.outputForZeroInput(ch)))) }
        }
    }

    // MARK: backward

    @Test func backwardGivesScaleAndShiftGradientsAndAccumulatesThem() throws {
        let bn = Self.layer(scale: [2, 0.5], shift: [0.5, -1], mean: [0, 0], variance: [1, 1])
        let (_, cache) = bn.forward(Self.input, training: true)
        let dy = TrainingTensor(shape: Self.input.shape, data: [1, 0, 0, 2, -1, 3, 0.5, 0.5])
        _ = bn.backward(dy: dy, cache: try #require(cache))
        // shift: Σ dy per channel; scale: Σ dy · x̂ (x̂ of channel 1 is −1, −1, 1, 1).
        let s0 = 1.25.squareRoot()
        #expect(Self.near(bn.shift.grad[0], 3) && Self.near(bn.shift.grad[1], 3))
        #expect(Self.near(bn.scale.grad[0], (1 * -1.5 + 2 * 1.5) / s0))
        #expect(Self.near(bn.scale.grad[1], 1 - 3 + 0.5 + 0.5))
        _ = bn.backward(dy: dy, cache: try #require(cache))
        #expect(Self.near(bn.shift.grad[0], 6) && Self.near(bn.scale.grad[1], -2))
    }

    @Test func inputGradientIsOrthogonalToShiftAndScaleOfTheBatch() throws {
        // y depends on x only through x̂, which ignores adding a constant or scaling a channel:
        // per channel, Σ dx = 0 and Σ dx · x̂ = 0 for any dy.
        var random = SeededRandom(seed: 4)
        let x = TrainingTensor(shape: [3, 2, 2, 3], data: (0..<36).map { _ in random.nextNormal() * 2 + 1 })
        let bn = Self.layer(scale: [1.3, -0.7, 2], shift: [0, 1, -1], mean: [0, 0, 0], variance: [1, 1, 1], epsilon: 1e-5)
        let (_, cache) = bn.forward(x, training: true)
        let saved = try #require(cache)
        let dx = bn.backward(dy: TrainingTensor(shape: x.shape, data: (0..<36).map { _ in random.nextNormal() }), cache: saved)
        for ch in 0..<3 {
            let range = (ch * 12)..<((ch + 1) * 12)
            let sum = range.reduce(0.0) { $0 + Double(dx.data[$1]) }
            let dot = range.reduce(0.0) { $0 + Double(dx.data[$1]) * Double(saved.normalized[$1]) }
            #expect(abs(sum) < 1e-4 && abs(dot) < 1e-4, "channel \(ch): Σdx \(sum), Σdx·x̂ \(dot)")
        }
    }

    @Test func inputGradientMatchesCentralDifferences() throws {
        var random = SeededRandom(seed: 9)
        let shape = [2, 3, 1, 2]
        var x = (0..<12).map { _ in random.nextNormal() }
        let r = (0..<12).map { _ in random.nextNormal() }
        func make() -> BatchNorm { Self.layer(scale: [1.5, -0.8], shift: [0.2, 0.1], mean: [0, 0], variance: [1, 1], epsilon: 1e-5) }
        let bn = make()
        let (_, cache) = bn.forward(TrainingTensor(shape: shape, data: x), training: true)
        let dx = bn.backward(dy: TrainingTensor(shape: shape, data: r), cache: try #require(cache))
        // L = Σ y · r with batch statistics, in Double; a fresh layer each time so running stats do not matter.
        func loss(_ input: [Float]) -> Double {
            zip(make().forward(TrainingTensor(shape: shape, data: input), training: true).0.data, r)
                .reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let eps: Float = 1e-3
        var worst = 0.0
        for i in 0..<x.count {
            let saved = x[i]
            x[i] = saved + eps
            let up = loss(x)
            x[i] = saved - eps
            let down = loss(x)
            x[i] = saved
            let numeric = (up - down) / Double(2 * eps)
            worst = max(worst, abs(numeric - Double(dx.data[i])) / max(1, abs(numeric)))
        }
        #expect(worst < 2e-2, "worst mismatch \(worst)")
    }
}
