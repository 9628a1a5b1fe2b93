// Helpers shared by the engine tests: building small models, naive reference kernels.

import Foundation
@testable import GearboxEngine

/// Loads a builder's model with options.
func load(_ builder: ONNXModelBuilder, _ options: EngineOptions = EngineOptions()) throws -> InferenceModel {
    try InferenceModel(onnx: try builder.serializedData(), source: builder.graphName, options: options)
}

/// Runs `model` on seeded random inputs and returns its first output.
func runRandom(_ model: InferenceModel, seed: UInt64 = 5) throws -> Tensor {
    model.fillInputsRandomly(seed: seed)
    model.run()
    return try model.output(named: model.outputs[0].name)
}

/// Direct-loop 2-D convolution (NCHW), the reference for the engine's im2col and depthwise paths.
func referenceConv(_ x: Tensor, _ w: Tensor, bias: [Float]?, stride: (Int, Int), pads: (Int, Int, Int, Int),
                   dilation: (Int, Int), groups: Int) -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let oh = (h + pads.0 + pads.2 - ((kh - 1) * dilation.0 + 1)) / stride.0 + 1
    let ow = (wd + pads.1 + pads.3 - ((kw - 1) * dilation.1 + 1)) / stride.1 + 1
    let xs = x.scalars, ws = w.scalars
    let mg = m / groups
    return Tensor(shape: [n, m, oh, ow]) { index in
        let ox = index % ow, oy = (index / ow) % oh, oc = (index / (ow * oh)) % m, b = index / (ow * oh * m)
        let g = oc / mg
        var sum: Double = Double(bias?[oc] ?? 0)
        for ic in 0..<cg {
            let channel = g * cg + ic
            for ky in 0..<kh {
                let iy = oy * stride.0 - pads.0 + ky * dilation.0
                if iy < 0 || iy >= h { continue }
                for kx in 0..<kw {
                    let ix = ox * stride.1 - pads.1 + kx * dilation.1
                    if ix < 0 || ix >= wd { continue }
                    sum += Double(xs[((b * c + channel) * h + iy) * wd + ix]) * Double(ws[((oc * cg + ic) * kh + ky) * kw + kx])
                }
            }
        }
        _ = c
        return Float(sum)
    }
}

/// Largest |a − b| relative to max(1, |b|).
func maxRelativeError(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.count == b.count)
    let x = a.scalars, y = b.scalars
    var worst: Float = 0
    for i in 0..<x.count { worst = max(worst, abs(x[i] - y[i]) / max(1, abs(y[i]))) }
    return worst
}

/// Bit patterns, for exact comparisons.
func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }
