// Tests for MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool against a direct-loop
// reference: padding, strides, dilations, ceil_mode, auto_pad and count_include_pad, across the
// kernel's specialised paths (plain 2×2, separable rows, 3-wide stride-2 vector path, dilated
// columns) and with one and two threads. Output shapes are worked out by hand in each case.

import Testing
@testable import GearboxEngine

/// One spatial axis of a pooling window: kernel, stride, dilation, begin/end padding.
private struct PoolAxis {
    var kernel: Int, stride = 1, dilation = 1, padBegin = 0, padEnd = 0
}

/// Direct-loop pooling of an NCHW tensor into `outHeight × outWidth`: each output visits its
/// kernel taps `start + k·dilation` and keeps those inside the input. Average divides by the
/// taps inside the input, or with `countIncludePad` by the taps inside the padded input.
private func referencePool(_ x: Tensor, height: PoolAxis, width: PoolAxis, outHeight: Int, outWidth: Int,
                           average: Bool, countIncludePad: Bool = false) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let xs = x.scalars
    return Tensor(shape: [n, c, outHeight, outWidth]) { index in
        let ox = index % outWidth, oy = (index / outWidth) % outHeight, plane = index / (outWidth * outHeight)
        var best = -Float.infinity, sum: Double = 0, inside = 0, padded = 0
        for ky in 0..<height.kernel {
            let iy = oy * height.stride - height.padBegin + ky * height.dilation
            for kx in 0..<width.kernel {
                let ix = ox * width.stride - width.padBegin + kx * width.dilation
                if iy >= -height.padBegin && iy < h + height.padEnd && ix >= -width.padBegin && ix < w + width.padEnd { padded += 1 }
                guard iy >= 0 && iy < h && ix >= 0 && ix < w else { continue }
                let v = xs[(plane * h + iy) * w + ix]
                best = max(best, v)
                sum += Double(v)
                inside += 1
            }
        }
        if !average { return best }
        let divisor = countIncludePad ? padded : inside
        return divisor > 0 ? Float(sum / Double(divisor)) : 0
    }
}

/// Runs a single pooling node on `x` with `threads` worker threads.
private func runPool(_ op: String, _ x: Tensor, attributes: [String: ONNXModelBuilder.Attribute], threads: Int = 1) throws -> Tensor {
    var b = ONNXModelBuilder()
    b.addInput("x", shape: x.shape)
    b.addOutput(b.unary(op, "x", attributes: attributes))
    return try #require(try load(b, EngineOptions(threads: threads)).run(["x": x]).values.first)
}

@Suite struct PoolingTests {
    struct MaxCase: CustomTestStringConvertible, Sendable {
        var name: String
        var input: [Int]  // N, C, H, W
        var kernel: [Int], strides: [Int], pads: [Int], dilations: [Int]
        var ceilMode = false
        var output: [Int]  // hand-computed H, W
        var testDescription: String { name }
    }

