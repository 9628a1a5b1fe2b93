// GearboxTraining/Linear: a fully connected layer on (N, F) activations, Y = X · Wᵀ + b, with
// weight (out, in) as ONNX Gemm stores it with transB = 1.

/// A fully connected layer; weight (out, in), bias (out).
public final class Linear: @unchecked Sendable {
    public let weight: Parameter
    public let bias: Parameter

    public var outFeatures: Int { weight.shape[0] }
    public var inFeatures: Int { weight.shape[1] }

    public init(name: String, inFeatures: Int, outFeatures: Int, random: inout SeededRandom) {
        let bound = (1 / Float(inFeatures)).squareRoot()
        weight = Parameter(
            name: name + ".weight", shape: [outFeatures, inFeatures], role: .weight,
            value: (0..<(outFeatures * inFeatures)).map { _ in (random.nextUnit() * 2 - 1) * bound })
        bias = Parameter(name: name + ".bias", shape: [outFeatures], role: .bias,
                         value: [Float](repeating: 0, count: outFeatures))
    }

    /// A layer over existing parameters (structured surgery).
    public init(weight: Parameter, bias: Parameter) {
        self.weight = weight
        self.bias = bias
    }

    func forward(_ x: TrainingTensor) -> TrainingTensor {
        let n = x.shape[0]
        precondition(x.shape[1] == inFeatures, "linear \(weight.name) expects \(inFeatures) features, got \(x.shape[1])")
        var y = [Float](repeating: 0, count: n * outFeatures)
        for i in 0..<n { for o in 0..<outFeatures { y[i * outFeatures + o] = bias.value[o] } }
        x.data.withUnsafeBufferPointer { xp in
            weight.value.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    BLAS.sgemm(transA: false, transB: true, m: n, n: outFeatures, k: inFeatures,
                               a: xp.baseAddress, lda: inFeatures, b: wp.baseAddress, ldb: inFeatures,
                               beta: 1, c: yp.baseAddress, ldc: outFeatures)
                }
            }
        }
        return TrainingTensor(shape: [n, outFeatures], data: y)
    }

    func backward(dy: TrainingTensor, x: TrainingTensor, needInputGrad: Bool) -> TrainingTensor? {
        let n = x.shape[0]
        dy.data.withUnsafeBufferPointer { dyp in
            x.data.withUnsafeBufferPointer { xp in
                weight.grad.withUnsafeMutableBufferPointer { gp in
                    BLAS.sgemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: n,
                               a: dyp.baseAddress, lda: outFeatures, b: xp.baseAddress, ldb: inFeatures,
                               beta: 1, c: gp.baseAddress, ldc: inFeatures)
                }
            }
            for i in 0..<n { for o in 0..<outFeatures { bias.grad[o] += dyp[i * outFeatures + o] } }
        }
        guard needInputGrad else { return nil }
        var dx = [Float](repeating: 0, count: n * inFeatures)
        dy.data.withUnsafeBufferPointer { dyp in
            weight.value.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { dp in
                    BLAS.sgemm(transA: false, transB: false, m: n, n: inFeatures, k: outFeatures,
                               a: dyp.baseAddress, lda: outFeatures, b: wp.baseAddress, ldb: inFeatures,
                               beta: 0, c: dp.baseAddress, ldc: inFeatures)
                }
            }
        }
        return TrainingTensor(shape: x.shape, data: dx)
    }
}
