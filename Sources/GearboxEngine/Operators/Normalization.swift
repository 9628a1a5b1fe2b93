// GearboxEngine/Normalization: Softmax and LogSoftmax (opset < 13: coerced to 2-D at `axis`;
// ≥ 13: along one axis) and a stand-alone inference BatchNormalization (a per-channel affine
// map; BatchNorm after a Conv is folded into the Conv instead).

import Foundation

final class SoftmaxOperation: PlannedOperation {
    let label: NodeLabel
    let input: Int, output: Int
    let outer: Int, length: Int, inner: Int
    let logarithmic: Bool
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, input: Int, output: Int, outer: Int, length: Int, inner: Int, logarithmic: Bool) {
        self.label = label
        self.input = input
        self.output = output
        self.outer = outer
        self.length = length
        self.inner = inner
        self.logarithmic = logarithmic
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        SoftmaxStep(src: binding.address(input), dst: binding.address(output), op: self)
    }
}

final class SoftmaxStep: ExecutionStep, ParallelWork {
    let src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>
    let outer: Int, length: Int, inner: Int
    let logarithmic: Bool
    let split: (tasks: Int, perTask: Int)

    init(src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>, op: SoftmaxOperation) {
        self.src = src; self.dst = dst
        outer = op.outer; length = op.length; inner = op.inner; logarithmic = op.logarithmic
        split = taskSplit(op.outer * op.inner, grain: max(1, 8_192 / max(op.length, 1)))
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(split.tasks, self) }

    func perform(task: Int, worker: Int) {
        let first = task * split.perTask
        let last = min(first + split.perTask, outer * inner)
        var line = first
        while line < last { run(line: line); line += 1 }
    }

    @inline(__always)
    private func run(line: Int) {
        let o = line / inner, i = line % inner
        let x = src + o * length * inner + i
        let y = dst + o * length * inner + i
        var peak = -Float.infinity
        for j in 0..<length { peak = max(peak, x[j * inner]) }
        var sum: Float = 0
        for j in 0..<length {
            let e = Foundation.exp(x[j * inner] - peak)
            y[j * inner] = e
            sum += e
        }
        if logarithmic {
            let shift = peak + Foundation.log(sum)
            for j in 0..<length { y[j * inner] = x[j * inner] - shift }
        } else {
            let scale = 1 / sum
            for j in 0..<length { y[j * inner] *= scale }
        }
    }
}

/// y = x · scale[c] + shift[c] over (batch, channel, spatial).
final class ChannelAffineOperation: PlannedOperation {
    let label: NodeLabel
    let input: Int
    var output: Int
    let batch: Int, channels: Int, spatial: Int
    let scale: [Float], shift: [Float]
    var activation: Activation = .identity
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, input: Int, output: Int, batch: Int, channels: Int, spatial: Int, scale: [Float], shift: [Float]) {
        self.label = label
        self.input = input
        self.output = output
        self.batch = batch
        self.channels = channels
        self.spatial = spatial
        self.scale = scale
        self.shift = shift
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        ChannelAffineStep(src: binding.address(input), dst: binding.address(output), op: self)
    }
}

final class ChannelAffineStep: ExecutionStep, ParallelWork {
    let src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>
    let channels: Int, spatial: Int, planes: Int
    let scale: AlignedBuffer, shift: AlignedBuffer
    let activation: Activation
    let split: (tasks: Int, perTask: Int)

    init(src: UnsafeMutablePointer<Float>, dst: UnsafeMutablePointer<Float>, op: ChannelAffineOperation) {
        self.src = src; self.dst = dst
        channels = op.channels; spatial = op.spatial; planes = op.batch * op.channels
        scale = AlignedBuffer(copying: op.scale)
        shift = AlignedBuffer(copying: op.shift)
        activation = op.activation
        split = taskSplit(planes, grain: max(1, 16_384 / max(op.spatial, 1)))
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(split.tasks, self) }

    func perform(task: Int, worker: Int) {
        let first = task * split.perTask
        let last = min(first + split.perTask, planes)
        var plane = first
        while plane < last {
            let c = plane % channels
            let a = scale.baseAddress[c], b = shift.baseAddress[c]
            let x = src + plane * spatial, y = dst + plane * spatial
            for i in 0..<spatial { y[i] = x[i] * a + b }
            if activation != .identity { activation.apply(y, spatial) }
            plane += 1
        }
    }
}
