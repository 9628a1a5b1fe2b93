// GearboxEngine/Pooling: MaxPool and AveragePool (1-D/2-D; pads, auto_pad, strides,
// dilations, ceil_mode, count_include_pad), GlobalAveragePool and GlobalMaxPool. Tasks are
// groups of whole (image, channel) planes.

struct PoolGeometry: Sendable {
    var planes = 1
    var inHeight = 1, inWidth = 1, outHeight = 1, outWidth = 1
    var kernelHeight = 1, kernelWidth = 1
    var strideHeight = 1, strideWidth = 1
    var padTop = 0, padLeft = 0, padBottom = 0, padRight = 0
    var dilationHeight = 1, dilationWidth = 1
}

final class PoolOperation: PlannedOperation {
    enum Kind: Sendable { case max, average(countIncludePad: Bool), globalAverage, globalMax }

    let label: NodeLabel
    let input: Int, output: Int
    let kind: Kind
    let geometry: PoolGeometry
    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }

    init(label: NodeLabel, input: Int, output: Int, kind: Kind, geometry: PoolGeometry) {
        self.label = label
        self.input = input
        self.output = output
        self.kind = kind
        self.geometry = geometry
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        PoolStep(input: binding.address(input), output: binding.address(output), kind: kind, geometry: geometry)
    }
}

final class PoolStep: ExecutionStep, ParallelWork {
    let input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
    let kind: PoolOperation.Kind
    let g: PoolGeometry
    let split: (tasks: Int, perTask: Int)

    init(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, kind: PoolOperation.Kind, geometry: PoolGeometry) {
        self.input = input
        self.output = output
        self.kind = kind
        g = geometry
        let work = max(1, geometry.outHeight * geometry.outWidth * geometry.kernelHeight * geometry.kernelWidth)
        let global = geometry.inHeight * geometry.inWidth
        switch kind {
        case .globalAverage, .globalMax: split = taskSplit(geometry.planes, grain: max(1, 32_768 / max(global, 1)))
        default: split = taskSplit(geometry.planes, grain: max(1, 32_768 / work))
        }
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(split.tasks, self) }

    func perform(task: Int, worker: Int) {
        let first = task * split.perTask
        let last = min(first + split.perTask, g.planes)
        var plane = first
        while plane < last { run(plane: plane); plane += 1 }
    }

    @inline(__always)
    private func run(plane: Int) {
        let inPlane = g.inHeight * g.inWidth
        let src = input + plane * inPlane
        switch kind {
        case .globalAverage:
            var sum: Float = 0
            for i in 0..<inPlane { sum += src[i] }
            output[plane] = sum / Float(inPlane)
            return
        case .globalMax:
            var best = -Float.infinity
            for i in 0..<inPlane { best = max(best, src[i]) }
            output[plane] = best
            return
        default: break
        }
        let dst = output + plane * g.outHeight * g.outWidth
        for oy in 0..<g.outHeight {
            let y0 = oy * g.strideHeight - g.padTop
            for ox in 0..<g.outWidth {
                let x0 = ox * g.strideWidth - g.padLeft
                switch kind {
                case .max:
                    var best = -Float.infinity
                    for ky in 0..<g.kernelHeight {
                        let iy = y0 + ky * g.dilationHeight
                        if iy < 0 || iy >= g.inHeight { continue }
                        let line = src + iy * g.inWidth
                        for kx in 0..<g.kernelWidth {
                            let ix = x0 + kx * g.dilationWidth
                            if ix < 0 || ix >= g.inWidth { continue }
                            best = max(best, line[ix])
                        }
                    }
                    dst[oy * g.outWidth + ox] = best
                case let .average(countIncludePad):
                    // Window clipped to the padded input (PyTorch/ORT); with ceil_mode it can pass the end padding.
                    let yEnd = min(y0 + g.kernelHeight, g.inHeight + g.padBottom)
                    let xEnd = min(x0 + g.kernelWidth, g.inWidth + g.padRight)
                    let paddedCount = (yEnd - y0) * (xEnd - x0)
                    let ys = max(y0, 0), ye = min(yEnd, g.inHeight)
                    let xs = max(x0, 0), xe = min(xEnd, g.inWidth)
                    var sum: Float = 0
                    if ys < ye && xs < xe {
                        for iy in ys..<ye {
                            let line = src + iy * g.inWidth
                            for ix in xs..<xe { sum += line[ix] }
                        }
                    }
                    let divisor = countIncludePad ? paddedCount : max(0, ye - ys) * max(0, xe - xs)
                    dst[oy * g.outWidth + ox] = divisor > 0 ? sum / Float(divisor) : 0
                default: break
                }
            }
        }
    }
}
