// GearboxEngine/XNNPACKConvolution: a thin owner of one XNNPACK NHWC f32 convolution operator
// (Debian's libxnnpack). XNNPACK packs the weights at creation; `bind` fixes the input/output
// addresses once (the arena never moves), so each `run` allocates nothing and runs on the calling
// thread (no pthreadpool: Gearbox's own pinned worker pool splits the work).

import CXNNPACK

/// Whether XNNPACK initialised on this CPU (it refuses CPUs without the SIMD it needs).
enum XNNPACKSupport {
    static let isAvailable: Bool = xnn_initialize(nil) == xnn_status_success
}

/// One XNNPACK 2-D convolution computing output channels `channels` of a dense, ungrouped layer,
/// reading an NHWC input with `inputStride` floats per pixel and writing an NHWC output with
/// `outputStride` floats per pixel (so several operators can fill disjoint channel ranges).
final class XNNPACKConvolution {
    private let op: xnn_operator_t
    let channels: Range<Int>

    /// - Parameters:
    ///   - weights: the layer's weights as [M][kH][kW][C] (OHWI), all M output channels.
    ///   - bias: M values, or nil.
    /// Returns nil when XNNPACK refuses the layer (the caller then keeps Gearbox's kernels).
    init?(_ g: ConvGeometry, weightsOHWI: UnsafePointer<Float>, bias: UnsafePointer<Float>?, channels: Range<Int>) {
        guard XNNPACKSupport.isAvailable, g.groups == 1, !channels.isEmpty else { return nil }
        let perChannel = g.kernelHeight * g.kernelWidth * g.inChannels
        var created: xnn_operator_t?
        let status = xnn_create_convolution2d_nhwc_f32(
            UInt32(g.padTop), UInt32(g.padRight), UInt32(g.padBottom), UInt32(g.padLeft),
            UInt32(g.kernelHeight), UInt32(g.kernelWidth), UInt32(g.strideHeight), UInt32(g.strideWidth),
            UInt32(g.dilationHeight), UInt32(g.dilationWidth), 1, g.inChannels, channels.count,
            g.inChannels, g.outChannels, weightsOHWI + channels.lowerBound * perChannel,
            bias.map { $0 + channels.lowerBound }, -.infinity, .infinity, 0, &created)
        guard status == xnn_status_success, let created else { return nil }
        op = created
        self.channels = channels
    }

    deinit { xnn_delete_operator(op) }

    /// Fixes the addresses: `input` is the whole NHWC image batch, `output` the whole NHWC
    /// output (this operator writes its channel range of every pixel). False if XNNPACK refuses.
    func bind(_ g: ConvGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) -> Bool {
        xnn_setup_convolution2d_nhwc_f32(op, g.batch, g.inHeight, g.inWidth, input, output + channels.lowerBound, nil)
            == xnn_status_success
    }

    /// Computes the bound output channels (bias included) on the calling thread.
    @inline(__always)
    func run() { _ = xnn_run_operator(op, nil) }
}
