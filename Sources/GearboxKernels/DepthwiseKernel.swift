// GearboxKernels/DepthwiseKernel: one channel plane of a depthwise convolution (NCHW), 8 output
// pixels per SIMD register, with the layer's epilogue (bias, residual Add, clamp) applied in
// registers before the single store and the clamp over each finished row. 3×3 planes (stride 1
// or 2) are copied into a zero-bordered scratch buffer so that every pixel takes the vector path
// with the nine weights in registers; other shapes run their interior pixels (every tap inside
// the input) without bounds checks and their borders on a checked scalar path.
//
// Compiled like the rest of this module (always -O, AVX2 + FMA on x86-64): callers must check
// the CPU first (GearboxEngine's `KernelSupport`).

/// The shape of one depthwise plane: input and output sizes, kernel, strides, pads, dilations.
package struct DepthwisePlaneShape: Sendable, Equatable {
    package var inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    package var kernelHeight: Int, kernelWidth: Int
    package var strideHeight: Int, strideWidth: Int
    package var padTop: Int, padLeft: Int
    package var dilationHeight: Int, dilationWidth: Int

    package init(inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int, kernelHeight: Int, kernelWidth: Int,
                 strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int, dilationHeight: Int, dilationWidth: Int) {
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
    }

    /// 3×3 planes (stride 1 or 2, no dilation) are copied into a zero-bordered buffer first, so
    /// every output, border pixels included, takes the vector path: the checked border path
    /// otherwise dominates small planes (on MobileNetV2's shapes the copy measured faster at
    /// every width, 7 to 112 pixels).
    var usesPaddedCopy: Bool {
        kernelHeight == 3 && kernelWidth == 3 && dilationHeight == 1 && dilationWidth == 1
            && (strideWidth == 1 || strideWidth == 2)
    }

    /// Row length of the padded copy: the input row behind `padLeft` zeros, and room for the
    /// last (partial) 8-pixel vector's loads, 16 floats per tap row at stride 2.
    var paddedWidth: Int { max(inWidth + padLeft, (outWidth + 7) / 8 * 8 * strideWidth + 4) }
    /// Rows of the padded copy: the input below `padTop` zero rows, and the last output row's taps.
    var paddedHeight: Int { max(inHeight + padTop, (outHeight - 1) * strideHeight + 3) }
    /// Floats of scratch a padded copy needs (0 when the plane does not use one).
    package var paddedFloats: Int { usesPaddedCopy ? paddedWidth * paddedHeight : 0 }

    /// Output columns [lo, hi) whose taps all fall inside the input row.
    var interiorColumns: Range<Int> {
        let span = (kernelWidth - 1) * dilationWidth
        let lo = (padLeft + strideWidth - 1) / strideWidth
        let last = inWidth - 1 - span + padLeft  // ox * stride <= last
        let hi = last < 0 ? 0 : last / strideWidth + 1
        return min(lo, outWidth)..<max(min(lo, outWidth), min(hi, outWidth))
    }

    /// Output rows whose taps all fall inside the input.
    var interiorRows: Range<Int> {
        let span = (kernelHeight - 1) * dilationHeight
        let lo = (padTop + strideHeight - 1) / strideHeight
        let last = inHeight - 1 - span + padTop
        let hi = last < 0 ? 0 : last / strideHeight + 1
        return min(lo, outHeight)..<max(min(lo, outHeight), min(hi, outHeight))
    }
}

/// What happens to each output value before it is stored: y = clamp(acc + bias + residual, lo, hi).
/// ReLU is (0, +∞), ReLU6 (0, 6), no activation (−∞, +∞).
package struct DepthwiseEpilogue {
    package var bias: Float
    /// Same layout as the output plane, or nil.
    package var residual: UnsafePointer<Float>?
    package var lower: Float
    package var upper: Float

    package init(bias: Float, residual: UnsafePointer<Float>?, lower: Float, upper: Float) {
        self.bias = bias
        self.residual = residual
        self.lower = lower
        self.upper = upper
    }

    var clamps: Bool { lower > -.infinity || upper < .infinity }

    /// The clamp runs over each finished row, where the compiler vectorises it; a lane-wise
    /// select on SIMD8 (`replacing(with:where:)`) measured 25 times slower than the whole kernel.
    @inline(__always)
    func clamp(_ p: UnsafeMutablePointer<Float>, count: Int) {
        let lo = lower, hi = upper
        for i in 0..<count { p[i] = Swift.min(Swift.max(p[i], lo), hi) }
    }

    @inline(__always)
    func finish(_ acc: Float, at index: Int) -> Float {
        var v = acc + bias
        if let residual { v += residual[index] }
        return Swift.min(Swift.max(v, lower), upper)
    }

    /// Bias and residual of 8 outputs; the clamp follows over the row.
    @inline(__always)
    func finish(_ acc: SIMD8<Float>, at index: Int) -> SIMD8<Float> {
        var v = acc + SIMD8(repeating: bias)
        if let residual { v += UnsafeRawPointer(residual + index).loadUnaligned(as: SIMD8<Float>.self) }
        return v
    }
}

