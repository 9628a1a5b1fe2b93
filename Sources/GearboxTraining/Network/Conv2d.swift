// GearboxTraining/Conv2d: 2-D convolution (square kernel, symmetric padding, stride) lowered to
// im2col + one OpenBLAS sgemm per batch, with its backward pass (weight, bias and input grads).

/// A 2-D convolution; weight (outC, inC, k, k), optional bias (outC).
public final class Conv2d: @unchecked Sendable {
    public let weight: Parameter
    public let bias: Parameter?
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    public var outChannels: Int { weight.shape[0] }
    public var inChannels: Int { weight.shape[1] }
    /// K of the lowered matrix: inC·k·k.
    public var columns: Int { inChannels * kernel * kernel }

    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool, random: inout SeededRandom) {
        let fanIn = Float(inChannels * kernel * kernel)
        let std = (2 / fanIn).squareRoot()  // He initialisation for ReLU networks
        let count = outChannels * inChannels * kernel * kernel
        weight = Parameter(
            name: name + ".weight", shape: [outChannels, inChannels, kernel, kernel], role: .weight,
            value: (0..<count).map { _ in random.nextNormal() * std })
        self.bias = bias
            ? Parameter(name: name + ".bias", shape: [outChannels], role: .bias,
                        value: [Float](repeating: 0, count: outChannels)) : nil
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    /// A convolution over existing parameters (structured surgery, checkpoints).
    public init(weight: Parameter, bias: Parameter?, stride: Int, padding: Int) {
        self.weight = weight
        self.bias = bias
        self.kernel = weight.shape[2]
        self.stride = stride
        self.padding = padding
    }

    public func outputSize(_ inputSize: Int) -> Int { (inputSize + 2 * padding - kernel) / stride + 1 }

    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    /// Forward on (C, N, H, W); returns the output and the im2col matrix backward needs.
    func forward(_ x: TrainingTensor) -> (y: TrainingTensor, columns: [Float]) {
        let (c, n, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(c == inChannels, "conv \(weight.name) expects \(inChannels) channels, got \(c)")
        let oh = outputSize(h), ow = outputSize(w)
        let np = n * oh * ow
        let cols = isPointwise ? x.data : Self.im2col(x.data, c: c, n: n, h: h, w: w, k: kernel, stride: stride,
                                                        pad: padding, oh: oh, ow: ow)
        var y = uninitializedFloats(outChannels * np)  // sgemm with beta 0 writes every element
        weight.value.withUnsafeBufferPointer { wp in
            cols.withUnsafeBufferPointer { cp in
                y.withUnsafeMutableBufferPointer { yp in
                    BLAS.sgemm(transA: false, transB: false, m: outChannels, n: np, k: columns,
                               a: wp.baseAddress, lda: columns, b: cp.baseAddress, ldb: np,
                               beta: 0, c: yp.baseAddress, ldc: np)
                    if let bias, let output = yp.baseAddress {
                        for m in 0..<outChannels {
                            let b = bias.value[m]
                            if b == 0 { continue }
                            let row = output + m * np
                            for j in 0..<np { row[j] += b }
                        }
                    }
                }
            }
        }
        return (TrainingTensor(shape: [outChannels, n, oh, ow], data: y), isPointwise ? [] : cols)
    }

    /// Accumulates weight/bias gradients; returns dX when `needInputGrad`.
    func backward(dy: TrainingTensor, x: TrainingTensor, columns cached: [Float], needInputGrad: Bool) -> TrainingTensor? {
        let (c, n, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = dy.shape[2], ow = dy.shape[3]
        let np = n * oh * ow
        let cols = isPointwise ? x.data : cached
        dy.data.withUnsafeBufferPointer { dyp in
            cols.withUnsafeBufferPointer { cp in
                weight.grad.withUnsafeMutableBufferPointer { gp in
                    BLAS.sgemm(transA: false, transB: true, m: outChannels, n: columns, k: np,
                               a: dyp.baseAddress, lda: np, b: cp.baseAddress, ldb: np,
                               beta: 1, c: gp.baseAddress, ldc: columns)
                }
            }
            if let bias, let gradient = dyp.baseAddress {
                bias.grad.withUnsafeMutableBufferPointer { bg in
                    for m in 0..<outChannels {
                        var s: Float = 0
                        let row = gradient + m * np
                        for j in 0..<np { s += row[j] }
                        bg[m] += s
                    }
                }
            }
        }
        guard needInputGrad else { return nil }
        var dcols = uninitializedFloats(columns * np)  // sgemm with beta 0 writes every element
        weight.value.withUnsafeBufferPointer { wp in
            dy.data.withUnsafeBufferPointer { dyp in
                dcols.withUnsafeMutableBufferPointer { dp in
                    BLAS.sgemm(transA: true, transB: false, m: columns, n: np, k: outChannels,
                               a: wp.baseAddress, lda: columns, b: dyp.baseAddress, ldb: np,
                               beta: 0, c: dp.baseAddress, ldc: np)
                }
            }
        }
        if isPointwise { return TrainingTensor(shape: x.shape, data: dcols) }
        let dx = Self.col2im(dcols, c: c, n: n, h: h, w: w, k: kernel, stride: stride, pad: padding, oh: oh, ow: ow)
        return TrainingTensor(shape: x.shape, data: dx)
    }

    /// Rows (ci, kh, kw), columns (n, oh, ow); zero outside the padded border.
    static func im2col(_ x: [Float], c: Int, n: Int, h: Int, w: Int, k: Int, stride: Int, pad: Int,
                       oh: Int, ow: Int) -> [Float] {
        var cols = [Float](repeating: 0, count: c * k * k * n * oh * ow)
        x.withUnsafeBufferPointer { xp in
            cols.withUnsafeMutableBufferPointer { cp in
                guard let image = xp.baseAddress, let lowered = cp.baseAddress else { return }  // empty: nothing to lower
                forEachPatchRun(c: c, n: n, h: h, w: w, k: k, stride: stride, pad: pad, oh: oh, ow: ow) { column, pixel, count in
                    if stride == 1 {
                        (lowered + column).update(from: image + pixel, count: count)
                    } else {
                        for j in 0..<count { lowered[column + j] = image[pixel + j * stride] }
                    }
                }
            }
        }
        return cols
    }

    /// The adjoint of im2col: sums each column entry back into the input position it came from.
    static func col2im(_ cols: [Float], c: Int, n: Int, h: Int, w: Int, k: Int, stride: Int, pad: Int,
                       oh: Int, ow: Int) -> [Float] {
        var x = [Float](repeating: 0, count: c * n * h * w)
        cols.withUnsafeBufferPointer { cp in
            x.withUnsafeMutableBufferPointer { xp in
                guard let image = xp.baseAddress, let lowered = cp.baseAddress else { return }  // empty: nothing to sum
                forEachPatchRun(c: c, n: n, h: h, w: w, k: k, stride: stride, pad: pad, oh: oh, ow: ow) { column, pixel, count in
                    for j in 0..<count { image[pixel + j * stride] += lowered[column + j] }
                }
            }
        }
        return x
    }

    /// The index correspondence im2col and col2im share, walked in one fixed order (ci, kh, kw,
    /// image, output row, output column) so col2im's sums keep their order. For each output row
    /// and kernel offset it reports the run of in-bounds output columns: lowered entries
    /// `column ..< column + count` pair with image elements `pixel, pixel + stride, …`
    /// (offsets into the (ci, kh, kw)×(n, oh, ow) matrix and the (C, N, H, W) tensor). Entries
    /// whose input position falls in the padding are skipped (they are zero in im2col).
    @inline(__always)
    static func forEachPatchRun(c: Int, n: Int, h: Int, w: Int, k: Int, stride: Int, pad: Int, oh: Int, ow: Int,
                                _ run: (_ column: Int, _ pixel: Int, _ count: Int) -> Void) {
        let np = n * oh * ow
        for ci in 0..<c {
            for kh in 0..<k {
                for kw in 0..<k {
                    // Output columns xo with 0 <= xo·stride − pad + kw < w.
                    let first = pad - kw
                    let lo = first <= 0 ? 0 : (first + stride - 1) / stride
                    let last = w - 1 + pad - kw
                    let hi = last < 0 ? 0 : min(ow, last / stride + 1)
                    guard lo < hi else { continue }
                    let row = ((ci * k + kh) * k + kw) * np
                    for i in 0..<n {
                        let plane = (ci * n + i) * h * w
                        for y in 0..<oh {
                            let iy = y * stride - pad + kh
                            if iy < 0 || iy >= h { continue }
                            run(row + (i * oh + y) * ow + lo, plane + iy * w + lo * stride - pad + kw, hi - lo)
                        }
                    }
                }
            }
        }
    }
}

/// An array whose every element the caller overwrites before reading (sgemm with beta 0).
func uninitializedFloats(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}
