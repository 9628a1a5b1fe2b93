// GearboxTraining/Loss: softmax cross-entropy over (N, classes) logits, its gradient, and top-1
// correctness, computed in a numerically stable way (max subtracted before exp).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum SoftmaxCrossEntropy {
    /// Mean loss over the batch and dLoss/dLogits.
    static func lossAndGradient(logits: TrainingTensor, labels: [Int]) -> (loss: Float, gradient: TrainingTensor) {
        let n = logits.shape[0], k = logits.shape[1]
        var grad = [Float](repeating: 0, count: logits.count)
        var loss: Double = 0
        for i in 0..<n {
            var maxLogit = -Float.infinity
            for j in 0..<k { maxLogit = max(maxLogit, logits.data[i * k + j]) }
            var sum: Float = 0
            for j in 0..<k {
                let e = expf(logits.data[i * k + j] - maxLogit)
                grad[i * k + j] = e
                sum += e
            }
            for j in 0..<k { grad[i * k + j] /= sum }
            loss -= Double(logf(max(grad[i * k + labels[i]], 1e-30)))
            grad[i * k + labels[i]] -= 1
            for j in 0..<k { grad[i * k + j] /= Float(n) }
        }
        return (Float(loss / Double(n)), TrainingTensor(shape: logits.shape, data: grad))
    }

    /// Index of the largest logit per row (first on ties).
    static func predictions(_ logits: TrainingTensor) -> [Int] {
        let n = logits.shape[0], k = logits.shape[1]
        return (0..<n).map { i in
            var best = 0
            for j in 1..<k where logits.data[i * k + j] > logits.data[i * k + best] { best = j }
            return best
        }
    }
}