/// Convolves one input plane with one kH×kW filter into one output plane (overwriting it) and
/// applies `epilogue`. `padded` holds `shape.paddedFloats` floats of the caller's scratch (nil:
/// no padded copy, the border pixels take the checked path). Every output value is computed by the same sequence of operations for a
/// given shape, whichever thread runs the plane.
package func depthwiseConvolvePlane(_ s: DepthwisePlaneShape, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                    output: UnsafeMutablePointer<Float>, epilogue: DepthwiseEpilogue, padded: UnsafeMutablePointer<Float>?) {
    if let padded, s.usesPaddedCopy {
        paddedPlane3x3(s, input: input, weights: weights, output: output, epilogue: epilogue, padded: padded)
        return
    }
    let rows = s.interiorRows, columns = s.interiorColumns
    for oy in 0..<s.outHeight {
        let out = output + oy &* s.outWidth
        let rowOffset = oy &* s.outWidth
        if rows.contains(oy) && s.kernelHeight == 3 && s.kernelWidth == 3 && s.dilationWidth == 1 && s.dilationHeight == 1
            && (s.strideWidth == 1 || s.strideWidth == 2) {
            let top = input + (oy &* s.strideHeight &- s.padTop) &* s.inWidth
            // Stride 2 loads 16 floats per tap row from 2·ox, one past the last tap: keep that in the row.
            let limit = s.inWidth - 4 + s.padLeft
            let usable = s.strideWidth == 1 ? columns.count
                : max(0, min(columns.upperBound, limit < 0 ? 0 : limit / 2 + 1) - columns.lowerBound)
            let vectorEnd = columns.lowerBound + (usable & ~7)
            interior3x3(top: top, inWidth: s.inWidth, shift: -s.padLeft, strideWidth: s.strideWidth, weights: weights, out: out,
                        columns: columns.lowerBound..<vectorEnd, rowOffset: rowOffset, epilogue: epilogue)
            checkedColumns(s, oy: oy, input: input, weights: weights, out: out, rowOffset: rowOffset, epilogue: epilogue,
                           columns: 0..<columns.lowerBound)
            checkedColumns(s, oy: oy, input: input, weights: weights, out: out, rowOffset: rowOffset, epilogue: epilogue,
                           columns: vectorEnd..<s.outWidth)
        } else if rows.contains(oy) && s.strideWidth == 1 {
            let vectorEnd = columns.lowerBound + (columns.count & ~7)
            interiorGeneralStride1(s, oy: oy, input: input, weights: weights, out: out, columns: columns.lowerBound..<vectorEnd,
                                   rowOffset: rowOffset, epilogue: epilogue)
            checkedColumns(s, oy: oy, input: input, weights: weights, out: out, rowOffset: rowOffset, epilogue: epilogue,
                           columns: 0..<columns.lowerBound)
            checkedColumns(s, oy: oy, input: input, weights: weights, out: out, rowOffset: rowOffset, epilogue: epilogue,
                           columns: vectorEnd..<s.outWidth)
        } else {
            checkedColumns(s, oy: oy, input: input, weights: weights, out: out, rowOffset: rowOffset, epilogue: epilogue,
                           columns: 0..<s.outWidth)
        }
        if epilogue.clamps { epilogue.clamp(out, count: s.outWidth) }
    }
}

/// A 3×3 filter's nine weights, each broadcast to 8 lanes and held in registers for a whole row,
/// and the two ways 8 outputs are made from three input rows (`r0`…`r2`, each starting at the
/// input column of output 0's first tap).
private struct Filter3x3 {
    typealias V = SIMD8<Float>
    let w0, w1, w2, w3, w4, w5, w6, w7, w8: V

