// GearboxEngine/XNNPACKNHWCConvStep: a convolution inside an NHWC run (see `LayoutPlanner`).
// Input, output and residual are NHWC values in the arena, so XNNPACK's operators read and write
// them in place with no transpose. Each task runs one operator (a fixed row band or channel
// range of the output, chosen from the layer's shape only), so every output element is computed
// by the same operator for any thread count. Bias and a clamp activation (ReLU, ReLU6) run inside
// XNNPACK; a residual Add runs over the task's outputs right after, while they are in cache,
// followed by the clamp.

/// The epilogue NHWC convolution steps fuse after their own bias: `out = clamp(out + residual)`
/// over `count` values (no residual: the clamp alone).
enum NHWCEpilogue {
    @inline(__always)
    static func addResidualAndClamp(_ out: UnsafeMutablePointer<Float>, _ residual: UnsafePointer<Float>?, count: Int,
                                    bounds: (lower: Float, upper: Float)) {
        let lo = bounds.lower, hi = bounds.upper
        if let residual {
            for i in 0..<count { out[i] = Swift.min(Swift.max(out[i] + residual[i], lo), hi) }
        } else {
            for i in 0..<count { out[i] = Swift.min(Swift.max(out[i], lo), hi) }
        }
    }
}

final class XNNPACKNHWCConvStep: ExecutionStep, ParallelWork {
    let g: ConvGeometry
    let layer: XNNPACKConvolutionLayer
    let output: UnsafeMutablePointer<Float>
    /// NHWC, same shape as the output; nil without a fused residual Add.
    let residual: UnsafePointer<Float>?
    /// Applied after the residual (XNNPACK's operators then clamp at ±∞).
    let bounds: (lower: Float, upper: Float)

    /// Nil when XNNPACK refuses the addresses.
    init?(geometry: ConvGeometry, layer: XNNPACKConvolutionLayer, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
          residual: UnsafePointer<Float>?, bounds: (lower: Float, upper: Float)) {
        g = geometry
        self.layer = layer
        self.output = output
        self.residual = residual
        self.bounds = bounds
        for op in layer.chunks {
            guard op.bind(geometry, input: UnsafePointer(input), output: output) else { return nil }
        }
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(layer.chunks.count, self) }

    func perform(task: Int, worker: Int) {
        let op = layer.chunks[task]
        op.run()
        guard let residual else { return }
        let m = g.outChannels
        let firstPixel = op.band.rows.lowerBound * g.outWidth
        let count = op.band.rows.upperBound * g.outWidth - firstPixel
        for image in 0..<g.batch {
            let start = (image * g.pixels + firstPixel) * m
            if op.channels.count == m {
                NHWCEpilogue.addResidualAndClamp(output + start, residual + start, count: count * m, bounds: bounds)
            } else {
                let width = op.channels.count
                for pixel in 0..<count {
                    let offset = start + pixel * m + op.channels.lowerBound
                    NHWCEpilogue.addResidualAndClamp(output + offset, residual + offset, count: width, bounds: bounds)
                }
            }
        }
    }
}
