// GearboxEngine/XNNPACKConvolution: a thin owner of one XNNPACK NHWC f32 convolution operator
// (Debian's libxnnpack). XNNPACK packs the weights at creation; `bind` fixes the input/output
// addresses once (the arena never moves), so each `run` allocates nothing and runs on the calling
// thread (no pthreadpool: Gearbox's own pinned worker pool splits the work). XNNPACK allocates
// through Gearbox's counting allocator, so each operator knows exactly how many heap bytes its
// packed weights (creation) and its indirection buffer (binding) hold.

import CGearboxShims
import CXNNPACK

/// Whether XNNPACK initialised on this CPU (it refuses CPUs without the SIMD it needs).
package enum XNNPACKSupport {
    /// Initialises XNNPACK once per process with the counting allocator. Gearbox is the only
    /// caller of `xnn_initialize` (the first call's allocator wins), so every XNNPACK block is counted;
    /// package-visible so that the subgraph benchmark initialises through it too.
    package static let isAvailable: Bool = {
        var allocator = xnn_allocator(
            context: nil, allocate: gearbox_counted_allocate, reallocate: gearbox_counted_reallocate,
            deallocate: gearbox_counted_deallocate, aligned_allocate: gearbox_counted_aligned_allocate,
            aligned_deallocate: gearbox_counted_aligned_deallocate)
        return xnn_initialize(&allocator) == xnn_status_success
    }()

    /// Heap bytes XNNPACK kept during `body` on the calling thread (allocations minus frees, in
    /// glibc usable sizes). Exact even while other threads allocate: the count is per thread.
    static func bytesKept<T>(_ body: () -> T) -> (result: T, bytes: Int) {
        let before = gearbox_counted_bytes_on_this_thread()
        let result = body()
        return (result, Int(gearbox_counted_bytes_on_this_thread() - before))
    }
}

/// Output rows `rows` of a single-image convolution as a convolution of their own: the input
/// rows they read and the zero padding above and below them. Operators over disjoint bands
/// fill one output together, each band computed exactly as the whole layer computes it.
struct ConvRowBand: Equatable {
    let rows: Range<Int>
    let firstInputRow: Int
    let inputRows: Int
    let padTop: Int, padBottom: Int

    /// The whole layer as one band.
    init(_ g: ConvGeometry) {
        rows = 0..<g.outHeight
        firstInputRow = 0
        inputRows = g.inHeight
        padTop = g.padTop
        padBottom = g.padBottom
    }

    /// Nil when the band would read no input row (pads wider than the kernel).
    init?(_ g: ConvGeometry, rows: Range<Int>) {
        guard !rows.isEmpty else { return nil }
        let start = rows.lowerBound * g.strideHeight - g.padTop
        let end = (rows.upperBound - 1) * g.strideHeight - g.padTop + (g.kernelHeight - 1) * g.dilationHeight + 1
        let first = max(0, start), last = min(end, g.inHeight)
        guard last > first else { return nil }
        self.rows = rows
        firstInputRow = first
        inputRows = last - first
        padTop = first - start
        padBottom = end - last
    }
}

/// One XNNPACK 2-D convolution computing output channels `channels` of output rows `band.rows`
/// of a dense layer — ungrouped, or depthwise (one input channel per group, any channel
/// multiplier) — reading the layer's NHWC input (C floats per pixel) and writing into the
/// layer's NHWC output (M floats per pixel), so that several operators can fill disjoint
/// channel ranges and row bands.
final class XNNPACKConvolution {
    private let op: xnn_operator_t
    let channels: Range<Int>
    let band: ConvRowBand
    /// Heap bytes the operator holds from creation: its packed weights and bias, its zero
    /// padding buffer and the operator record itself (measured, not estimated).
    let packedBytes: Int
    /// Heap bytes the last successful `bind` added (the indirection buffer of pointers into the
    /// input that XNNPACK's IGEMM kernels read; 0 for 1×1 GEMM layers).
    private(set) var bindingBytes = 0

    /// - Parameters:
    ///   - weights: an ungrouped layer's weights as [M][kH][kW][C] (OHWI), or a depthwise
    ///     layer's as [M][1][kH][kW] (ONNX's layout, which is XNNPACK's grouped layout); all M
    ///     output channels.
    ///   - bias: M values, or nil.
    ///   - outputBounds: the clamp XNNPACK applies to its outputs (ReLU, ReLU6), or ±∞.
    /// Returns nil when XNNPACK refuses the layer (the caller then keeps Gearbox's kernels).
    init?(_ g: ConvGeometry, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, channels: Range<Int>, band: ConvRowBand,
          outputBounds: (lower: Float, upper: Float) = (-.infinity, .infinity)) {
        guard XNNPACKSupport.isAvailable, !channels.isEmpty, outputBounds.lower < outputBounds.upper else { return nil }
        // (groups, input channels per group, output channels per group, first weight)
        let shape: (groups: Int, groupInput: Int, groupOutput: Int, first: UnsafePointer<Float>)
        if g.groups == 1 {
            shape = (1, g.inChannels, channels.count, weights + channels.lowerBound * g.kernelHeight * g.kernelWidth * g.inChannels)
        } else if g.isDepthwise {
            let multiplier = g.outChannelsPerGroup
            guard channels.lowerBound % multiplier == 0, channels.count % multiplier == 0 else { return nil }
            shape = (channels.count / multiplier, 1, multiplier, weights + channels.lowerBound * g.kernelHeight * g.kernelWidth)
        } else {
            return nil
        }
        var created: xnn_operator_t?
        let (status, kept) = XNNPACKSupport.bytesKept { xnn_create_convolution2d_nhwc_f32(
            UInt32(band.padTop), UInt32(g.padRight), UInt32(band.padBottom), UInt32(g.padLeft),
            UInt32(g.kernelHeight), UInt32(g.kernelWidth), UInt32(g.strideHeight), UInt32(g.strideWidth),
            UInt32(g.dilationHeight), UInt32(g.dilationWidth), UInt32(shape.groups), shape.groupInput, shape.groupOutput,
            g.inChannels, g.outChannels, shape.first, bias.map { $0 + channels.lowerBound },
            outputBounds.lower, outputBounds.upper, 0, &created) }
        guard status == xnn_status_success, let created else { return nil }
        op = created
        packedBytes = kept
        self.channels = channels
        self.band = band
    }

    deinit { xnn_delete_operator(op) }

    /// Fixes the addresses: `input` is the whole NHWC image batch, `output` the whole NHWC
    /// output (this operator writes its channels of its band's pixels). False if XNNPACK refuses.
    func bind(_ g: ConvGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) -> Bool {
        // A depthwise operator's first group reads input channel first output channel / multiplier.
        let inputOffset = band.firstInputRow * g.inWidth * g.inChannels + (g.isDepthwise ? channels.lowerBound / g.outChannelsPerGroup : 0)
        let outputOffset = band.rows.lowerBound * g.outWidth * g.outChannels + channels.lowerBound
        let (status, added) = XNNPACKSupport.bytesKept {
            xnn_setup_convolution2d_nhwc_f32(op, g.batch, band.inputRows, g.inWidth, input + inputOffset, output + outputOffset, nil)
        }
        // A re-bind reallocates the buffer in place, so the delta adds to what is held.
        bindingBytes += added
        return status == xnn_status_success
    }

    /// Computes the bound output channels (bias included) on the calling thread.
    @inline(__always)
    func run() { _ = xnn_run_operator(op, nil) }
}
