// GearboxTraining/BatchNorm: batch normalisation over (C, N, H, W) activations, with batch
// statistics in training, running statistics in inference, and the training-mode backward pass.

/// Per-channel batch normalisation: y = scale · (x − mean) / √(var + ε) + shift.
public final class BatchNorm: @unchecked Sendable {
    public let scale: Parameter
    public let shift: Parameter
    public var runningMean: [Float]
    public var runningVariance: [Float]
    public let epsilon: Float
    public let momentum: Float

    public var channels: Int { scale.count }

    public init(name: String, channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        scale = Parameter(name: name + ".scale", shape: [channels], role: .scale,
                          value: [Float](repeating: 1, count: channels))
        shift = Parameter(name: name + ".shift", shape: [channels], role: .shift,
                          value: [Float](repeating: 0, count: channels))
        runningMean = [Float](repeating: 0, count: channels)
        runningVariance = [Float](repeating: 1, count: channels)
        self.epsilon = epsilon
        self.momentum = momentum
    }

    /// A layer over existing parameters and statistics (structured surgery).
    public init(scale: Parameter, shift: Parameter, runningMean: [Float], runningVariance: [Float],
                epsilon: Float, momentum: Float) {
        self.scale = scale
        self.shift = shift
        self.runningMean = runningMean
        self.runningVariance = runningVariance
        self.epsilon = epsilon
        self.momentum = momentum
    }

    /// The constant this channel outputs when its input channel is all zeros.
    func outputForZeroInput(_ c: Int) -> Float {
        shift.value[c] - scale.value[c] * runningMean[c] / (runningVariance[c] + epsilon).squareRoot()
    }

    /// What backward needs: normalised input and 1/σ per channel.
    struct Cache { var normalized: [Float]; var inverseStd: [Float] }

    func forward(_ x: TrainingTensor, training: Bool) -> (TrainingTensor, Cache?) {
        let c = x.shape[0]
        let m = x.count / c
        var y = [Float](repeating: 0, count: x.count)
        if !training {
            x.data.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    for ch in 0..<c {
                        let inv = 1 / (runningVariance[ch] + epsilon).squareRoot()
                        let a = scale.value[ch] * inv
                        let b = shift.value[ch] - runningMean[ch] * a
                        for j in 0..<m { yp[ch * m + j] = xp[ch * m + j] * a + b }
                    }
                }
            }
            return (TrainingTensor(shape: x.shape, data: y), nil)
        }
        var xhat = [Float](repeating: 0, count: x.count)
        var inverseStd = [Float](repeating: 0, count: c)
        x.data.withUnsafeBufferPointer { xp in
            for ch in 0..<c {
                var mean: Double = 0
                for j in 0..<m { mean += Double(xp[ch * m + j]) }
                mean /= Double(m)
                var variance: Double = 0
                for j in 0..<m { let d = Double(xp[ch * m + j]) - mean; variance += d * d }
                variance /= Double(m)
                let inv = Float(1 / (variance + Double(epsilon)).squareRoot())
                inverseStd[ch] = inv
                let g = scale.value[ch], b = shift.value[ch], mu = Float(mean)
                for j in 0..<m {
                    let v = (xp[ch * m + j] - mu) * inv
                    xhat[ch * m + j] = v
                    y[ch * m + j] = g * v + b
                }
                runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * mu
                let unbiased = m > 1 ? variance * Double(m) / Double(m - 1) : variance
                runningVariance[ch] = (1 - momentum) * runningVariance[ch] + momentum * Float(unbiased)
            }
        }
        return (TrainingTensor(shape: x.shape, data: y), Cache(normalized: xhat, inverseStd: inverseStd))
    }

    func backward(dy: TrainingTensor, cache: Cache) -> TrainingTensor {
        let c = dy.shape[0]
        let m = dy.count / c
        var dx = [Float](repeating: 0, count: dy.count)
        for ch in 0..<c {
            var sumDy: Float = 0, sumDyXhat: Float = 0
            for j in 0..<m {
                let g = dy.data[ch * m + j]
                sumDy += g
                sumDyXhat += g * cache.normalized[ch * m + j]
            }
            scale.grad[ch] += sumDyXhat
            shift.grad[ch] += sumDy
            let k = scale.value[ch] * cache.inverseStd[ch] / Float(m)
            for j in 0..<m {
                dx[ch * m + j] = k * (Float(m) * dy.data[ch * m + j] - sumDy - cache.normalized[ch * m + j] * sumDyXhat)
            }
        }
        return TrainingTensor(shape: dy.shape, data: dx)
    }
}
