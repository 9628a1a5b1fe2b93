// Tests for GearboxTraining/Conv2d's lowering: im2col against its per-element definition, and
// col2im as its exact adjoint, for strides 1 and 2 with and without padding (both share one
// index walk, so these pin that walk down).

import Testing
@testable import GearboxTraining

private let shapes: [(stride: Int, pad: Int, k: Int, h: Int, w: Int)] = [
    (1, 1, 3, 5, 6), (2, 1, 3, 7, 5), (1, 0, 3, 5, 5), (2, 0, 1, 6, 6), (3, 2, 3, 8, 7), (2, 2, 5, 4, 9),
]

@Test func im2colMatchesItsPerElementDefinition() {
    for (stride, pad, k, h, w) in shapes {
        let c = 2, n = 2
        let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
        let x = (0..<(c * n * h * w)).map { Float($0 % 97) - 40 }
        let cols = Conv2d.im2col(x, c: c, n: n, h: h, w: w, k: k, stride: stride, pad: pad, oh: oh, ow: ow)
        let np = n * oh * ow
        var mismatches = 0
        for ci in 0..<c { for kh in 0..<k { for kw in 0..<k { for i in 0..<n { for y in 0..<oh { for xo in 0..<ow {
            let iy = y * stride - pad + kh, ix = xo * stride - pad + kw
            let expected: Float = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? x[((ci * n + i) * h + iy) * w + ix] : 0
            if cols[((ci * k + kh) * k + kw) * np + (i * oh + y) * ow + xo] != expected { mismatches += 1 }
        } } } } } }
        #expect(mismatches == 0, "stride \(stride), pad \(pad), kernel \(k), \(h)×\(w)")
    }
}

@Test func col2imIsTheAdjointOfIm2col() {
    // <im2col(x), g> == <x, col2im(g)> for integer-valued data (exact in Float at these sizes).
    for (stride, pad, k, h, w) in shapes {
        let c = 2, n = 2
        let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
        let x = (0..<(c * n * h * w)).map { Float($0 % 7) - 3 }
        let g = (0..<(c * k * k * n * oh * ow)).map { Float($0 % 5) - 2 }
        let cols = Conv2d.im2col(x, c: c, n: n, h: h, w: w, k: k, stride: stride, pad: pad, oh: oh, ow: ow)
        let back = Conv2d.col2im(g, c: c, n: n, h: h, w: w, k: k, stride: stride, pad: pad, oh: oh, ow: ow)
        let left = zip(cols, g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let right = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(left == right, "stride \(stride), pad \(pad), kernel \(k), \(h)×\(w)")
    }
}