    @inline(__always)
    init(_ w: UnsafePointer<Float>) {
        w0 = V(repeating: w[0]); w1 = V(repeating: w[1]); w2 = V(repeating: w[2])
        w3 = V(repeating: w[3]); w4 = V(repeating: w[4]); w5 = V(repeating: w[5])
        w6 = V(repeating: w[6]); w7 = V(repeating: w[7]); w8 = V(repeating: w[8])
    }

    /// Outputs ox…ox+7 at stride 1: one unaligned load per tap.
    @inline(__always)
    func stride1(_ r0: UnsafeRawPointer, _ r1: UnsafeRawPointer, _ r2: UnsafeRawPointer, ox: Int) -> V {
        let b = ox &* 4
        var acc = w0 * r0.loadUnaligned(fromByteOffset: b, as: V.self)
        acc = acc.addingProduct(w1, r0.loadUnaligned(fromByteOffset: b &+ 4, as: V.self))
        acc = acc.addingProduct(w2, r0.loadUnaligned(fromByteOffset: b &+ 8, as: V.self))
        acc = acc.addingProduct(w3, r1.loadUnaligned(fromByteOffset: b, as: V.self))
        acc = acc.addingProduct(w4, r1.loadUnaligned(fromByteOffset: b &+ 4, as: V.self))
        acc = acc.addingProduct(w5, r1.loadUnaligned(fromByteOffset: b &+ 8, as: V.self))
        acc = acc.addingProduct(w6, r2.loadUnaligned(fromByteOffset: b, as: V.self))
        acc = acc.addingProduct(w7, r2.loadUnaligned(fromByteOffset: b &+ 4, as: V.self))
        return acc.addingProduct(w8, r2.loadUnaligned(fromByteOffset: b &+ 8, as: V.self))
    }

    /// Outputs ox…ox+7 at stride 2: 16 inputs per tap row. Input x of output ox is 2·ox + kx, so
    /// the taps kx = 0, 2 are even lanes of the 16 floats from 2·ox, kx = 1 the odd lanes, and
    /// kx = 2 the even lanes from 2·ox + 2. Reads one float past the last tap.
    @inline(__always)
    func stride2(_ r0: UnsafeRawPointer, _ r1: UnsafeRawPointer, _ r2: UnsafeRawPointer, ox: Int) -> V {
        let b = ox &* 8
        @inline(__always) func taps(_ r: UnsafeRawPointer, _ a: V, _ c: V, _ e: V, _ acc: V) -> V {
            let x = r.loadUnaligned(fromByteOffset: b, as: SIMD16<Float>.self)
            let y = r.loadUnaligned(fromByteOffset: b &+ 8, as: SIMD16<Float>.self)
            return acc.addingProduct(a, x.evenHalf).addingProduct(c, x.oddHalf).addingProduct(e, y.evenHalf)
        }
        return taps(r2, w6, w7, w8, taps(r1, w3, w4, w5, taps(r0, w0, w1, w2, V())))
    }
}

/// 8 outputs of a 3×3 row at stride 1 or 2 at a time, all taps inside the input.
@inline(__always)
private func interior3x3(top: UnsafePointer<Float>, inWidth: Int, shift: Int, strideWidth: Int, weights: UnsafePointer<Float>,
                         out: UnsafeMutablePointer<Float>, columns: Range<Int>, rowOffset: Int, epilogue: DepthwiseEpilogue) {
    let filter = Filter3x3(weights)
    let r0 = UnsafeRawPointer(top + shift), r1 = UnsafeRawPointer(top + inWidth + shift), r2 = UnsafeRawPointer(top + 2 &* inWidth + shift)
    var ox = columns.lowerBound
    while ox < columns.upperBound {
        let acc = strideWidth == 1 ? filter.stride1(r0, r1, r2, ox: ox) : filter.stride2(r0, r1, r2, ox: ox)
        UnsafeMutableRawPointer(out + ox).storeBytes(of: epilogue.finish(acc, at: rowOffset &+ ox), as: SIMD8<Float>.self)
        ox &+= 8
    }
}

