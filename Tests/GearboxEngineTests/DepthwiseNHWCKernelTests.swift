// Tests for GearboxKernels' NHWC 3×3 depthwise kernel (`packDepthwiseNHWCWeights`,
// `depthwiseNHWCRow`, `DepthwiseNHWCShape`), called directly against a plain scalar NHWC loop:
// strides 1 and 2, paddings 0–2, widths that leave 0–3 interior pixels after the groups of four,
// 8/16/24 channels, channel sub-ranges (only those channels written), residual and clamp. Input
// and the zeros row are fenced with NaNs, so a read outside them would show in the output.

@testable import GearboxKernels
import Testing
@testable import GearboxEngine

/// A 3×3 depthwise layer's shape with the output size ONNX gives for pads `pad` (top, left) and
/// `padEnd` (bottom, right), or nil when no output pixel exists.
func depthwiseNHWCShape(inHeight: Int, inWidth: Int, channels: Int, stride: Int, pad: Int, padEnd: Int? = nil) -> DepthwiseNHWCShape? {
    let end = padEnd ?? pad
    let outHeight = (inHeight + pad + end - 3) / stride + 1, outWidth = (inWidth + pad + end - 3) / stride + 1
    guard inHeight + pad + end >= 3, inWidth + pad + end >= 3, outHeight > 0, outWidth > 0 else { return nil }
    return DepthwiseNHWCShape(inHeight: inHeight, inWidth: inWidth, outHeight: outHeight, outWidth: outWidth,
                              channels: channels, stride: stride, padTop: pad, padLeft: pad)
}

/// Direct-loop NHWC depthwise 3×3 in Double: out[oy, ox, ch] = bias + Σ taps inside the input,
/// plus the residual, clamped. Channels outside `channels` are `untouched`.
func referenceDepthwiseNHWC(_ s: DepthwiseNHWCShape, input: [Float], oihw: [Float], bias: [Float]?, residual: [Float]?,
                            lower: Float, upper: Float, channels: Range<Int>? = nil, untouched: Float = 0) -> [Float] {
    let c = s.channels, range = channels ?? 0..<c
    var out = [Float](repeating: untouched, count: s.outHeight * s.outWidth * c)
    for oy in 0..<s.outHeight {
        for ox in 0..<s.outWidth {
            for ch in range {
                var sum = Double(bias?[ch] ?? 0)
                for ky in 0..<3 {
                    let iy = oy * s.stride - s.padTop + ky
                    guard iy >= 0 && iy < s.inHeight else { continue }
                    for kx in 0..<3 {
                        let ix = ox * s.stride - s.padLeft + kx
                        guard ix >= 0 && ix < s.inWidth else { continue }
                        sum += Double(input[(iy * s.inWidth + ix) * c + ch]) * Double(oihw[ch * 9 + ky * 3 + kx])
                    }
                }
                let index = (oy * s.outWidth + ox) * c + ch
                var value = Float(sum)
                if let residual { value += residual[index] }
                out[index] = min(max(value, lower), upper)
            }
        }
    }
    return out
}

/// Output columns whose three taps all lie inside the input row, found by trying each column.
func interiorColumnsByScan(_ s: DepthwiseNHWCShape) -> [Int] {
    (0..<s.outWidth).filter { ox in
        let first = ox * s.stride - s.padLeft
        return first >= 0 && first + 2 < s.inWidth
    }
}

