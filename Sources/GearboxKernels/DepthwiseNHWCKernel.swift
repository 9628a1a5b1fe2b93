// GearboxKernels/DepthwiseNHWCKernel: one output row of a 3×3 depthwise convolution on NHWC
// tensors (channels innermost, a multiple of 8), stride 1 or 2. The row is swept four output
// pixels at a time, all channel groups of 8 for each: a group's nine weights are loaded once
// for the four pixels, and neighbouring pixels share their input loads (stride 1: 6 loads per
// tap row for 12 multiply-adds), where XNNPACK's depthwise kernel loads both per pixel. The
// channels run innermost, so each of the 18 input streams is read sequentially. Pixels whose
// taps reach into the left or right padding take a per-pixel path with the same operation order
// (padding taps read zeros), so every output value is computed identically wherever it lies and
// whichever thread runs its row.
//
// Compiled like the rest of this module (always -O, AVX2 + FMA on x86-64): callers must check
// the CPU first (GearboxEngine's `KernelSupport`).

/// The shape of a 3×3 NHWC depthwise layer (one output channel per input channel).
package struct DepthwiseNHWCShape: Sendable, Equatable {
    package var inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    package var channels: Int
    package var stride: Int
    package var padTop: Int, padLeft: Int

    package init(inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int, channels: Int, stride: Int, padTop: Int, padLeft: Int) {
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.channels = channels
        self.stride = stride
        self.padTop = padTop
        self.padLeft = padLeft
    }

    /// Whether the kernel handles the shape: channels in groups of 8, stride 1 or 2, padding
    /// narrower than the filter.
    package var isSupported: Bool {
        channels > 0 && channels % 8 == 0 && (stride == 1 || stride == 2) && (0...2).contains(padTop) && (0...2).contains(padLeft)
            && inHeight > 0 && inWidth > 0 && outHeight > 0 && outWidth > 0
    }

    /// Output columns whose three taps all lie inside the input row.
    var interiorColumns: Range<Int> {
        let lo = min(outWidth, (padLeft + stride - 1) / stride)
        let last = inWidth - 3 + padLeft  // ox·stride ≤ last
        let hi = last < 0 ? 0 : min(outWidth, last / stride + 1)
        return lo..<max(lo, hi)
    }
}

/// Writes weights in the kernel's layout into `packed` (10 × channels floats): nine taps of
/// `channels` floats each (tap-major, so a tap's 8 channels are one load), then the bias.
/// - Parameters:
///   - oihw: ONNX's [C, 1, 3, 3] weights.
///   - bias: C values, or nil for zeros.
package func packDepthwiseNHWCWeights(oihw: UnsafePointer<Float>, bias: UnsafePointer<Float>?, channels: Int,
                                      into packed: UnsafeMutablePointer<Float>) {
    for c in 0..<channels {
        for tap in 0..<9 { packed[tap * channels + c] = oihw[c * 9 + tap] }
        packed[9 * channels + c] = bias?[c] ?? 0
    }
}

