// GearboxEngine/Broadcasting: NumPy-style broadcasting for the binary element-wise operators
// (Add, Sub, Mul, Div, Pow, Max, Min, PRelu), including the pre-opset-7 `broadcast`/`axis`
// form. Shapes are collapsed at load to an outer loop over rows and an inner contiguous loop,
// with per-row input offsets precomputed so the run-time loop only reads tables.

/// Output shape of broadcasting `a` with `b`, nil when incompatible.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else { return nil }
    }
    return result
}

enum BinaryFunction: Sendable {
    case add, sub, mul, div, pow, max, min, prelu

    @inline(__always)
    func callAsFunction(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: return x + y
        case .sub: return x - y
        case .mul: return x * y
        case .div: return x / y
        case .pow: return Float.pow(x, y)
        case .max: return Swift.max(x, y)
        case .min: return Swift.min(x, y)
        case .prelu: return x < 0 ? x * y : x
        }
    }
}

extension Float {
    @inline(__always)
    static func pow(_ x: Float, _ y: Float) -> Float {
        if y == 2 { return x * x }
        if y == 1 { return x }
        if y == 0.5 { return x.squareRoot() }
        return Float(Foundation.pow(Double(x), Double(y)))
    }
}

import Foundation

/// A broadcast iteration: `rows` outer rows of `inner` outputs; input i's row r starts at
/// offsets[i][r] and advances by innerStride[i] (0 or 1) per output.
struct BroadcastPlan: Sendable {
    let inner: Int
    let rows: Int
    let aOffsets: [Int]
    let bOffsets: [Int]
    let aInnerStride: Int
    let bInnerStride: Int

    init(output: [Int], a: [Int], b: [Int]) {
        let rank = output.count
        func strides(_ shape: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: rank - shape.count) + shape
            var s = [Int](repeating: 0, count: rank)
            var running = 1
            for i in stride(from: rank - 1, through: 0, by: -1) {
                s[i] = padded[i] == 1 && output[i] != 1 ? 0 : running
                running *= padded[i]
            }
            return s
        }
        var dims: [Int] = []
        var sa: [Int] = []
        var sb: [Int] = []
        let fullA = strides(a), fullB = strides(b)
        for i in 0..<rank where output[i] != 1 {
            if let lastA = sa.last, let lastB = sb.last, lastA == fullA[i] * output[i], lastB == fullB[i] * output[i] {
                // Merge with the previous axis: both inputs continue contiguously (or both broadcast).
                dims[dims.count - 1] *= output[i]
                sa[sa.count - 1] = fullA[i]
                sb[sb.count - 1] = fullB[i]
            } else {
                dims.append(output[i])
                sa.append(fullA[i])
                sb.append(fullB[i])
            }
        }
        // No axis above 1 (a single element): one row of one, both inputs read at offset 0.
        inner = dims.last ?? 1
        aInnerStride = sa.last ?? 0
        bInnerStride = sb.last ?? 0
        let outerDims = Array(dims.dropLast())
        let outerA = Array(sa.dropLast()), outerB = Array(sb.dropLast())
        let rowCount = outerDims.reduce(1, *)
        rows = rowCount
        var offA = [Int](repeating: 0, count: rowCount)
        var offB = [Int](repeating: 0, count: rowCount)
        var index = [Int](repeating: 0, count: outerDims.count)
        for r in 0..<rowCount {
            var oa = 0, ob = 0
            for d in 0..<outerDims.count { oa += index[d] * outerA[d]; ob += index[d] * outerB[d] }
            offA[r] = oa
            offB[r] = ob
            var d = outerDims.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < outerDims[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        aOffsets = offA
        bOffsets = offB
    }
}

final class BinaryOperation: PlannedOperation {
    let label: NodeLabel
    var a: Int, b: Int
    var output: Int
    let function: BinaryFunction
    let plan: BroadcastPlan
    var activation: Activation = .identity

    var inputs: [Int] { [a, b] }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, a: Int, b: Int, output: Int, function: BinaryFunction, plan: BroadcastPlan) {
        self.label = label
        self.a = a; self.b = b; self.output = output
        self.function = function
        self.plan = plan
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        BinaryStep(a: binding.address(a), b: binding.address(b), y: binding.address(output), function: function, plan: plan, activation: activation)
    }
}

final class BinaryStep: ExecutionStep, ParallelWork {
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    let function: BinaryFunction
    let plan: BroadcastPlan
    let activation: Activation
    let split: (tasks: Int, perTask: Int)
    let innerSplit: (tasks: Int, perTask: Int)

    init(a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, function: BinaryFunction,
         plan: BroadcastPlan, activation: Activation) {
        self.a = UnsafePointer(a); self.b = UnsafePointer(b); self.y = y
        self.function = function
        self.plan = plan
        self.activation = activation
        split = taskSplit(plan.rows, grain: max(1, 16_384 / max(plan.inner, 1)))
        innerSplit = plan.rows == 1 ? taskSplit(plan.inner, grain: 16_384) : (1, plan.inner)
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(plan.rows == 1 ? innerSplit.tasks : split.tasks, self) }

    func perform(task: Int, worker: Int) {
        if plan.rows == 1 {
            let start = task * innerSplit.perTask
            row(0, from: start, count: min(innerSplit.perTask, plan.inner - start))
        } else {
            let first = task * split.perTask
            let last = min(first + split.perTask, plan.rows)
            var r = first
            while r < last { row(r, from: 0, count: plan.inner); r += 1 }
        }
    }

    @inline(__always)
    private func row(_ r: Int, from start: Int, count: Int) {
        let out = y + r * plan.inner + start
        let sa = plan.aInnerStride, sb = plan.bInnerStride
        let x = a + plan.aOffsets[r] + start * sa
        let z = b + plan.bOffsets[r] + start * sb
        switch (function, sa, sb) {
        case (.add, 1, 1): for i in 0..<count { out[i] = x[i] + z[i] }
        case (.add, 1, 0): let c = z[0]; for i in 0..<count { out[i] = x[i] + c }
        case (.add, 0, 1): let c = x[0]; for i in 0..<count { out[i] = c + z[i] }
        case (.mul, 1, 1): for i in 0..<count { out[i] = x[i] * z[i] }
        case (.mul, 1, 0): let c = z[0]; for i in 0..<count { out[i] = x[i] * c }
        case (.mul, 0, 1): let c = x[0]; for i in 0..<count { out[i] = c * z[i] }
        case (.sub, 1, 1): for i in 0..<count { out[i] = x[i] - z[i] }
        case (.div, 1, 1): for i in 0..<count { out[i] = x[i] / z[i] }
        default:
            let f = function
            for i in 0..<count { out[i] = f(x[i * sa], z[i * sb]) }
        }
        if activation != .identity { activation.apply(out, count) }
    }
}
