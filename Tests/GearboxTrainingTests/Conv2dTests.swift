// Tests for GearboxTraining/Network/Conv2d itself (its im2col/col2im lowering has
// Conv2dLoweringTests, and GradientCheckTests checks it inside whole networks): parameter shapes
// and names, outputSize, forward against a direct six-fold loop (strided, padded, pointwise, with
// and without bias), backward's weight, bias and input gradients against direct loops, gradient
// accumulation, needInputGrad, and the input gradient against central differences of one layer.

import Testing
@testable import GearboxTraining

@Suite struct Conv2dTests {
    /// (stride, padding, kernel, h, w): strided, padded, both, and the pointwise shortcut (1, 0, 1).
    static let shapes: [(stride: Int, pad: Int, k: Int, h: Int, w: Int)] = [
        (1, 1, 3, 5, 4), (2, 1, 3, 7, 6), (1, 0, 2, 4, 5), (1, 0, 1, 3, 4), (2, 0, 1, 5, 5), (3, 2, 3, 6, 7),
    ]

    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in random.nextNormal() }
    }

    static func conv(inC: Int, outC: Int, k: Int, stride: Int, pad: Int, bias: Bool, seed: UInt64) -> Conv2d {
        let weight = Parameter(name: "c.weight", shape: [outC, inC, k, k], role: .weight,
                               value: values(outC * inC * k * k, seed: seed))
        let b = bias ? Parameter(name: "c.bias", shape: [outC], role: .bias, value: values(outC, seed: seed + 100)) : nil
        return Conv2d(weight: weight, bias: b, stride: stride, padding: pad)
    }

    static func size(_ input: Int, _ k: Int, _ stride: Int, _ pad: Int) -> Int { (input + 2 * pad - k) / stride + 1 }

    /// The input value at (ci, i, iy, ix) of a (C, N, H, W) tensor, zero in the padding.
    static func at(_ x: [Float], _ ci: Int, _ i: Int, _ iy: Int, _ ix: Int, n: Int, h: Int, w: Int) -> Double {
        guard iy >= 0, iy < h, ix >= 0, ix < w else { return 0 }
        return Double(x[((ci * n + i) * h + iy) * w + ix])
    }

    /// y[m, i, y, x] = b[m] + Σ W[m, ci, kh, kw] · x[ci, i, y·s − p + kh, x·s − p + kw], in Double.
    static func directForward(_ conv: Conv2d, _ x: [Float], c: Int, n: Int, h: Int, w: Int) -> [Double] {
        let (k, s, p, outC) = (conv.kernel, conv.stride, conv.padding, conv.outChannels)
        let oh = size(h, k, s, p), ow = size(w, k, s, p)
        var y = [Double](repeating: 0, count: outC * n * oh * ow)
        for m in 0..<outC { for i in 0..<n { for yo in 0..<oh { for xo in 0..<ow {
            var sum = Double(conv.bias?.value[m] ?? 0)
            for ci in 0..<c { for kh in 0..<k { for kw in 0..<k {
                let weight = Double(conv.weight.value[((m * c + ci) * k + kh) * k + kw])
                sum += weight * at(x, ci, i, yo * s - p + kh, xo * s - p + kw, n: n, h: h, w: w)
            } } }
            y[((m * n + i) * oh + yo) * ow + xo] = sum
        } } } }
        return y
    }

    static func close(_ a: [Float], _ b: [Double], tolerance: Double = 1e-4) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tolerance * max(1, abs($1)) }
    }

    // MARK: construction

    @Test func theSeededInitialiserNamesAndShapesItsParameters() throws {
        var random = SeededRandom(seed: 1)
        let conv = Conv2d(name: "stage1", inChannels: 3, outChannels: 5, kernel: 3, stride: 2, padding: 1, bias: true,
                          random: &random)
        #expect(conv.weight.name == "stage1.weight" && conv.weight.role == .weight)
        #expect(conv.weight.shape == [5, 3, 3, 3] && conv.weight.count == 135)
        let bias = try #require(conv.bias)
        #expect(bias.name == "stage1.bias" && bias.role == .bias && bias.shape == [5])
        #expect(bias.value == [0, 0, 0, 0, 0])
        #expect(conv.inChannels == 3 && conv.outChannels == 5 && conv.kernel == 3 && conv.stride == 2 && conv.padding == 1)
        #expect(conv.columns == 27)
        // Random weights: not all zero, not all equal.
        #expect(Set(conv.weight.value).count > 1)
        var again = SeededRandom(seed: 1)
        let twin = Conv2d(name: "x", inChannels: 3, outChannels: 5, kernel: 3, bias: false, random: &again)
        #expect(twin.weight.value == conv.weight.value, "same seed, same weights")
        #expect(twin.bias == nil && twin.stride == 1 && twin.padding == 0)
    }

    @Test func theParameterInitialiserTakesTheKernelFromTheWeight() {
        let weight = Parameter(name: "w", shape: [4, 2, 5, 5], role: .weight, value: [Float](repeating: 0, count: 200))
        let conv = Conv2d(weight: weight, bias: nil, stride: 3, padding: 2)
        #expect(conv.kernel == 5 && conv.inChannels == 2 && conv.outChannels == 4 && conv.columns == 50)
        #expect(conv.weight === weight)
    }

    @Test func outputSizeFollowsTheConvolutionArithmetic() {
        #expect(Self.conv(inC: 1, outC: 1, k: 3, stride: 1, pad: 1, bias: false, seed: 1).outputSize(28) == 28)
        #expect(Self.conv(inC: 1, outC: 1, k: 3, stride: 2, pad: 1, bias: false, seed: 1).outputSize(7) == 4)
        #expect(Self.conv(inC: 1, outC: 1, k: 3, stride: 1, pad: 0, bias: false, seed: 1).outputSize(5) == 3)
        #expect(Self.conv(inC: 1, outC: 1, k: 2, stride: 2, pad: 0, bias: false, seed: 1).outputSize(5) == 2)
        #expect(Self.conv(inC: 1, outC: 1, k: 1, stride: 1, pad: 0, bias: false, seed: 1).outputSize(6) == 6)
    }

    // MARK: forward

    @Test func forwardMatchesADirectLoop() {
        for (index, (stride, pad, k, h, w)) in Self.shapes.enumerated() {
            for bias in [false, true] {
                let (c, n, outC) = (2, 2, 3)
                let conv = Self.conv(inC: c, outC: outC, k: k, stride: stride, pad: pad, bias: bias, seed: UInt64(index + 1))
                let x = Self.values(c * n * h * w, seed: UInt64(50 + index))
                let (y, columns) = conv.forward(TrainingTensor(shape: [c, n, h, w], data: x))
                let oh = Self.size(h, k, stride, pad), ow = Self.size(w, k, stride, pad)
                #expect(y.shape == [outC, n, oh, ow], "stride \(stride) pad \(pad) k \(k)")
                #expect(Self.close(y.data, Self.directForward(conv, x, c: c, n: n, h: h, w: w)),
                        "stride \(stride) pad \(pad) k \(k) bias \(bias)")
                // The pointwise path keeps no lowered copy; the others keep the K × (N·OH·OW) matrix.
                let pointwise = k == 1 && stride == 1 && pad == 0
                #expect(columns.count == (pointwise ? 0 : c * k * k * n * oh * ow))
            }
        }
    }

    @Test func forwardOfAHandWorkedExample() {
        // One 3×3 image 1…9, a 2×2 kernel [[1, 0], [0, −1]] and bias 0.5: y = x[r][c] − x[r+1][c+1] + 0.5 = −3.5.
        let weight = Parameter(name: "w", shape: [1, 1, 2, 2], role: .weight, value: [1, 0, 0, -1])
        let bias = Parameter(name: "b", shape: [1], role: .bias, value: [0.5])
        let conv = Conv2d(weight: weight, bias: bias, stride: 1, padding: 0)
        let y = conv.forward(TrainingTensor(shape: [1, 1, 3, 3], data: (1...9).map(Float.init))).y
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.data == [-3.5, -3.5, -3.5, -3.5])
        // With padding 1 the corner output sees only x[0][0] through the kernel's −1: −1 + 0.5.
        let padded = Conv2d(weight: weight, bias: bias, stride: 1, padding: 1).forward(
            TrainingTensor(shape: [1, 1, 3, 3], data: (1...9).map(Float.init))).y
        #expect(padded.shape == [1, 1, 4, 4])
        #expect(padded.data.first == -0.5)
        #expect(padded.data.last == 9.5)
    }

    // MARK: backward

    @Test func backwardMatchesDirectLoops() throws {
        for (index, (stride, pad, k, h, w)) in Self.shapes.enumerated() {
            let (c, n, outC) = (2, 2, 3)
            let conv = Self.conv(inC: c, outC: outC, k: k, stride: stride, pad: pad, bias: true, seed: UInt64(index + 7))
            let x = Self.values(c * n * h * w, seed: UInt64(70 + index))
            let input = TrainingTensor(shape: [c, n, h, w], data: x)
            let (y, columns) = conv.forward(input)
            let (oh, ow) = (y.shape[2], y.shape[3])
            let dy = TrainingTensor(shape: y.shape, data: Self.values(y.count, seed: UInt64(90 + index)))
            let dx = try #require(conv.backward(dy: dy, x: input, columns: columns, needInputGrad: true))

            var dW = [Double](repeating: 0, count: conv.weight.count)
            var dB = [Double](repeating: 0, count: outC)
            var dX = [Double](repeating: 0, count: x.count)
            for m in 0..<outC { for i in 0..<n { for yo in 0..<oh { for xo in 0..<ow {
                let g = Double(dy.data[((m * n + i) * oh + yo) * ow + xo])
                dB[m] += g
                for ci in 0..<c { for kh in 0..<k { for kw in 0..<k {
                    let iy = yo * stride - pad + kh, ix = xo * stride - pad + kw
                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                    let wi = ((m * c + ci) * k + kh) * k + kw, xi = ((ci * n + i) * h + iy) * w + ix
                    dW[wi] += g * Double(x[xi])
                    dX[xi] += g * Double(conv.weight.value[wi])
                } } }
            } } } }
            let label = "stride \(stride) pad \(pad) k \(k)"
            #expect(Self.close(conv.weight.grad, dW), "weight gradient, \(label)")
            #expect(Self.close(try #require(conv.bias).grad, dB), "bias gradient, \(label)")
            #expect(dx.shape == input.shape)
            #expect(Self.close(dx.data, dX), "input gradient, \(label)")
        }
    }

    @Test func backwardAccumulatesParameterGradientsAndSkipsTheInputGradientWhenAskedTo() throws {
        let conv = Self.conv(inC: 2, outC: 2, k: 3, stride: 1, pad: 1, bias: true, seed: 3)
        let input = TrainingTensor(shape: [2, 1, 4, 4], data: Self.values(32, seed: 4))
        let (y, columns) = conv.forward(input)
        let dy = TrainingTensor(shape: y.shape, data: Self.values(y.count, seed: 5))
        #expect(conv.backward(dy: dy, x: input, columns: columns, needInputGrad: false) == nil)
        let once = conv.weight.grad
        let biasOnce = try #require(conv.bias).grad
        #expect(once.contains { $0 != 0 })
        // Bias gradient: the sum of dy over each output channel's N·OH·OW positions.
        let plane = y.count / 2
        for m in 0..<2 {
            let expected = dy.data[(m * plane)..<((m + 1) * plane)].reduce(0.0) { $0 + Double($1) }
            #expect(abs(Double(biasOnce[m]) - expected) < 1e-4)
        }
        _ = conv.backward(dy: dy, x: input, columns: columns, needInputGrad: true)
        #expect(Self.close(conv.weight.grad, once.map { 2 * Double($0) }), "a second pass adds to the gradient")
        #expect(Self.close(try #require(conv.bias).grad, biasOnce.map { 2 * Double($0) }))
    }

    @Test func inputGradientMatchesCentralDifferencesOfOneLayer() throws {
        // L = Σ y · r, so dL/dx is the input gradient for dy = r; checked entry by entry.
        for (stride, pad, k) in [(1, 1, 3), (2, 1, 3), (1, 0, 1)] {
            let conv = Self.conv(inC: 2, outC: 2, k: k, stride: stride, pad: pad, bias: true, seed: 11)
            let shape = [2, 1, 5, 5]
            var x = Self.values(50, seed: 12)
            let (y, columns) = conv.forward(TrainingTensor(shape: shape, data: x))
            let r = Self.values(y.count, seed: 13)
            let dx = try #require(conv.backward(dy: TrainingTensor(shape: y.shape, data: r),
                                                x: TrainingTensor(shape: shape, data: x), columns: columns, needInputGrad: true))
            func loss(_ input: [Float]) -> Double {
                zip(conv.forward(TrainingTensor(shape: shape, data: input)).y.data, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            let eps: Float = 1e-2
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
            #expect(worst < 1e-2, "stride \(stride) pad \(pad) k \(k): worst mismatch \(worst)")
        }
    }
}
