// GearboxEngine/Activation: element-wise functions, used both as stand-alone unary operators
// (Relu, Sigmoid, Clip…) and fused into the epilogue of Conv/Gemm so the output tile is
// transformed while still in cache. One switch outside each loop keeps the loops vectorisable.

import Foundation

enum Activation: Sendable, Equatable {
    case identity
    case relu
    case leakyRelu(alpha: Float)
    case clip(min: Float, max: Float)
    case sigmoid
    case hardSigmoid(alpha: Float, beta: Float)
    case hardSwish
    case tanh
    // Unary-only functions (never fused, but cheap to offer).
    case neg, abs, exp, log, sqrt, reciprocal, floor, ceil
    case elu(alpha: Float)
    case selu(alpha: Float, gamma: Float)
    case softplus, softsign
    case thresholdedRelu(alpha: Float)

    /// Activations that may run in a Conv/Gemm epilogue.
    var isFusable: Bool {
        switch self {
        case .identity, .relu, .leakyRelu, .clip, .sigmoid, .hardSigmoid, .hardSwish, .tanh: return true
        default: return false
        }
    }

    /// (lower, upper) when the function is a clamp (identity, ReLU, Clip), so a kernel can apply
    /// it in registers; nil for the others.
    var clampBounds: (lower: Float, upper: Float)? {
        switch self {
        case .identity: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case let .clip(lo, hi): return (lo, hi)
        default: return nil
        }
    }

    /// Applies the function in place to `count` floats.
    func apply(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        apply(from: UnsafePointer(p), to: p, count)
    }

    /// dst[i] = f(src[i]); src and dst may be the same.
    func apply(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, _ count: Int) {
        switch self {
        case .identity:
            if UnsafePointer(dst) != src { dst.update(from: src, count: count) }
        case .relu:
            for i in 0..<count { dst[i] = Swift.max(src[i], 0) }
        case let .leakyRelu(alpha):
            for i in 0..<count { let x = src[i]; dst[i] = x < 0 ? x * alpha : x }
        case let .clip(lo, hi):
            for i in 0..<count { dst[i] = Swift.min(Swift.max(src[i], lo), hi) }
        case .sigmoid:
            for i in 0..<count { dst[i] = Activation.sigmoid(src[i]) }
        case let .hardSigmoid(alpha, beta):
            for i in 0..<count { dst[i] = Swift.min(Swift.max(alpha * src[i] + beta, 0), 1) }
        case .hardSwish:
            for i in 0..<count { let x = src[i]; dst[i] = x * Swift.min(Swift.max(x * (1.0 / 6.0) + 0.5, 0), 1) }
        case .tanh:
            for i in 0..<count { dst[i] = Foundation.tanh(src[i]) }
        case .neg:
            for i in 0..<count { dst[i] = -src[i] }
        case .abs:
            for i in 0..<count { dst[i] = Swift.abs(src[i]) }
        case .exp:
            for i in 0..<count { dst[i] = Foundation.exp(src[i]) }
        case .log:
            for i in 0..<count { dst[i] = Foundation.log(src[i]) }
        case .sqrt:
            for i in 0..<count { dst[i] = src[i].squareRoot() }
        case .reciprocal:
            for i in 0..<count { dst[i] = 1 / src[i] }
        case .floor:
            for i in 0..<count { dst[i] = src[i].rounded(.down) }
        case .ceil:
            for i in 0..<count { dst[i] = src[i].rounded(.up) }
        case let .elu(alpha):
            for i in 0..<count { let x = src[i]; dst[i] = x < 0 ? alpha * (Foundation.exp(x) - 1) : x }
        case let .selu(alpha, gamma):
            for i in 0..<count { let x = src[i]; dst[i] = gamma * (x <= 0 ? alpha * (Foundation.exp(x) - 1) : x) }
        case .softplus:
            for i in 0..<count { let x = src[i]; dst[i] = x > 20 ? x : Foundation.log1p(Foundation.exp(x)) }
        case .softsign:
            for i in 0..<count { let x = src[i]; dst[i] = x / (1 + Swift.abs(x)) }
        case let .thresholdedRelu(alpha):
            for i in 0..<count { let x = src[i]; dst[i] = x > alpha ? x : 0 }
        }
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        // Split by sign so exp never overflows.
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }
}

/// A unary element-wise operator.
final class UnaryOperation: PlannedOperation {
    let label: NodeLabel
    var input: Int
    var output: Int
    let count: Int
    var activation: Activation
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, input: Int, output: Int, count: Int, activation: Activation) {
        self.label = label
        self.input = input
        self.output = output
        self.count = count
        self.activation = activation
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        UnaryStep(src: binding.address(input), dst: binding.address(output), count: count, activation: activation)
    }
}

final class UnaryStep: ExecutionStep, ParallelWork {
    let src: UnsafeMutablePointer<Float>
    let dst: UnsafeMutablePointer<Float>
    let count: Int
    let activation: Activation
    let split: (tasks: Int, perTask: Int)

    init(src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>, count: Int, activation: Activation) {
        self.src = src
        self.dst = dst
        self.count = count
        self.activation = activation
        split = taskSplit(count, grain: 16_384)
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(split.tasks, self) }

    func perform(task: Int, worker: Int) {
        let start = task * split.perTask
        let n = Swift.min(split.perTask, count - start)
        activation.apply(from: src + start, to: dst + start, n)
    }
}

/// Copies a value (a graph output that is a constant or must not alias another value).
final class CopyOperation: PlannedOperation {
    let label: NodeLabel
    let input: Int
    let output: Int
    let count: Int
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, input: Int, output: Int, count: Int) {
        self.label = label
        self.input = input
        self.output = output
        self.count = count
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        UnaryStep(src: binding.address(input), dst: binding.address(output), count: count, activation: .identity)
    }
}
