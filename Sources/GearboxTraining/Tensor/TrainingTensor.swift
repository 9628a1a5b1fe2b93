// GearboxTraining/TrainingTensor: the float arrays the trainer computes on, and their layout.
// Activations of convolutional layers are kept channel-major, (C, N, H, W), so that one sgemm
// covers a whole batch: W[M×K] · im2col[K×(N·H·W)] lands directly in (M, N, H, W). Flatten turns
// them into (N, C·H·W) in ONNX's NCHW order, so exported models see the usual layout.

/// A dense float tensor with a shape; the layout convention is the caller's (see file comment).
public struct TrainingTensor: Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public var count: Int { data.count }

    /// Converts a (N, C, H, W) batch into the trainer's (C, N, H, W) layout.
    public static func channelMajor(fromNCHW values: [Float], n: Int, c: Int, h: Int, w: Int) -> TrainingTensor {
        if c == 1 { return TrainingTensor(shape: [1, n, h, w], data: values) }
        var out = [Float](repeating: 0, count: values.count)
        let plane = h * w
        for i in 0..<n {
            for ch in 0..<c {
                for p in 0..<plane { out[(ch * n + i) * plane + p] = values[(i * c + ch) * plane + p] }
            }
        }
        return TrainingTensor(shape: [c, n, h, w], data: out)
    }
}

/// A learnable array with its gradient, momentum and (for prunable weights) a 0/1 mask.
public final class Parameter: @unchecked Sendable {
    public enum Role: String, Codable, Sendable {
        /// Conv or Linear weights: prunable and weight-decayed.
        case weight
        case bias
        case scale
        case shift
    }

    public let name: String
    public private(set) var shape: [Int]
    public var role: Role
    public var value: [Float]
    public var grad: [Float]
    public var velocity: [Float]
    /// 1 keeps a weight, 0 prunes it; nil when nothing is pruned.
    public var mask: [Float]?

    public init(name: String, shape: [Int], role: Role, value: [Float]) {
        precondition(shape.reduce(1, *) == value.count)
        self.name = name
        self.shape = shape
        self.role = role
        self.value = value
        self.grad = [Float](repeating: 0, count: value.count)
        self.velocity = [Float](repeating: 0, count: value.count)
    }

    public var count: Int { value.count }

    /// Number of weights the mask keeps (all when unmasked).
    public var keptCount: Int {
        guard let mask else { return count }
        return mask.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
    }

    /// Zeroes masked weights so `value` is always the effective weight.
    public func applyMask() {
        guard let mask else { return }
        for i in 0..<value.count where mask[i] == 0 { value[i] = 0 }
    }

    public func zeroGrad() {
        grad.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] = 0 } }
    }

    /// Replaces the array with a new shape (structured surgery); resets the optimiser state.
    public func reshape(_ newShape: [Int], value newValue: [Float], mask newMask: [Float]?) {
        precondition(newShape.reduce(1, *) == newValue.count)
        shape = newShape
        value = newValue
        mask = newMask
        grad = [Float](repeating: 0, count: newValue.count)
        velocity = [Float](repeating: 0, count: newValue.count)
    }
}
