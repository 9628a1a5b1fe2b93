// Tests for `XNNPACKFullyConnected`, the per-call XNNPACK fully-connected operator behind 1×1
// layers over runs of NHWC pixels: against a naive matmul + bias + clamp for batch sizes 1…N at
// changing addresses through one operator, outputs written exactly where asked, inputs left
// alone, the packed weights measured, and the layers it refuses.

import Testing
@testable import GearboxEngine

@Suite struct XNNPACKFullyConnectedTests {
    struct Layer: CustomTestStringConvertible, Sendable {
        var inputs: Int, outputs: Int, bias: Bool, lower: Float, upper: Float
        var testDescription: String { "\(inputs)→\(outputs)\(bias ? " +bias" : "") [\(lower), \(upper)]" }
    }

    static let layers: [Layer] = [
        Layer(inputs: 13, outputs: 21, bias: true, lower: -.infinity, upper: .infinity),
        Layer(inputs: 32, outputs: 16, bias: false, lower: 0, upper: .infinity),
        Layer(inputs: 7, outputs: 8, bias: true, lower: -0.5, upper: 0.5),
        Layer(inputs: 1, outputs: 3, bias: true, lower: 0, upper: 6),
        Layer(inputs: 96, outputs: 24, bias: true, lower: -.infinity, upper: 1),
    ]

    /// out[p, o] = clamp(bias[o] + Σ_i in[p, i] · w[o, i]) in Double, and Σ |terms| per output
    /// for the error bound.
    static func reference(_ l: Layer, input: [Float], weights: [Float], bias: [Float]?, pixels: Int) -> (values: [Float], scale: [Float]) {
        var values = [Float](), scale = [Float]()
        for p in 0..<pixels {
            for o in 0..<l.outputs {
                var sum = Double(bias?[o] ?? 0), magnitude = abs(sum)
                for i in 0..<l.inputs {
                    let term = Double(input[p * l.inputs + i]) * Double(weights[o * l.inputs + i])
                    sum += term
                    magnitude += abs(term)
                }
                values.append(min(max(Float(sum), l.lower), l.upper))
                scale.append(Float(max(1, magnitude)))
            }
        }
        return (values, scale)
    }

    static func make(_ l: Layer, weights: [Float], bias: [Float]?) -> XNNPACKFullyConnected? {
        weights.withUnsafeBufferPointer { w -> XNNPACKFullyConnected? in
            guard let base = w.baseAddress else { return nil }
            if let bias {
                return bias.withUnsafeBufferPointer { b in
                    XNNPACKFullyConnected(inputChannels: l.inputs, outputChannels: l.outputs, weights: base, bias: b.baseAddress,
                                          outputBounds: (l.lower, l.upper))
                }
            }
            return XNNPACKFullyConnected(inputChannels: l.inputs, outputChannels: l.outputs, weights: base, bias: nil,
                                         outputBounds: (l.lower, l.upper))
        }
    }