/// Runs `depthwiseNHWCRow` for `rows` (every row by default) with buffers fenced by guards: NaN
/// around the input and after the zeros row (a stray read makes NaN outputs), `untouched` around
/// and throughout the output (a stray write changes it). Returns the output and whether the
/// guards after and before it are intact.
func runDepthwiseNHWCKernel(_ s: DepthwiseNHWCShape, input: [Float], oihw: [Float], bias: [Float]?, residual: [Float]?,
                            lower: Float, upper: Float, channels: Range<Int>? = nil, rows: [Int]? = nil,
                            untouched: Float = 0) -> (output: [Float], guardsIntact: Bool) {
    let c = s.channels, fence = 3 * s.inWidth * c + 64
    let outCount = s.outHeight * s.outWidth * c, rowFloats = s.outWidth * c
    precondition(input.count == s.inHeight * s.inWidth * c && oihw.count == 9 * c)

    let packed = UnsafeMutablePointer<Float>.allocate(capacity: 10 * c)
    packed.initialize(repeating: .nan, count: 10 * c)
    let weights = UnsafeMutablePointer<Float>.allocate(capacity: 9 * c)
    weights.initialize(from: oihw, count: 9 * c)
    let biasBuffer = UnsafeMutablePointer<Float>.allocate(capacity: c)
    biasBuffer.initialize(from: bias ?? [Float](repeating: .nan, count: c), count: c)
    let x = UnsafeMutablePointer<Float>.allocate(capacity: input.count + 2 * fence)
    x.initialize(repeating: .nan, count: input.count + 2 * fence)
    (x + fence).update(from: input, count: input.count)
    let zeros = UnsafeMutablePointer<Float>.allocate(capacity: s.inWidth * c + fence)
    zeros.initialize(repeating: 0, count: s.inWidth * c)
    (zeros + s.inWidth * c).initialize(repeating: .nan, count: fence)
    let y = UnsafeMutablePointer<Float>.allocate(capacity: outCount + 2 * fence)
    y.initialize(repeating: untouched, count: outCount + 2 * fence)
    let r = UnsafeMutablePointer<Float>.allocate(capacity: max(1, outCount))
    r.initialize(from: residual ?? [Float](repeating: .nan, count: outCount), count: outCount)
    defer {
        for p in [packed, weights, biasBuffer, x, zeros, y, r] { p.deallocate() }
    }

    packDepthwiseNHWCWeights(oihw: weights, bias: bias == nil ? nil : UnsafePointer(biasBuffer), channels: c, into: packed)
    for oy in rows ?? Array(0..<s.outHeight) {
        depthwiseNHWCRow(s, oy: oy, input: x + fence, weights: packed, zeros: zeros, output: y + fence + oy * rowFloats,
                         residual: residual == nil ? nil : UnsafePointer(r + oy * rowFloats), lower: lower, upper: upper,
                         channels: channels ?? 0..<c)
    }
    let output = Array(UnsafeBufferPointer(start: y + fence, count: outCount))
    let before = UnsafeBufferPointer(start: y, count: fence), after = UnsafeBufferPointer(start: y + fence + outCount, count: fence)
    let intact = (Array(before) + Array(after)).allSatisfy { $0.bitPattern == untouched.bitPattern }
    return (output, intact)
}

/// Largest |a − b| / max(1, |b|) over two arrays; infinity when either holds a NaN or the counts differ.
func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        if x.isNaN || y.isNaN { return .infinity }
        worst = max(worst, abs(x - y) / max(1, abs(y)))
    }
    return worst
}

@Suite struct DepthwiseNHWCKernelTests {
    /// Random layer data for a shape: input, OIHW weights, bias, residual.
    static func data(_ s: DepthwiseNHWCShape, seed: UInt64) -> (input: [Float], oihw: [Float], bias: [Float], residual: [Float]) {
        let c = s.channels
        return (Tensor.random(shape: [s.inHeight * s.inWidth * c], seed: seed, in: -2...2).scalars,
                Tensor.random(shape: [c * 9], seed: seed + 1).scalars,
                Tensor.random(shape: [c], seed: seed + 2).scalars,
                Tensor.random(shape: [s.outHeight * s.outWidth * c], seed: seed + 3).scalars)
    }

    // MARK: Whole rows against the scalar loop

    struct Geometry: CustomTestStringConvertible, Sendable {
        var stride: Int, pad: Int
        var testDescription: String { "stride \(stride) pad \(pad)" }
    }