    static let maxCases: [MaxCase] = [
        MaxCase(name: "2×2 stride 2", input: [2, 3, 8, 10], kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], output: [4, 5]),
        MaxCase(name: "2×2 stride 2, odd input drops the last row and column", input: [1, 2, 7, 7], kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], output: [3, 3]),
        MaxCase(name: "3×3 stride 2 padded", input: [2, 3, 9, 13], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], output: [5, 7]),
        MaxCase(name: "3×3 stride 1", input: [1, 4, 5, 6], kernel: [3, 3], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], output: [3, 4]),
        MaxCase(name: "2×5 stride 1×3 asymmetric pads", input: [1, 3, 6, 11], kernel: [2, 5], strides: [1, 3], pads: [0, 2, 1, 1], dilations: [1, 1], output: [6, 4]),
        MaxCase(name: "column dilation 2", input: [1, 2, 5, 7], kernel: [3, 3], strides: [1, 1], pads: [1, 2, 1, 2], dilations: [1, 2], output: [5, 7]),
        MaxCase(name: "row dilation 2", input: [1, 2, 5, 5], kernel: [2, 2], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [2, 1], output: [3, 4]),
        MaxCase(name: "ceil mode adds a partial last window", input: [1, 2, 6, 8], kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: true, output: [3, 4]),
        MaxCase(name: "many planes split across tasks", input: [4, 40, 6, 6], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], output: [3, 3]),
    ]

    @Test(arguments: maxCases)
    func maxPoolMatchesDirectLoopExactly(_ c: MaxCase) throws {
        let x = Tensor.random(shape: c.input, seed: 11)
        let expected = referencePool(
            x, height: PoolAxis(kernel: c.kernel[0], stride: c.strides[0], dilation: c.dilations[0], padBegin: c.pads[0], padEnd: c.pads[2]),
            width: PoolAxis(kernel: c.kernel[1], stride: c.strides[1], dilation: c.dilations[1], padBegin: c.pads[1], padEnd: c.pads[3]),
            outHeight: c.output[0], outWidth: c.output[1], average: false)
        for threads in [1, 2] {
            let y = try runPool("MaxPool", x, attributes: ["kernel_shape": .ints(c.kernel), "strides": .ints(c.strides), "pads": .ints(c.pads),
                                                           "dilations": .ints(c.dilations), "ceil_mode": .int(c.ceilMode ? 1 : 0)], threads: threads)
            #expect(y.shape == Array(c.input[0..<2]) + c.output)
            #expect(bits(y) == bits(expected), "threads \(threads)")
        }
    }

    @Test func maxPoolWithoutCeilModeDropsThePartialWindow() throws {
        let y = try runPool("MaxPool", Tensor.random(shape: [1, 1, 6, 8], seed: 2), attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2])])
        #expect(y.shape == [1, 1, 2, 3])
    }

    @Test func maxPoolTakesTheLargestOfAllNegativeValues() throws {
        // Padding must not act as zero: every window of an all-negative input keeps a negative maximum.
        let x = Tensor(shape: [1, 1, 3, 3], scalars: [-9, -8, -7, -6, -5, -4, -3, -2, -1])
        let y = try runPool("MaxPool", x, attributes: ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])])
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.scalars == [-9, -7, -3, -1])
    }

    @Test func autoPadSameUpperAndLowerPutTheOddPaddingAtOppositeEnds() throws {
        // 7×6 input, 3×3 kernel, stride 2: output 4×3; total padding 2 rows (1 + 1) and 1 column,
        // after the input for SAME_UPPER and before it for SAME_LOWER.
        let x = Tensor.random(shape: [1, 2, 7, 6], seed: 4)
        let upper = try runPool("MaxPool", x, attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "auto_pad": .string("SAME_UPPER")])
        let lower = try runPool("MaxPool", x, attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "auto_pad": .string("SAME_LOWER")])
        func reference(left: Int, right: Int) -> Tensor {
            referencePool(x, height: PoolAxis(kernel: 3, stride: 2, padBegin: 1, padEnd: 1),
                          width: PoolAxis(kernel: 3, stride: 2, padBegin: left, padEnd: right), outHeight: 4, outWidth: 3, average: false)
        }
        #expect(upper.shape == [1, 2, 4, 3] && lower.shape == [1, 2, 4, 3])
        #expect(bits(upper) == bits(reference(left: 0, right: 1)))
        #expect(bits(lower) == bits(reference(left: 1, right: 0)))
        #expect(bits(upper) != bits(lower))
    }

    @Test func oneDimensionalMaxAndAveragePool() throws {
        let x = Tensor.random(shape: [1, 2, 10], seed: 6)
        let asPlanes = x.reshaped(to: [1, 2, 1, 10])
        let maxY = try runPool("MaxPool", x, attributes: ["kernel_shape": .ints([3]), "strides": .ints([2]), "pads": .ints([1, 1])])
        #expect(maxY.shape == [1, 2, 5])
        let maxRef = referencePool(asPlanes, height: PoolAxis(kernel: 1), width: PoolAxis(kernel: 3, stride: 2, padBegin: 1, padEnd: 1),
                                   outHeight: 1, outWidth: 5, average: false)
        #expect(bits(maxY) == bits(maxRef))
        let avgY = try runPool("AveragePool", x, attributes: ["kernel_shape": .ints([4]), "strides": .ints([3])])
        #expect(avgY.shape == [1, 2, 3])
        let avgRef = referencePool(asPlanes, height: PoolAxis(kernel: 1), width: PoolAxis(kernel: 4, stride: 3), outHeight: 1, outWidth: 3, average: true)
        #expect(maxRelativeError(avgY, avgRef) < 1e-5)
    }

    @Test(arguments: [false, true])
    func averagePoolMatchesDirectLoopWithPadding(countIncludePad: Bool) throws {
        // 7×9, 3×3 stride 2, pads 1 → 4×5; border windows hold 4 or 6 input elements of 9.
        let x = Tensor.random(shape: [2, 3, 7, 9], seed: 8)
        let expected = referencePool(x, height: PoolAxis(kernel: 3, stride: 2, padBegin: 1, padEnd: 1),
                                     width: PoolAxis(kernel: 3, stride: 2, padBegin: 1, padEnd: 1),
                                     outHeight: 4, outWidth: 5, average: true, countIncludePad: countIncludePad)
        for threads in [1, 2] {
            let y = try runPool("AveragePool", x, attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
                                                               "count_include_pad": .int(countIncludePad ? 1 : 0)], threads: threads)
            #expect(y.shape == [2, 3, 4, 5])
            #expect(maxRelativeError(y, expected) < 1e-5, "threads \(threads)")
        }
    }

    @Test func averagePoolAsymmetricPadsWithoutCountingThem() throws {
        // 5×6, kernel 2×3, stride 1×2, pads top 0, left 1, bottom 1, right 0 → 5×3.
        let x = Tensor.random(shape: [1, 2, 5, 6], seed: 9)
        let y = try runPool("AveragePool", x, attributes: ["kernel_shape": .ints([2, 3]), "strides": .ints([1, 2]), "pads": .ints([0, 1, 1, 0])])
        let expected = referencePool(x, height: PoolAxis(kernel: 2, stride: 1, padBegin: 0, padEnd: 1),
                                     width: PoolAxis(kernel: 3, stride: 2, padBegin: 1, padEnd: 0), outHeight: 5, outWidth: 3, average: true)
        #expect(y.shape == [1, 2, 5, 3])
        #expect(maxRelativeError(y, expected) < 1e-5)
    }

    @Test func ceilModeAverageCountsOnlyPaddingInsideThePaddedInput() throws {
        // 6×6, 3×3 stride 2, pads 1, ceil mode → 4×4. The last window starts at row 5 and spans
        // rows 5…7; row 6 is end padding (counted with count_include_pad), row 7 lies past it (never counted).
        let x = Tensor(shape: [1, 1, 6, 6]) { Float($0 % 7) - 3 }
        let y = try runPool("AveragePool", x, attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
                                                           "ceil_mode": .int(1), "count_include_pad": .int(1)])
        let expected = referencePool(x, height: PoolAxis(kernel: 3, stride: 2, padBegin: 1, padEnd: 1),
                                     width: PoolAxis(kernel: 3, stride: 2, padBegin: 1, padEnd: 1), outHeight: 4, outWidth: 4,
                                     average: true, countIncludePad: true)
        #expect(y.shape == [1, 1, 4, 4])
        #expect(maxRelativeError(y, expected) < 1e-5)
        // Corner window: input (5, 5) alone, divided by the 2×2 padded cells it covers.
        #expect(abs(y.scalars[15] - x.scalars[35] / 4) < 1e-5)
    }

    @Test func averagePoolWithDilationsIsRejectedRatherThanComputedWithout() {
        // The average kernel has no dilated path; a model asking for one must not run undilated.
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 1, 6, 6])
        b.addOutput(b.unary("AveragePool", "x", attributes: ["kernel_shape": .ints([2, 2]), "dilations": .ints([2, 2])]))
        #expect(throws: (any Error).self) { try load(b) }
    }

    @Test func maxPoolIndicesOutputIsRejected() {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 1, 4, 4])
        b.addNode("MaxPool", inputs: ["x"], outputs: ["y", "indices"], attributes: ["kernel_shape": .ints([2, 2])])
        b.addOutput("y")
        #expect(throws: (any Error).self) { try load(b) }
    }

    @Test func globalPoolsReduceEachPlane() throws {
        let x = Tensor.random(shape: [2, 3, 4, 5], seed: 12)
        let xs = x.scalars
        let planes = (0..<6).map { Array(xs[$0 * 20..<($0 + 1) * 20]) }
        let avg = try runPool("GlobalAveragePool", x, attributes: [:], threads: 2)
        let mx = try runPool("GlobalMaxPool", x, attributes: [:], threads: 2)
        #expect(avg.shape == [2, 3, 1, 1] && mx.shape == [2, 3, 1, 1])
        #expect(mx.scalars == planes.map { $0.max()! })
        let means = planes.map { Float($0.reduce(0.0) { $0 + Double($1) } / 20) }
        #expect(maxRelativeError(avg, Tensor(shape: [2, 3, 1, 1], scalars: means)) < 1e-5)
    }

    @Test func globalAveragePoolFlattensThreeSpatialAxes() throws {
        let x = Tensor(shape: [1, 2, 2, 3, 2]) { Float($0) }
        let y = try runPool("GlobalAveragePool", x, attributes: [:])
        #expect(y.shape == [1, 2, 1, 1, 1])
        #expect(y.scalars == [5.5, 17.5])  // means of 0…11 and 12…23
    }
}
