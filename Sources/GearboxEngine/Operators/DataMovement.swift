// GearboxEngine/DataMovement: operators that only move data — Transpose (any permutation up
// to rank 6), Concat and Pad (constant, edge, reflect, negative pads crop). Index maps are
// built at load; the run-time loops only read them.

/// Up to 6 nested loops over an output of shape `dims` (padded with leading 1s).
let maximumMovementRank = 6

final class TransposeOperation: PlannedOperation {
    let label: NodeLabel
    let input: Int, output: Int
    /// Output dims and the input stride of each output axis, both padded to rank 6.
    let dims: [Int]
    let inputStrides: [Int]
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, input: Int, output: Int, inputShape: [Int], permutation: [Int]) {
        self.label = label
        self.input = input
        self.output = output
        var strides = [Int](repeating: 0, count: inputShape.count)
        var running = 1
        for i in stride(from: inputShape.count - 1, through: 0, by: -1) { strides[i] = running; running *= inputShape[i] }
        let pad = maximumMovementRank - permutation.count
        dims = [Int](repeating: 1, count: pad) + permutation.map { inputShape[$0] }
        inputStrides = [Int](repeating: 0, count: pad) + permutation.map { strides[$0] }
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        TransposeStep(src: binding.address(input), dst: binding.address(output), dims: dims, strides: inputStrides)
    }
}

final class TransposeStep: ExecutionStep, ParallelWork {
    let src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>
    let d0: Int, d1: Int, d2: Int, d3: Int, d4: Int, d5: Int
    let s0: Int, s1: Int, s2: Int, s3: Int, s4: Int, s5: Int

    init(src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>, dims: [Int], strides: [Int]) {
        self.src = src; self.dst = dst
        (d0, d1, d2, d3, d4, d5) = (dims[0], dims[1], dims[2], dims[3], dims[4], dims[5])
        (s0, s1, s2, s3, s4, s5) = (strides[0], strides[1], strides[2], strides[3], strides[4], strides[5])
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(d0 * d1, self) }

    func perform(task: Int, worker: Int) {
        let i0 = task / d1, i1 = task % d1
        var out = dst + task * d2 * d3 * d4 * d5
        let base1 = src + i0 * s0 + i1 * s1
        for i2 in 0..<d2 {
            let base2 = base1 + i2 * s2
            for i3 in 0..<d3 {
                let base3 = base2 + i3 * s3
                for i4 in 0..<d4 {
                    let base4 = base3 + i4 * s4
                    if s5 == 1 {
                        out.update(from: base4, count: d5)
                    } else {
                        for i5 in 0..<d5 { out[i5] = base4[i5 * s5] }
                    }
                    out += d5
                }
            }
        }
    }
}

final class ConcatOperation: PlannedOperation {
    let label: NodeLabel
    let parts: [Int]
    let output: Int
    /// Product of the dims before the axis.
    let outer: Int
    /// Floats each part contributes per outer index.
    let partSizes: [Int]
    var inputs: [Int] { parts }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, parts: [Int], output: Int, outer: Int, partSizes: [Int]) {
        self.label = label
        self.parts = parts
        self.output = output
        self.outer = outer
        self.partSizes = partSizes
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        ConcatStep(parts: parts.map { UnsafePointer(binding.address($0)) }, dst: binding.address(output), outer: outer, partSizes: partSizes)
    }
}

final class ConcatStep: ExecutionStep, ParallelWork {
    let parts: [UnsafePointer<Float>]
    let dst: UnsafeMutablePointer<Float>
    let outer: Int
    let partSizes: [Int]
    let rowSize: Int

    init(parts: [UnsafePointer<Float>], dst: UnsafeMutablePointer<Float>, outer: Int, partSizes: [Int]) {
        self.parts = parts
        self.dst = dst
        self.outer = outer
        self.partSizes = partSizes
        rowSize = partSizes.reduce(0, +)
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(outer, self) }

    func perform(task o: Int, worker: Int) {
        var out = dst + o * rowSize
        var i = 0
        while i < parts.count {
            let size = partSizes[i]
            out.update(from: parts[i] + o * size, count: size)
            out += size
            i += 1
        }
    }
}

final class PadOperation: PlannedOperation {
    enum Mode: String, Sendable { case constant, edge, reflect }

    let label: NodeLabel
    let input: Int, output: Int
    let value: Float
    /// Output dims padded to rank 6, the input strides, and for each axis a map from output
    /// index to input index (−1 = padding value).
    let dims: [Int]
    let inputStrides: [Int]
    let maps: [[Int]]
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, input: Int, output: Int, inputShape: [Int], padsBegin: [Int], padsEnd: [Int], mode: Mode, value: Float) {
        self.label = label
        self.input = input
        self.output = output
        self.value = value
        let rank = inputShape.count
        var strides = [Int](repeating: 0, count: rank)
        var running = 1
        for i in stride(from: rank - 1, through: 0, by: -1) { strides[i] = running; running *= inputShape[i] }
        var maps: [[Int]] = []
        var outDims: [Int] = []
        for axis in 0..<rank {
            let n = inputShape[axis]
            let out = n + padsBegin[axis] + padsEnd[axis]
            outDims.append(out)
            maps.append((0..<max(out, 0)).map { o in
                var i = o - padsBegin[axis]
                if i >= 0 && i < n { return i }
                switch mode {
                case .constant: return -1
                case .edge: return i < 0 ? 0 : n - 1
                case .reflect:
                    guard n > 1 else { return 0 }
                    let period = 2 * (n - 1)
                    i = ((i % period) + period) % period
                    return i < n ? i : period - i
                }
            })
        }
        let pad = maximumMovementRank - rank
        dims = [Int](repeating: 1, count: pad) + outDims
        inputStrides = [Int](repeating: 0, count: pad) + strides
        self.maps = [[Int]](repeating: [0], count: pad) + maps
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        PadStep(src: binding.address(input), dst: binding.address(output), op: self)
    }
}

final class PadStep: ExecutionStep {
    let src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>
    let dims: [Int], strides: [Int], maps: [[Int]]
    let value: Float

    init(src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>, op: PadOperation) {
        self.src = src; self.dst = dst
        dims = op.dims; strides = op.inputStrides; maps = op.maps; value = op.value
    }

    func execute(_ pool: WorkerPool) {
        let d = dims, m = maps, s = strides
        var out = dst
        for i0 in 0..<d[0] { let j0 = m[0][i0]
        for i1 in 0..<d[1] { let j1 = m[1][i1]
        for i2 in 0..<d[2] { let j2 = m[2][i2]
        for i3 in 0..<d[3] { let j3 = m[3][i3]
        for i4 in 0..<d[4] { let j4 = m[4][i4]
            if j0 < 0 || j1 < 0 || j2 < 0 || j3 < 0 || j4 < 0 {
                out.update(repeating: value, count: d[5])
            } else {
                let line = src + j0 * s[0] + j1 * s[1] + j2 * s[2] + j3 * s[3] + j4 * s[4]
                let map = m[5]
                for i5 in 0..<d[5] { let j5 = map[i5]; out[i5] = j5 < 0 ? value : line[j5] }
            }
            out += d[5]
        } } } } }
    }
}