    static let geometries = [1, 2].flatMap { stride in (0...2).map { Geometry(stride: stride, pad: $0) } }

    @Test(.requiresPackedKernels, arguments: geometries)
    func everyRowMatchesTheScalarLoop(_ g: Geometry) throws {
        var remainders = Set<Int>()
        var runs = 0
        for inWidth in 1...19 {
            for inHeight in [1, 4] {
                for channels in [8, 16, 24] {
                    guard let s = depthwiseNHWCShape(inHeight: inHeight, inWidth: inWidth, channels: channels, stride: g.stride, pad: g.pad)
                    else { continue }
                    let interior = interiorColumnsByScan(s).count
                    if interior >= 4 { remainders.insert(interior % 4) }
                    let d = Self.data(s, seed: UInt64(inWidth * 100 + inHeight * 10 + channels))
                    let expected = referenceDepthwiseNHWC(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: nil,
                                                          lower: -.infinity, upper: .infinity)
                    let run = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: nil,
                                                     lower: -.infinity, upper: .infinity)
                    let error = maxRelativeDifference(run.output, expected)
                    #expect(error < 1e-5, "in \(inHeight)×\(inWidth), \(channels) channels: error \(error)")
                    #expect(run.guardsIntact, "in \(inHeight)×\(inWidth), \(channels) channels: wrote outside the output")
                    runs += 1
                }
            }
        }
        #expect(runs >= 50, "every geometry runs many shapes")
        #expect(remainders == [0, 1, 2, 3], "groups of four interior pixels leave every remainder in some case")
    }

    @Test(.requiresPackedKernels, arguments: [1, 2])
    func asymmetricPaddingLeavesTheRightBorderToTheInput(stride: Int) throws {
        // Pads 2 at the top and left, none at the bottom and right: the last columns are interior.
        for inWidth in [5, 9, 14] {
            let s = try #require(depthwiseNHWCShape(inHeight: 6, inWidth: inWidth, channels: 16, stride: stride, pad: 2, padEnd: 0))
            let d = Self.data(s, seed: 7)
            let expected = referenceDepthwiseNHWC(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: nil, lower: -.infinity, upper: .infinity)
            let run = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: nil, lower: -.infinity, upper: .infinity)
            #expect(maxRelativeDifference(run.output, expected) < 1e-5, "width \(inWidth)")
            #expect(run.guardsIntact)
        }
    }

    @Test(.requiresPackedKernels)
    func rowsEntirelyInThePaddingReadOnlyTheZerosRow() throws {
        // One input row, pad 2: output row 0 has two tap rows in the padding, row 2 likewise below.
        for stride in [1, 2] {
            let s = try #require(depthwiseNHWCShape(inHeight: 1, inWidth: 11, channels: 8, stride: stride, pad: 2))
            let d = Self.data(s, seed: 17)
            let expected = referenceDepthwiseNHWC(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: nil, lower: -.infinity, upper: .infinity)
            let run = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: nil, lower: -.infinity, upper: .infinity)
            #expect(!run.output.contains { $0.isNaN }, "stride \(stride): a tap read past the input or the zeros row")
            #expect(maxRelativeDifference(run.output, expected) < 1e-5, "stride \(stride)")
        }
    }

    @Test(.requiresPackedKernels)
    func withoutBiasTheKernelAddsNothing() throws {
        let s = try #require(depthwiseNHWCShape(inHeight: 5, inWidth: 10, channels: 16, stride: 1, pad: 1))
        let d = Self.data(s, seed: 23)
        let expected = referenceDepthwiseNHWC(s, input: d.input, oihw: d.oihw, bias: nil, residual: nil, lower: -.infinity, upper: .infinity)
        let run = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: nil, residual: nil, lower: -.infinity, upper: .infinity)
        #expect(maxRelativeDifference(run.output, expected) < 1e-5)
        // An all-zero input leaves exactly the bias (here none).
        let zeroInput = [Float](repeating: 0, count: d.input.count)
        #expect(runDepthwiseNHWCKernel(s, input: zeroInput, oihw: d.oihw, bias: nil, residual: nil, lower: -.infinity, upper: .infinity)
            .output.allSatisfy { $0 == 0 })
    }

    // MARK: Residual and clamp

    struct Epilogue: CustomTestStringConvertible, Sendable {
        var residual: Bool, lower: Float, upper: Float
        var testDescription: String { "\(residual ? "residual" : "no residual") [\(lower), \(upper)]" }
    }

    static let epilogues: [Epilogue] = [false, true].flatMap { residual in
        [(-Float.infinity, Float.infinity), (0, Float.infinity), (-0.5, 0.75), (-Float.infinity, 0.25)].map {
            Epilogue(residual: residual, lower: $0.0, upper: $0.1)
        }
    }

    @Test(.requiresPackedKernels, arguments: epilogues)
    func residualAndClampApplyToEveryOutput(_ e: Epilogue) throws {
        for stride in [1, 2] {
            let s = try #require(depthwiseNHWCShape(inHeight: 9, inWidth: 13, channels: 24, stride: stride, pad: 1))
            let d = Self.data(s, seed: 31)
            let residual = e.residual ? d.residual : nil
            let expected = referenceDepthwiseNHWC(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: residual, lower: e.lower, upper: e.upper)
            if e.lower > -.infinity { #expect(expected.contains(e.lower), "the lower bound is reached") }
            if e.upper < .infinity { #expect(expected.contains(e.upper), "the upper bound is reached") }
            let run = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: residual, lower: e.lower, upper: e.upper)
            #expect(maxRelativeDifference(run.output, expected) < 1e-5, "stride \(stride)")
            #expect(run.output.allSatisfy { $0 >= e.lower && $0 <= e.upper })
            #expect(run.guardsIntact)
        }
    }

    // MARK: Channel sub-ranges

    struct SubRange: CustomTestStringConvertible, Sendable {
        var channels: Int, range: Range<Int>, residual: Bool, clamped: Bool
        var testDescription: String { "\(range) of \(channels)\(residual ? " +residual" : "")\(clamped ? " clamped" : "")" }
    }

    static let subRanges: [SubRange] = [
        SubRange(channels: 24, range: 8..<16, residual: false, clamped: false),
        SubRange(channels: 24, range: 8..<16, residual: true, clamped: true),
        SubRange(channels: 24, range: 8..<16, residual: false, clamped: true),
        SubRange(channels: 24, range: 0..<8, residual: true, clamped: false),
        SubRange(channels: 24, range: 16..<24, residual: false, clamped: true),
        SubRange(channels: 24, range: 0..<16, residual: true, clamped: true),
        SubRange(channels: 16, range: 8..<16, residual: true, clamped: true),
    ]

    @Test(.requiresPackedKernels, arguments: subRanges)
    func aChannelRangeWritesOnlyItsChannels(_ c: SubRange) throws {
        // A sentinel outside any clamp bound: the clamp would change it if it reached those channels.
        let sentinel: Float = 12345
        let (lower, upper): (Float, Float) = c.clamped ? (-0.5, 0.5) : (-.infinity, .infinity)
        for stride in [1, 2] {
            for inWidth in [6, 13] {
                let s = try #require(depthwiseNHWCShape(inHeight: 7, inWidth: inWidth, channels: c.channels, stride: stride, pad: 1))
                let d = Self.data(s, seed: 41)
                let residual = c.residual ? d.residual : nil
                let expected = referenceDepthwiseNHWC(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: residual,
                                                      lower: lower, upper: upper, channels: c.range, untouched: sentinel)
                let run = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: residual,
                                                 lower: lower, upper: upper, channels: c.range, untouched: sentinel)
                var outsideKept = true
                for (index, value) in run.output.enumerated() where !c.range.contains(index % c.channels) {
                    outsideKept = outsideKept && value.bitPattern == sentinel.bitPattern
                }
                #expect(outsideKept, "stride \(stride) width \(inWidth): channels outside \(c.range) were written")
                #expect(maxRelativeDifference(run.output, expected) < 1e-5, "stride \(stride) width \(inWidth)")
                #expect(run.guardsIntact)
            }
        }
    }

    @Test(.requiresPackedKernels)
    func channelHalvesComputedSeparatelyEqualTheWholeRowBitForBit() throws {
        let s = try #require(depthwiseNHWCShape(inHeight: 8, inWidth: 15, channels: 24, stride: 1, pad: 1))
        let d = Self.data(s, seed: 43)
        let whole = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: d.residual, lower: -1, upper: 1)
        let low = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: d.residual, lower: -1, upper: 1, channels: 0..<16)
        let high = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: d.residual, lower: -1, upper: 1, channels: 16..<24)
        let merged = (0..<whole.output.count).map { $0 % 24 < 16 ? low.output[$0] : high.output[$0] }
        #expect(merged.map(\.bitPattern) == whole.output.map(\.bitPattern))
    }

    // MARK: Operation order

    /// The kernel's documented order for one output: bias, then the nine taps in row-major
    /// order as fused multiply-adds (padding taps multiply a zero), then + residual, then clamp.
    static func fusedOrderReference(_ s: DepthwiseNHWCShape, input: [Float], oihw: [Float], bias: [Float], residual: [Float],
                                    lower: Float, upper: Float) -> [Float] {
        let c = s.channels
        var out = [Float](repeating: 0, count: s.outHeight * s.outWidth * c)
        for oy in 0..<s.outHeight {
            for ox in 0..<s.outWidth {
                for ch in 0..<c {
                    var acc = bias[ch]
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let iy = oy * s.stride - s.padTop + ky, ix = ox * s.stride - s.padLeft + kx
                            let x: Float = iy >= 0 && iy < s.inHeight && ix >= 0 && ix < s.inWidth ? input[(iy * s.inWidth + ix) * c + ch] : 0
                            acc = acc.addingProduct(x, oihw[ch * 9 + ky * 3 + kx])
                        }
                    }
                    let index = (oy * s.outWidth + ox) * c + ch
                    out[index] = min(max(acc + residual[index], lower), upper)
                }
            }
        }
        return out
    }

    @Test(.requiresPackedKernels, arguments: geometries)
    func borderAndInteriorPixelsFollowTheSameOperationOrder(_ g: Geometry) throws {
        // Bit-exact against the documented order: quads, single interior pixels and border
        // pixels must all compute each value the same way.
        let s = try #require(depthwiseNHWCShape(inHeight: 5, inWidth: 18, channels: 16, stride: g.stride, pad: g.pad))
        let d = Self.data(s, seed: 53)
        let expected = Self.fusedOrderReference(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: d.residual, lower: -1.5, upper: 1.5)
        let run = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: d.residual, lower: -1.5, upper: 1.5)
        #expect(run.output.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test(.requiresPackedKernels)
    func rowsAreIndependentOfTheOrderTheyRunIn() throws {
        let s = try #require(depthwiseNHWCShape(inHeight: 12, inWidth: 12, channels: 8, stride: 2, pad: 1))
        let d = Self.data(s, seed: 59)
        let forward = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: d.residual, lower: 0, upper: 6)
        let backward = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: d.residual, lower: 0, upper: 6,
                                              rows: Array((0..<s.outHeight).reversed()))
        #expect(forward.output.map(\.bitPattern) == backward.output.map(\.bitPattern))
        // A single row leaves the other rows untouched.
        let sentinel: Float = -777
        let one = runDepthwiseNHWCKernel(s, input: d.input, oihw: d.oihw, bias: d.bias, residual: d.residual, lower: 0, upper: 6,
                                         rows: [2], untouched: sentinel)
        let rowFloats = s.outWidth * s.channels
        for (index, value) in one.output.enumerated() {
            if index / rowFloats == 2 {
                #expect(value.bitPattern == forward.output[index].bitPattern)
            } else if value.bitPattern != sentinel.bitPattern {
                Issue.record("row \(index / rowFloats) was written by row 2's call")
                break
            }
        }
    }

    // MARK: Packing

    @Test(arguments: [8, 16, 24])
    func packingIsTapMajorWithTheBiasLast(channels: Int) {
        let oihw = (0..<9 * channels).map { Float($0) + 0.25 }
        let bias = (0..<channels).map { -Float($0) - 0.5 }
        let slack = 16
        var packed = [Float](repeating: .nan, count: 10 * channels + slack)
        var unbiased = packed
        packed.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            packDepthwiseNHWCWeights(oihw: oihw, bias: bias, channels: channels, into: base)
        }
        unbiased.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            packDepthwiseNHWCWeights(oihw: oihw, bias: nil, channels: channels, into: base)
        }
        for c in 0..<channels {
            for tap in 0..<9 {
                #expect(packed[tap * channels + c] == oihw[c * 9 + tap])
                #expect(unbiased[tap * channels + c] == oihw[c * 9 + tap])
            }
            #expect(packed[9 * channels + c] == bias[c])
            #expect(unbiased[9 * channels + c] == 0, "no bias packs zeros")
        }
        #expect(packed[(10 * channels)...].allSatisfy { $0.isNaN }, "nothing past 10 × channels floats is written")
        #expect(unbiased[(10 * channels)...].allSatisfy { $0.isNaN })
    }

    // MARK: Shapes

    @Test func supportedShapesNeedChannelsInEightsStrideOneOrTwoAndNarrowPadding() {
        let base = DepthwiseNHWCShape(inHeight: 8, inWidth: 8, outHeight: 8, outWidth: 8, channels: 16, stride: 1, padTop: 1, padLeft: 1)
        #expect(base.isSupported)
        func with(_ change: (inout DepthwiseNHWCShape) -> Void) -> DepthwiseNHWCShape {
            var s = base
            change(&s)
            return s
        }
        // Accepted variations.
        for s in [with { $0.channels = 8 }, with { $0.channels = 512 }, with { $0.stride = 2 }, with { $0.padTop = 0; $0.padLeft = 0 },
                  with { $0.padTop = 2; $0.padLeft = 2 }, with { $0.padTop = 0; $0.padLeft = 2 },
                  with { $0.inHeight = 1; $0.inWidth = 1; $0.outHeight = 1; $0.outWidth = 1 }] {
            #expect(s.isSupported, "\(s)")
        }
        // Refused ones.
        for s in [with { $0.channels = 0 }, with { $0.channels = 12 }, with { $0.channels = 4 }, with { $0.channels = -8 },
                  with { $0.stride = 0 }, with { $0.stride = 3 }, with { $0.padTop = 3 }, with { $0.padLeft = 3 },
                  with { $0.padTop = -1 }, with { $0.padLeft = -1 }, with { $0.inHeight = 0 }, with { $0.inWidth = 0 },
                  with { $0.outHeight = 0 }, with { $0.outWidth = 0 }] {
            #expect(!s.isSupported, "\(s)")
        }
    }

    @Test func interiorColumnsAreExactlyThoseWhoseTapsLieInsideTheRow() {
        var checked = 0
        for stride in [1, 2] {
            for pad in 0...2 {
                for padEnd in 0...2 {
                    for inWidth in 1...20 {
                        guard let s = depthwiseNHWCShape(inHeight: 3, inWidth: inWidth, channels: 8, stride: stride, pad: pad, padEnd: padEnd)
                        else { continue }
                        let expected = interiorColumnsByScan(s)
                        let interior = s.interiorColumns
                        #expect(Array(interior) == expected, "stride \(stride) pads \(pad)/\(padEnd) width \(inWidth)")
                        #expect(interior.lowerBound >= 0 && interior.upperBound <= s.outWidth)
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 300)
    }
}
