// Tests for the NHWC pooling steps inside NHWC runs (`MaxPoolNHWCStep`, `AveragePoolNHWCStep`,
// `GlobalAveragePoolNHWCStep`, `NHWCPoolRows`), run directly on hand-made geometries: against a
// direct NHWC loop, bit for bit against the NCHW `PoolStep` on the transposed input (the layouts
// promise the same bits), task by task in any order and on two workers.

import Testing
@testable import GearboxEngine

@Suite struct NHWCPoolingTests {
    struct Window: CustomTestStringConvertible, Sendable {
        var name: String
        var batch = 1, channels: Int, height: Int, width: Int
        var kernel: (Int, Int), stride: (Int, Int) = (1, 1)
        var pads: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0)
        var dilation: (Int, Int) = (1, 1)
        /// Hand-computed output size.
        var out: (Int, Int)
        var testDescription: String { name }

        var geometry: PoolGeometry {
            var g = PoolGeometry()
            g.planes = batch * channels
            g.inHeight = height; g.inWidth = width
            g.outHeight = out.0; g.outWidth = out.1
            g.kernelHeight = kernel.0; g.kernelWidth = kernel.1
            g.strideHeight = stride.0; g.strideWidth = stride.1
            g.padTop = pads.top; g.padLeft = pads.left; g.padBottom = pads.bottom; g.padRight = pads.right
            g.dilationHeight = dilation.0; g.dilationWidth = dilation.1
            return g
        }
    }

    static let windows: [Window] = [
        Window(name: "2×2 stride 2", batch: 2, channels: 8, height: 8, width: 10, kernel: (2, 2), stride: (2, 2), out: (4, 5)),
        Window(name: "3×3 stride 2 padded", channels: 13, height: 9, width: 13, kernel: (3, 3), stride: (2, 2), pads: (1, 1, 1, 1), out: (5, 7)),
        Window(name: "3×3 stride 1 same", batch: 2, channels: 5, height: 6, width: 7, kernel: (3, 3), pads: (1, 1, 1, 1), out: (6, 7)),
        Window(name: "2×5 stride 1×3 asymmetric pads", channels: 16, height: 6, width: 11, kernel: (2, 5), stride: (1, 3), pads: (0, 2, 1, 1), out: (6, 4)),
        Window(name: "ceil mode: a partial last window", channels: 6, height: 6, width: 8, kernel: (3, 3), stride: (2, 2), out: (3, 4)),
        Window(name: "one channel, a window larger than the input", channels: 1, height: 3, width: 4, kernel: (3, 5), pads: (1, 1, 1, 1), out: (3, 2)),
        Window(name: "many rows over several tasks", batch: 3, channels: 64, height: 40, width: 24, kernel: (3, 3), stride: (1, 1), pads: (1, 1, 1, 1), out: (40, 24)),
    ]

    static let dilatedWindows: [Window] = [
        Window(name: "column dilation 2", channels: 4, height: 5, width: 7, kernel: (3, 3), pads: (1, 2, 1, 2), dilation: (1, 2), out: (5, 7)),
        Window(name: "row dilation 2", channels: 3, height: 5, width: 5, kernel: (2, 2), dilation: (2, 1), out: (3, 4)),
    ]

    /// Direct-loop pooling of an NHWC tensor. Max over the taps inside the input; average divides
    /// by the taps inside the input or, with `countIncludePad`, inside the padded input (whose end
    /// is the end padding; a ceil-mode window may run past it).
    static func reference(_ w: Window, _ x: [Float], average: Bool, countIncludePad: Bool = false) -> [Float] {
        let g = w.geometry, c = w.channels
        var out = [Float](repeating: 0, count: w.batch * g.outHeight * g.outWidth * c)
        for image in 0..<w.batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for ch in 0..<c {
                        var best = -Float.infinity, sum = 0.0, inside = 0, padded = 0
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.strideHeight - g.padTop + ky * g.dilationHeight
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.strideWidth - g.padLeft + kx * g.dilationWidth
                                if iy >= -g.padTop && iy < g.inHeight + g.padBottom && ix >= -g.padLeft && ix < g.inWidth + g.padRight { padded += 1 }
                                guard iy >= 0 && iy < g.inHeight && ix >= 0 && ix < g.inWidth else { continue }
                                let v = x[((image * g.inHeight + iy) * g.inWidth + ix) * c + ch]
                                best = max(best, v)
                                sum += Double(v)
                                inside += 1
                            }
                        }
                        let divisor = countIncludePad ? padded : inside
                        out[((image * g.outHeight + oy) * g.outWidth + ox) * c + ch] =
                            average ? (divisor > 0 ? Float(sum / Double(divisor)) : 0) : best
                    }
                }
            }
        }
        return out
    }

    enum Kind: Sendable { case max, average(countIncludePad: Bool) }

    /// Runs the NHWC step for `w` on `x` (NHWC): tasks in reverse order, or on a pool when given.
    static func runNHWC(_ w: Window, _ x: [Float], _ kind: Kind, pool: WorkerPool? = nil) -> [Float] {
        let g = w.geometry, outCount = w.batch * g.outHeight * g.outWidth * w.channels
        let input = UnsafeMutablePointer<Float>.allocate(capacity: x.count), output = UnsafeMutablePointer<Float>.allocate(capacity: outCount)
        defer { input.deallocate(); output.deallocate() }
        input.initialize(from: x, count: x.count)
        output.initialize(repeating: .nan, count: outCount)
        let step: any ExecutionStep & ParallelWork
        let tasks: Int
        switch kind {
        case .max:
            let s = MaxPoolNHWCStep(input: input, output: output, geometry: g, channels: w.channels)
            step = s
            tasks = s.rows.split.tasks
        case let .average(countIncludePad):
            let s = AveragePoolNHWCStep(input: input, output: output, geometry: g, channels: w.channels, countIncludePad: countIncludePad)
            step = s
            tasks = s.rows.split.tasks
        }
        if let pool {
            step.execute(pool)
        } else {
            for task in (0..<tasks).reversed() { step.perform(task: task, worker: 0) }
        }
        return Array(UnsafeBufferPointer(start: output, count: outCount))
    }

    /// Runs the NCHW `PoolStep` on the NCHW transpose of `x` and returns its output transposed back to NHWC.
    static func runNCHW(_ w: Window, _ x: [Float], _ kind: PoolOperation.Kind) -> [Float] {
        let g = w.geometry, c = w.channels, plane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        let input = UnsafeMutablePointer<Float>.allocate(capacity: x.count), output = UnsafeMutablePointer<Float>.allocate(capacity: w.batch * c * outPlane)
        defer { input.deallocate(); output.deallocate() }
        input.initialize(repeating: 0, count: x.count)
        for image in 0..<w.batch {
            for p in 0..<plane { for ch in 0..<c { input[(image * c + ch) * plane + p] = x[(image * plane + p) * c + ch] } }
        }
        output.initialize(repeating: .nan, count: w.batch * c * outPlane)
        let step = PoolStep(input: input, output: output, kind: kind, geometry: g)
        for task in 0..<step.split.tasks { step.perform(task: task, worker: 0) }
        var nhwc = [Float](repeating: .nan, count: w.batch * c * outPlane)
        for image in 0..<w.batch {
            for p in 0..<outPlane { for ch in 0..<c { nhwc[(image * outPlane + p) * c + ch] = output[(image * c + ch) * outPlane + p] } }
        }
        return nhwc
    }

    static func input(_ w: Window, seed: UInt64 = 11) -> [Float] {
        Tensor.random(shape: [w.batch * w.height * w.width * w.channels], seed: seed, in: -5...5).scalars
    }

    // MARK: MaxPool

    @Test(arguments: windows + dilatedWindows)
    func maxPoolMatchesTheDirectLoopExactly(_ w: Window) {
        let x = Self.input(w)
        let y = Self.runNHWC(w, x, .max)
        #expect(y == Self.reference(w, x, average: false))
    }

    @Test(arguments: windows + dilatedWindows)
    func maxPoolGivesTheBitsOfTheNCHWStep(_ w: Window) {
        let x = Self.input(w, seed: 12)
        #expect(Self.runNHWC(w, x, .max).map(\.bitPattern) == Self.runNCHW(w, x, .max).map(\.bitPattern))
    }

    @Test func paddingNeverWinsAMaxPool() {
        // All inputs negative: a zero from the padding would win if padding were read as 0.
        let w = Self.windows[1]
        let x = Self.input(w).map { -abs($0) - 1 }
        let y = Self.runNHWC(w, x, .max)
        #expect(y.allSatisfy { $0 <= -1 })
        #expect(y == Self.reference(w, x, average: false))
    }

    // MARK: AveragePool

    @Test(arguments: windows)
    func averagePoolMatchesTheDirectLoop(_ w: Window) {
        for countIncludePad in [false, true] {
            let x = Self.input(w, seed: 13)
            let y = Self.runNHWC(w, x, .average(countIncludePad: countIncludePad))
            let expected = Self.reference(w, x, average: true, countIncludePad: countIncludePad)
            let worst = zip(y, expected).map { $0.isNaN ? Float.infinity : abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst < 1e-5, "count_include_pad \(countIncludePad): error \(worst)")
        }
    }

    @Test(arguments: windows)
    func averagePoolGivesTheBitsOfTheNCHWStep(_ w: Window) {
        for countIncludePad in [false, true] {
            let x = Self.input(w, seed: 14)
            let nhwc = Self.runNHWC(w, x, .average(countIncludePad: countIncludePad))
            let nchw = Self.runNCHW(w, x, .average(countIncludePad: countIncludePad))
            #expect(nhwc.map(\.bitPattern) == nchw.map(\.bitPattern), "count_include_pad \(countIncludePad)")
        }
    }

    @Test func countIncludePadChangesOnlyTheBorderWindows() {
        // 3×3 stride 1 pad 1 on 4×4: corners see 4 of 9 taps, edges 6, the interior 9.
        let w = Window(name: "3×3 same", channels: 8, height: 4, width: 4, kernel: (3, 3), pads: (1, 1, 1, 1), out: (4, 4))
        let x = [Float](repeating: 9, count: 4 * 4 * 8)
        let excluded = Self.runNHWC(w, x, .average(countIncludePad: false))
        let included = Self.runNHWC(w, x, .average(countIncludePad: true))
        #expect(excluded.allSatisfy { $0 == 9 }, "a constant input averages to itself over the taps inside")
        let pixel = { (oy: Int, ox: Int) in included[(oy * 4 + ox) * 8] }
        #expect(pixel(0, 0) == 4 && pixel(0, 1) == 6 && pixel(1, 1) == 9 && pixel(3, 3) == 4)
    }

    // MARK: Tasks

    @Test(arguments: windows)
    func tasksCoverEveryOutputRowOnce(_ w: Window) {
        let g = w.geometry
        let dummy = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { dummy.deallocate() }
        let rows = NHWCPoolRows(input: dummy, output: dummy, geometry: g, channels: w.channels)
        #expect(rows.count == w.batch * g.outHeight)
        var hits = [Int](repeating: 0, count: rows.count)
        for task in 0..<rows.split.tasks {
            let range = rows.outputRows(ofTask: task)
            #expect(!range.isEmpty && range.lowerBound >= 0 && range.upperBound <= rows.count)
            for row in range where row >= 0 && row < rows.count { hits[row] += 1 }
        }
        #expect(hits.allSatisfy { $0 == 1 })
    }

    @Test func largePoolsSplitIntoSeveralTasksWithTheSameResultOnTwoWorkers() {
        let w = Self.windows[6]
        let dummy = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { dummy.deallocate() }
        #expect(NHWCPoolRows(input: dummy, output: dummy, geometry: w.geometry, channels: w.channels).split.tasks > 1)
        let pool = WorkerPool(workerCount: 2, pinning: nil)
        let x = Self.input(w, seed: 15)
        #expect(Self.runNHWC(w, x, .max, pool: pool).map(\.bitPattern) == Self.runNHWC(w, x, .max).map(\.bitPattern))
        #expect(Self.runNHWC(w, x, .average(countIncludePad: false), pool: pool).map(\.bitPattern)
            == Self.runNHWC(w, x, .average(countIncludePad: false)).map(\.bitPattern))
    }

    // MARK: GlobalAveragePool

    @Test(arguments: [(1, 8, 49), (2, 70, 9), (3, 128, 1), (1, 1, 20), (2, 200, 16)])
    func globalAveragePoolMatchesTheDirectLoopAndTheNCHWStep(batch: Int, channels: Int, pixels: Int) {
        let x = Tensor.random(shape: [batch * pixels * channels], seed: 16, in: -3...3).scalars
        let input = UnsafeMutablePointer<Float>.allocate(capacity: x.count), output = UnsafeMutablePointer<Float>.allocate(capacity: batch * channels + 8)
        defer { input.deallocate(); output.deallocate() }
        input.initialize(from: x, count: x.count)
        output.initialize(repeating: .nan, count: batch * channels + 8)
        let step = GlobalAveragePoolNHWCStep(input: input, output: output, batch: batch, channels: channels, pixels: pixels)
        #expect(step.blocksPerImage == (channels + 63) / 64)
        for task in (0..<(batch * step.blocksPerImage)).reversed() { step.perform(task: task, worker: 0) }
        let y = Array(UnsafeBufferPointer(start: output, count: batch * channels))
        #expect(UnsafeBufferPointer(start: output + batch * channels, count: 8).allSatisfy { $0.isNaN }, "nothing written past the output")

        var worst: Float = 0
        for image in 0..<batch {
            for c in 0..<channels {
                let sum = (0..<pixels).reduce(0.0) { $0 + Double(x[(image * pixels + $1) * channels + c]) }
                let expected = Float(sum / Double(pixels))
                let got = y[image * channels + c]
                worst = max(worst, got.isNaN ? .infinity : abs(got - expected) / max(1, abs(expected)))
            }
        }
        #expect(worst < 1e-5)

        // The NCHW step on the transposed input: the same bits.
        let w = Window(name: "global", batch: batch, channels: channels, height: 1, width: pixels, kernel: (1, pixels), out: (1, 1))
        #expect(y.map(\.bitPattern) == Self.runNCHW(w, x, .globalAverage).map(\.bitPattern))
    }
}