    @Test(.requiresXNNPACK, arguments: layers)
    func everyBatchSizeAtChangingAddressesMatchesTheNaiveProduct(_ l: Layer) throws {
        let maxPixels = 12
        let weights = Tensor.random(shape: [l.outputs * l.inputs], seed: 3).scalars
        let bias = l.bias ? Tensor.random(shape: [l.outputs], seed: 4).scalars : nil
        // The operator packs its own copy at creation: overwriting the caller's weights afterwards must not matter.
        let callerWeights = UnsafeMutablePointer<Float>.allocate(capacity: weights.count)
        callerWeights.initialize(from: weights, count: weights.count)
        defer { callerWeights.deallocate() }
        let callerBias = UnsafeMutablePointer<Float>.allocate(capacity: l.outputs)
        callerBias.initialize(from: bias ?? [Float](repeating: 0, count: l.outputs), count: l.outputs)
        defer { callerBias.deallocate() }
        let op = try #require(XNNPACKFullyConnected(inputChannels: l.inputs, outputChannels: l.outputs, weights: callerWeights,
                                                    bias: bias == nil ? nil : UnsafePointer(callerBias), outputBounds: (l.lower, l.upper)))
        callerWeights.update(repeating: .nan, count: weights.count)
        callerBias.update(repeating: .nan, count: l.outputs)
        #expect(op.inputChannels == l.inputs && op.outputChannels == l.outputs)

        // Room for the largest batch at the largest offset, plus slack XNNPACK may read past the input.
        let sentinel: Float = 9876.5
        let inputCapacity = (maxPixels + 8) * l.inputs + 64, outputCapacity = (maxPixels + 8) * l.outputs + 64
        let input = UnsafeMutablePointer<Float>.allocate(capacity: inputCapacity)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: outputCapacity)
        defer { input.deallocate(); output.deallocate() }
        input.initialize(from: Tensor.random(shape: [inputCapacity], seed: 5, in: -2...2).scalars, count: inputCapacity)
        output.initialize(repeating: sentinel, count: outputCapacity)
        let inputBefore = Array(UnsafeBufferPointer(start: input, count: inputCapacity))

        for pixels in 1...maxPixels {
            // A different input row and output row for every call (offsets in whole rows and odd floats).
            let inOffset = (pixels * 5) % 7 * l.inputs + pixels % 3
            let outOffset = (pixels * 3) % 8 * l.outputs + pixels % 2
            output.update(repeating: sentinel, count: outputCapacity)
            op.run(pixels: pixels, input: input + inOffset, output: output + outOffset)
            let x = Array(UnsafeBufferPointer(start: input + inOffset, count: pixels * l.inputs))
            let expected = Self.reference(l, input: x, weights: weights, bias: bias, pixels: pixels)
            let y = Array(UnsafeBufferPointer(start: output + outOffset, count: pixels * l.outputs))
            var worst: Float = 0
            for i in y.indices { worst = max(worst, y[i].isNaN ? .infinity : abs(y[i] - expected.values[i]) / expected.scale[i]) }
            #expect(worst < 1e-5, "\(pixels) pixels: error \(worst)")
            #expect(y.allSatisfy { $0 >= l.lower && $0 <= l.upper }, "\(pixels) pixels: outside the bounds")
            let outside = Array(UnsafeBufferPointer(start: output, count: outOffset))
                + Array(UnsafeBufferPointer(start: output + outOffset + pixels * l.outputs, count: outputCapacity - outOffset - pixels * l.outputs))
            #expect(outside.allSatisfy { $0.bitPattern == sentinel.bitPattern }, "\(pixels) pixels: wrote outside the output rows")
        }
        #expect(Array(UnsafeBufferPointer(start: input, count: inputCapacity)) == inputBefore, "the input is read only")
    }

    @Test(.requiresXNNPACK)
    func interleavedCallsThroughOneOperatorDoNotInfluenceEachOther() throws {
        let l = Layer(inputs: 24, outputs: 40, bias: true, lower: 0, upper: 6)
        let weights = Tensor.random(shape: [l.outputs * l.inputs], seed: 13).scalars
        let bias = Tensor.random(shape: [l.outputs], seed: 14).scalars
        let op = try #require(Self.make(l, weights: weights, bias: bias))
        var a = Tensor.random(shape: [9 * l.inputs + 64], seed: 15, in: -2...2).scalars
        var b = Tensor.random(shape: [2 * l.inputs + 64], seed: 16, in: -2...2).scalars
        var first = [Float](repeating: 0, count: 9 * l.outputs), second = [Float](repeating: 0, count: 2 * l.outputs)
        var again = first
        func run(_ x: inout [Float], _ y: inout [Float], pixels: Int) {
            x.withUnsafeMutableBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return }
                    op.run(pixels: pixels, input: xb, output: yb)
                }
            }
        }
        run(&a, &first, pixels: 9)
        run(&b, &second, pixels: 2)
        run(&a, &again, pixels: 9)
        #expect(first.map(\.bitPattern) == again.map(\.bitPattern), "the same call gives the same bits after another batch size")
        let expected = Self.reference(l, input: Array(b[0..<(2 * l.inputs)]), weights: weights, bias: bias, pixels: 2)
        #expect(zip(second, zip(expected.values, expected.scale)).allSatisfy { abs($0 - $1.0) / $1.1 < 1e-5 })
    }

    @Test(.requiresXNNPACK)
    func theOperatorMeasuresItsPackedWeights() throws {
        let l = Layer(inputs: 64, outputs: 48, bias: true, lower: -.infinity, upper: .infinity)
        let op = try #require(Self.make(l, weights: Tensor.random(shape: [64 * 48], seed: 21).scalars,
                                        bias: Tensor.random(shape: [48], seed: 22).scalars))
        #expect(op.packedBytes >= (64 + 1) * 48 * 4, "every weight and bias is packed into memory the operator holds")
        #expect(op.packedBytes < 4 * (64 + 1) * 48 * 4 + 64 * 1024)
    }

    @Test(.requiresXNNPACK)
    func emptyLayersAndEmptyOrInvertedBoundsAreRefused() {
        let weights = [Float](repeating: 0.5, count: 64)
        let ok = Layer(inputs: 4, outputs: 4, bias: false, lower: 0, upper: 6)
        #expect(Self.make(ok, weights: weights, bias: nil) != nil, "the control layer is accepted")
        var refused: [Layer] = []
        refused.append(Layer(inputs: 0, outputs: 4, bias: false, lower: 0, upper: 6))
        refused.append(Layer(inputs: 4, outputs: 0, bias: false, lower: 0, upper: 6))
        refused.append(Layer(inputs: 0, outputs: 0, bias: false, lower: 0, upper: 6))
        refused.append(Layer(inputs: -1, outputs: 4, bias: false, lower: 0, upper: 6))
        refused.append(Layer(inputs: 4, outputs: 4, bias: false, lower: 1, upper: 1))
        refused.append(Layer(inputs: 4, outputs: 4, bias: false, lower: 6, upper: 0))
        refused.append(Layer(inputs: 4, outputs: 4, bias: false, lower: .infinity, upper: -.infinity))
        for l in refused {
            #expect(Self.make(l, weights: weights, bias: nil) == nil, "\(l.testDescription)")
        }
    }
}