/// 8 outputs of any stride-1 row whose taps are all inside the input (any kernel, dilation).
@inline(__always)
private func interiorGeneralStride1(_ s: DepthwisePlaneShape, oy: Int, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                    out: UnsafeMutablePointer<Float>, columns: Range<Int>, rowOffset: Int, epilogue: DepthwiseEpilogue) {
    typealias V = SIMD8<Float>
    var ox = columns.lowerBound
    while ox < columns.upperBound {
        var acc = V()
        for ky in 0..<s.kernelHeight {
            let iy = oy &* s.strideHeight &- s.padTop &+ ky &* s.dilationHeight
            let line = UnsafeRawPointer(input + (iy &* s.inWidth &+ ox &- s.padLeft))
            for kx in 0..<s.kernelWidth {
                acc = acc.addingProduct(V(repeating: weights[ky &* s.kernelWidth &+ kx]),
                                        line.loadUnaligned(fromByteOffset: kx &* s.dilationWidth &* 4, as: V.self))
            }
        }
        UnsafeMutableRawPointer(out + ox).storeBytes(of: epilogue.finish(acc, at: rowOffset &+ ox), as: V.self)
        ox &+= 8
    }
}

/// Output columns `columns` of row `oy`, one at a time, skipping taps outside the input. Taps
/// are visited in the same (ky, kx) order as the vector paths, each a fused multiply-add, so a
/// pixel's value does not depend on which path computed it.
@inline(__always)
private func checkedColumns(_ s: DepthwisePlaneShape, oy: Int, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                            out: UnsafeMutablePointer<Float>, rowOffset: Int, epilogue: DepthwiseEpilogue, columns: Range<Int>) {
    for ox in columns {
        var acc: Float = 0
        for ky in 0..<s.kernelHeight {
            let iy = oy &* s.strideHeight &- s.padTop &+ ky &* s.dilationHeight
            if iy < 0 || iy >= s.inHeight { continue }
            let line = input + iy &* s.inWidth
            for kx in 0..<s.kernelWidth {
                let ix = ox &* s.strideWidth &- s.padLeft &+ kx &* s.dilationWidth
                if ix < 0 || ix >= s.inWidth { continue }
                acc = acc.addingProduct(weights[ky &* s.kernelWidth &+ kx], line[ix])
            }
        }
        out[ox] = epilogue.finish(acc, at: rowOffset &+ ox)
    }
}

/// A small 3×3 plane through a zero-bordered copy: every output row is whole vectors (the
/// last one partial), with no bounds checks. Taps on the zero border add w · 0 to the sum,
/// which leaves it unchanged, so each value equals the checked path's.
private func paddedPlane3x3(_ s: DepthwisePlaneShape, input: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                            output: UnsafeMutablePointer<Float>, epilogue: DepthwiseEpilogue, padded: UnsafeMutablePointer<Float>) {
    typealias V = SIMD8<Float>
    let wp = s.paddedWidth, hp = s.paddedHeight
    // Zero only the border; the input rows fill the rest.
    padded.update(repeating: 0, count: s.padTop &* wp)
    for iy in 0..<s.inHeight {
        let row = padded + (iy &+ s.padTop) &* wp
        row.update(repeating: 0, count: s.padLeft)
        (row + s.padLeft).update(from: input + iy &* s.inWidth, count: s.inWidth)
        (row + (s.padLeft &+ s.inWidth)).update(repeating: 0, count: wp &- s.padLeft &- s.inWidth)
    }
    let below = s.padTop &+ s.inHeight
    (padded + below &* wp).update(repeating: 0, count: (hp &- below) &* wp)
    let filter = Filter3x3(w)
    let bias = V(repeating: epilogue.bias)
    let outW = s.outWidth
    for oy in 0..<s.outHeight {
        let r0 = UnsafeRawPointer(padded + oy &* s.strideHeight &* wp), r1 = r0 + wp &* 4, r2 = r1 + wp &* 4
        let out = output + oy &* outW
        var ox = 0
        while ox < outW {
            let acc = s.strideWidth == 1 ? filter.stride1(r0, r1, r2, ox: ox) : filter.stride2(r0, r1, r2, ox: ox)
            let v = acc + bias
            let index = oy &* outW &+ ox
            if ox &+ 8 <= outW {
                if let residual = epilogue.residual {
                    UnsafeMutableRawPointer(out + ox).storeBytes(of: v + UnsafeRawPointer(residual + index).loadUnaligned(as: V.self), as: V.self)
                } else {
                    UnsafeMutableRawPointer(out + ox).storeBytes(of: v, as: V.self)
                }
            } else {
                for lane in 0..<(outW &- ox) { out[ox &+ lane] = v[lane] + (epilogue.residual.map { $0[index &+ lane] } ?? 0) }
            }
            ox &+= 8
        }
        if epilogue.clamps { epilogue.clamp(out, count: outW) }
    }
}
