// GearboxEngine/XNNPACKFullyConnected: a thin owner of one XNNPACK f32 fully-connected operator,
// which is how a 1×1 stride-1 convolution over any run of NHWC pixels is computed (a GEMM of
// pixels × input channels by input × output channels). Unlike `XNNPACKConvolution` it is set up
// per call: a fully-connected set-up only records the batch size and the two addresses (no
// indirection buffer, no allocation), so one operator serves row bands at changing addresses.

import CXNNPACK

final class XNNPACKFullyConnected {
    private let op: xnn_operator_t
    let inputChannels: Int
    let outputChannels: Int
    /// Heap bytes the operator holds from creation (packed weights and bias), measured.
    let packedBytes: Int

    /// - Parameters:
    ///   - weights: outputChannels × inputChannels (a 1×1 convolution's OIHW weights).
    ///   - bias: outputChannels values, or nil.
    ///   - outputBounds: the clamp XNNPACK applies (ReLU, ReLU6), or ±∞.
    /// Returns nil when XNNPACK refuses the layer.
    init?(inputChannels: Int, outputChannels: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
          outputBounds: (lower: Float, upper: Float)) {
        guard XNNPACKSupport.isAvailable, inputChannels > 0, outputChannels > 0, outputBounds.lower < outputBounds.upper else { return nil }
        var created: xnn_operator_t?
        let (status, kept) = XNNPACKSupport.bytesKept {
            xnn_create_fully_connected_nc_f32(inputChannels, outputChannels, inputChannels, outputChannels, weights, bias,
                                              outputBounds.lower, outputBounds.upper, 0, &created)
        }
        guard status == xnn_status_success, let created else { return nil }
        op = created
        packedBytes = kept
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
    }

    deinit { xnn_delete_operator(op) }

    /// Computes `pixels` output rows of `outputChannels` floats from as many input rows, on the
    /// calling thread. Allocation-free.
    @inline(__always)
    func run(pixels: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        guard xnn_setup_fully_connected_nc_f32(op, pixels, input, output, nil) == xnn_status_success else { return }
        _ = xnn_run_operator(op, nil)
    }
}