/// Computes channels `channels` (a range of multiples of 8) of output row `oy` into `output`
/// (the row's first pixel) from the packed
/// `weights` (`packDepthwiseNHWCWeights`), then adds `residual` (same layout as the output row,
/// or nil) and clamps to [lower, upper]. `zeros` holds at least `inWidth × channels` zeros: taps
/// in the padding read it, so that border pixels take the same multiply-adds (by zero) as the
/// rest, and rows in the padding take the fast path.
package func depthwiseNHWCRow(_ s: DepthwiseNHWCShape, oy: Int, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                              zeros: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                              lower: Float, upper: Float, channels: Range<Int>) {
    typealias V = SIMD8<Float>
    let c = s.channels, rowFloats = s.inWidth &* c
    let firstRow = oy &* s.stride &- s.padTop
    let interior = s.interiorColumns
    let w = UnsafeRawPointer(weights)
    let pixelBytes = c &* 4, rowBytes = rowFloats &* 4
    let out = UnsafeMutableRawPointer(output)
    let zero = UnsafeRawPointer(zeros)
    let firstGroup = channels.lowerBound &* 4, endGroup = channels.upperBound &* 4
    @inline(__always) func row(_ ky: Int) -> UnsafeRawPointer {
        let iy = firstRow &+ ky
        return iy >= 0 && iy < s.inHeight ? UnsafeRawPointer(input) + iy &* rowBytes : zero
    }
    let r0 = row(0), r1 = row(1), r2 = row(2)
    @inline(__always) func weight(_ tap: Int, _ groupBytes: Int) -> V {
        w.loadUnaligned(fromByteOffset: tap &* pixelBytes &+ groupBytes, as: V.self)
    }
    // A pixel whose taps may reach into the left or right padding: nine tap addresses, the
    // padded ones in `zeros`, then every channel group.
    @inline(__always) func borderPixel(_ ox: Int) {
        let first = ox &* s.stride &- s.padLeft
        @inline(__always) func tap(_ r: UnsafeRawPointer, _ kx: Int) -> UnsafeRawPointer {
            let ix = first &+ kx
            return ix >= 0 && ix < s.inWidth ? r + ix &* pixelBytes : zero
        }
        let t0 = tap(r0, 0), t1 = tap(r0, 1), t2 = tap(r0, 2)
        let t3 = tap(r1, 0), t4 = tap(r1, 1), t5 = tap(r1, 2)
        let t6 = tap(r2, 0), t7 = tap(r2, 1), t8 = tap(r2, 2)
        var gb = firstGroup
        while gb < endGroup {
            var acc = weight(9, gb)
            acc = acc.addingProduct(t0.loadUnaligned(fromByteOffset: gb, as: V.self), weight(0, gb))
            acc = acc.addingProduct(t1.loadUnaligned(fromByteOffset: gb, as: V.self), weight(1, gb))
            acc = acc.addingProduct(t2.loadUnaligned(fromByteOffset: gb, as: V.self), weight(2, gb))
            acc = acc.addingProduct(t3.loadUnaligned(fromByteOffset: gb, as: V.self), weight(3, gb))
            acc = acc.addingProduct(t4.loadUnaligned(fromByteOffset: gb, as: V.self), weight(4, gb))
            acc = acc.addingProduct(t5.loadUnaligned(fromByteOffset: gb, as: V.self), weight(5, gb))
            acc = acc.addingProduct(t6.loadUnaligned(fromByteOffset: gb, as: V.self), weight(6, gb))
            acc = acc.addingProduct(t7.loadUnaligned(fromByteOffset: gb, as: V.self), weight(7, gb))
            acc = acc.addingProduct(t8.loadUnaligned(fromByteOffset: gb, as: V.self), weight(8, gb))
            out.storeBytes(of: acc, toByteOffset: ox &* pixelBytes &+ gb, as: V.self)
            gb &+= 32
        }
    }
    for ox in 0..<interior.lowerBound { borderPixel(ox) }
    if !interior.isEmpty {
        // Input column of output ox's first tap, in bytes.
        @inline(__always) func column(_ ox: Int) -> Int { (ox &* s.stride &- s.padLeft) &* pixelBytes }
        var ox = interior.lowerBound
        // Four pixels per channel group: the group's nine weights are loaded once for them, and
        // at stride 1 each tap row's six inputs once for all four.
        while ox &+ 4 <= interior.upperBound {
            let base = column(ox), o = ox &* pixelBytes
            var gb = firstGroup
            while gb < endGroup {
                let b = base &+ gb
                var a0 = weight(9, gb)
                var a1 = a0, a2 = a0, a3 = a0
                @inline(__always) func x(_ r: UnsafeRawPointer, _ i: Int) -> V { r.loadUnaligned(fromByteOffset: b &+ i &* pixelBytes, as: V.self) }
                @inline(__always) func tapRow(_ r: UnsafeRawPointer, _ t: Int) {
                    let k0 = weight(t, gb), k1 = weight(t &+ 1, gb), k2 = weight(t &+ 2, gb)
                    if s.stride == 1 {
                        let x0 = x(r, 0), x1 = x(r, 1), x2 = x(r, 2), x3 = x(r, 3), x4 = x(r, 4), x5 = x(r, 5)
                        a0 = a0.addingProduct(x0, k0).addingProduct(x1, k1).addingProduct(x2, k2)
                        a1 = a1.addingProduct(x1, k0).addingProduct(x2, k1).addingProduct(x3, k2)
                        a2 = a2.addingProduct(x2, k0).addingProduct(x3, k1).addingProduct(x4, k2)
                        a3 = a3.addingProduct(x3, k0).addingProduct(x4, k1).addingProduct(x5, k2)
                    } else {
                        let x2 = x(r, 2), x4 = x(r, 4), x6 = x(r, 6)
                        a0 = a0.addingProduct(x(r, 0), k0).addingProduct(x(r, 1), k1).addingProduct(x2, k2)
                        a1 = a1.addingProduct(x2, k0).addingProduct(x(r, 3), k1).addingProduct(x4, k2)
                        a2 = a2.addingProduct(x4, k0).addingProduct(x(r, 5), k1).addingProduct(x6, k2)
                        a3 = a3.addingProduct(x6, k0).addingProduct(x(r, 7), k1).addingProduct(x(r, 8), k2)
                    }
                }
                tapRow(r0, 0)
                tapRow(r1, 3)
                tapRow(r2, 6)
                out.storeBytes(of: a0, toByteOffset: o &+ gb, as: V.self)
                out.storeBytes(of: a1, toByteOffset: o &+ pixelBytes &+ gb, as: V.self)
                out.storeBytes(of: a2, toByteOffset: o &+ 2 &* pixelBytes &+ gb, as: V.self)
                out.storeBytes(of: a3, toByteOffset: o &+ 3 &* pixelBytes &+ gb, as: V.self)
                gb &+= 32
            }
            ox &+= 4
        }
        while ox < interior.upperBound {
            let base = column(ox), o = ox &* pixelBytes
            var gb = firstGroup
            while gb < endGroup {
                let b = base &+ gb
                var acc = weight(9, gb)
                @inline(__always) func tapRow(_ r: UnsafeRawPointer, _ t: Int) {
                    acc = acc.addingProduct(r.loadUnaligned(fromByteOffset: b, as: V.self), weight(t, gb))
                    acc = acc.addingProduct(r.loadUnaligned(fromByteOffset: b &+ pixelBytes, as: V.self), weight(t &+ 1, gb))
                    acc = acc.addingProduct(r.loadUnaligned(fromByteOffset: b &+ 2 &* pixelBytes, as: V.self), weight(t &+ 2, gb))
                }
                tapRow(r0, 0)
                tapRow(r1, 3)
                tapRow(r2, 6)
                out.storeBytes(of: acc, toByteOffset: o &+ gb, as: V.self)
                gb &+= 32
            }
            ox &+= 1
        }
    }
    for ox in max(interior.upperBound, interior.lowerBound)..<s.outWidth { borderPixel(ox) }
    // The residual and clamp run over the finished row, where the compiler vectorises them (a
    // lane-wise select on SIMD8 measured far slower; see DepthwiseKernel).
    let lo = lower, hi = upper
    guard residual != nil || lo > -.infinity || hi < .infinity else { return }
    let count = s.outWidth &* c
    if channels.count == c {
        if let residual {
            for i in 0..<count { output[i] = Swift.min(Swift.max(output[i] + residual[i], lo), hi) }
        } else {
            for i in 0..<count { output[i] = Swift.min(Swift.max(output[i], lo), hi) }
        }
        return
    }
    var pixel = 0
    while pixel < count {
        let first = pixel &+ channels.lowerBound
        if let residual {
            for i in first..<(first &+ channels.count) { output[i] = Swift.min(Swift.max(output[i] + residual[i], lo), hi) }
        } else {
            for i in first..<(first &+ channels.count) { output[i] = Swift.min(Swift.max(output[i], lo), hi) }
        }
        pixel &+= c
    }
}
