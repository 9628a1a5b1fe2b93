// GearboxKernels/DepthwiseKernel: one channel plane of a depthwise convolution (NCHW), 8 output
// pixels per SIMD register, with the layer's epilogue (bias, residual Add, clamp) applied in
// registers before the single store. Interior pixels (every tap inside the input) run without
// bounds checks; border pixels and plane edges take a checked scalar path. 3×3 stride-1 and
// stride-2 rows keep the nine weights in registers for the whole plane.
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

    @inline(__always)
    func finish(_ acc: Float, at index: Int) -> Float {
        var v = acc + bias
        if let residual { v += residual[index] }
        return Swift.min(Swift.max(v, lower), upper)
    }

    @inline(__always)
    func finish(_ acc: SIMD8<Float>, at index: Int) -> SIMD8<Float> {
        var v = acc + SIMD8(repeating: bias)
        if let residual { v += UnsafeRawPointer(residual + index).loadUnaligned(as: SIMD8<Float>.self) }
        return v.replacing(with: SIMD8(repeating: lower), where: v .< SIMD8(repeating: lower))
            .replacing(with: SIMD8(repeating: upper), where: v .> SIMD8(repeating: upper))
    }
}

/// Convolves one input plane with one kH×kW filter into one output plane (overwriting it) and
/// applies `epilogue`. Every output value is computed by the same sequence of operations for a
/// given shape, whichever thread runs the plane.
package func depthwiseConvolvePlane(_ s: DepthwisePlaneShape, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                    output: UnsafeMutablePointer<Float>, epilogue: DepthwiseEpilogue) {
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
            if s.strideWidth == 1 {
                interior3x3Stride1(top: top, inWidth: s.inWidth, shift: -s.padLeft, weights: weights, out: out,
                                   columns: columns.lowerBound..<vectorEnd, rowOffset: rowOffset, epilogue: epilogue)
            } else {
                interior3x3Stride2(top: top, inWidth: s.inWidth, shift: -s.padLeft, weights: weights, out: out,
                                   columns: columns.lowerBound..<vectorEnd, rowOffset: rowOffset, epilogue: epilogue)
            }
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
    }
}

/// 8 outputs of a 3×3 stride-1 row at a time; all nine weights stay in registers.
@inline(__always)
private func interior3x3Stride1(top: UnsafePointer<Float>, inWidth: Int, shift: Int, weights w: UnsafePointer<Float>,
                                out: UnsafeMutablePointer<Float>, columns: Range<Int>, rowOffset: Int, epilogue: DepthwiseEpilogue) {
    typealias V = SIMD8<Float>
    let w0 = V(repeating: w[0]), w1 = V(repeating: w[1]), w2 = V(repeating: w[2])
    let w3 = V(repeating: w[3]), w4 = V(repeating: w[4]), w5 = V(repeating: w[5])
    let w6 = V(repeating: w[6]), w7 = V(repeating: w[7]), w8 = V(repeating: w[8])
    let r0 = UnsafeRawPointer(top + shift), r1 = UnsafeRawPointer(top + inWidth + shift), r2 = UnsafeRawPointer(top + 2 &* inWidth + shift)
    var ox = columns.lowerBound
    while ox < columns.upperBound {
        let b = ox &* 4
        var acc = w0 * r0.loadUnaligned(fromByteOffset: b, as: V.self)
        acc = acc.addingProduct(w1, r0.loadUnaligned(fromByteOffset: b &+ 4, as: V.self))
        acc = acc.addingProduct(w2, r0.loadUnaligned(fromByteOffset: b &+ 8, as: V.self))
        acc = acc.addingProduct(w3, r1.loadUnaligned(fromByteOffset: b, as: V.self))
        acc = acc.addingProduct(w4, r1.loadUnaligned(fromByteOffset: b &+ 4, as: V.self))
        acc = acc.addingProduct(w5, r1.loadUnaligned(fromByteOffset: b &+ 8, as: V.self))
        acc = acc.addingProduct(w6, r2.loadUnaligned(fromByteOffset: b, as: V.self))
        acc = acc.addingProduct(w7, r2.loadUnaligned(fromByteOffset: b &+ 4, as: V.self))
        acc = acc.addingProduct(w8, r2.loadUnaligned(fromByteOffset: b &+ 8, as: V.self))
        UnsafeMutableRawPointer(out + ox).storeBytes(of: epilogue.finish(acc, at: rowOffset &+ ox), as: V.self)
        ox &+= 8
    }
}

/// 8 outputs of a 3×3 stride-2 row at a time: 16 inputs per tap row, even lanes for the
/// first and third taps, odd lanes for the middle one.
@inline(__always)
private func interior3x3Stride2(top: UnsafePointer<Float>, inWidth: Int, shift: Int, weights w: UnsafePointer<Float>,
                                out: UnsafeMutablePointer<Float>, columns: Range<Int>, rowOffset: Int, epilogue: DepthwiseEpilogue) {
    typealias V = SIMD8<Float>
    let w0 = V(repeating: w[0]), w1 = V(repeating: w[1]), w2 = V(repeating: w[2])
    let w3 = V(repeating: w[3]), w4 = V(repeating: w[4]), w5 = V(repeating: w[5])
    let w6 = V(repeating: w[6]), w7 = V(repeating: w[7]), w8 = V(repeating: w[8])
    let r0 = UnsafeRawPointer(top + shift), r1 = UnsafeRawPointer(top + inWidth + shift), r2 = UnsafeRawPointer(top + 2 &* inWidth + shift)
    var ox = columns.lowerBound
    while ox < columns.upperBound {
        // Input x of output ox is 2·ox + shift + kx; the taps kx = 0, 2 are even lanes of the
        // 16 floats from 2·ox, kx = 1 the odd lanes, kx = 2 the even lanes shifted by one (from 2·ox + 2).
        let b = ox &* 8
        @inline(__always) func taps(_ r: UnsafeRawPointer, _ a: V, _ c: V, _ e: V, _ acc: V) -> V {
            let x = r.loadUnaligned(fromByteOffset: b, as: SIMD16<Float>.self)
            let y = r.loadUnaligned(fromByteOffset: b &+ 8, as: SIMD16<Float>.self)
            return acc.addingProduct(a, x.evenHalf).addingProduct(c, x.oddHalf).addingProduct(e, y.evenHalf)
        }
        var acc = taps(r0, w0, w1, w2, V())
        acc = taps(r1, w3, w4, w5, acc)
        acc = taps(r2, w6, w7, w8, acc)
        UnsafeMutableRawPointer(out + ox).storeBytes(of: epilogue.finish(acc, at: rowOffset &+ ox), as: V.self)
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
