// Tests for PackedConvolution: the im2col row builder against direct indexing (stride,
// padding, dilation, partial output rows), the packed layout's size, which layers take the
// implicit (padded-plane) path, and both packed paths against the direct-loop convolution.
// The packed weight layout itself (unpack, OHWI regrouping, row ranges) is in ConvolutionTests.

import Testing
@testable import GearboxEngine

@Suite struct PackedConvolutionTests {
    private func geometry(channels: Int, size: Int, kernel: Int, stride: Int, pad: Int, dilation: Int) -> ConvGeometry {
        var g = ConvGeometry()
        g.inChannels = channels; g.outChannels = 4
        g.inHeight = size; g.inWidth = size
        g.kernelHeight = kernel; g.kernelWidth = kernel
        g.strideHeight = stride; g.strideWidth = stride
        g.padTop = pad; g.padLeft = pad; g.padBottom = pad; g.padRight = pad
        g.dilationHeight = dilation; g.dilationWidth = dilation
        let out = (size + 2 * pad - ((kernel - 1) * dilation + 1)) / stride + 1
        g.outHeight = out; g.outWidth = out
        return g
    }

    /// The im2col value of row r = (channel, ky, kx) at output pixel p, by definition.
    private func expectedIm2col(_ g: ConvGeometry, _ input: [Float], row r: Int, pixel p: Int) -> Float {
        let area = g.kernelHeight * g.kernelWidth
        let c = r / area, ky = (r % area) / g.kernelWidth, kx = r % g.kernelWidth
        let oy = p / g.outWidth, ox = p % g.outWidth
        let iy = oy * g.strideHeight - g.padTop + ky * g.dilationHeight
        let ix = ox * g.strideWidth - g.padLeft + kx * g.dilationWidth
        guard iy >= 0, iy < g.inHeight, ix >= 0, ix < g.inWidth else { return 0 }
        return input[(c * g.inHeight + iy) * g.inWidth + ix]
    }

    @Test(arguments: [(3, 1, 1, 1), (3, 2, 1, 1), (3, 1, 2, 2), (5, 2, 2, 1), (1, 1, 0, 1)])
    func im2colRowsMatchTheDefinition(kernel: Int, stride: Int, pad: Int, dilation: Int) {
        let g = geometry(channels: 2, size: 9, kernel: kernel, stride: stride, pad: pad, dilation: dilation)
        let input = Tensor.random(shape: [1, 2, 9, 9], seed: 7).scalars
        let rows = g.reduction
        // Whole output rows (the fast branch) and a ragged window that starts mid-row.
        for (p0, width) in [(0, g.pixels), (g.outWidth, g.outWidth * 2), (1, min(5, g.pixels - 1))] where width > 0 {
            var buffer = [Float](repeating: .nan, count: rows * width)
            var source = input
            source.withUnsafeMutableBufferPointer { src in
                buffer.withUnsafeMutableBufferPointer { dst in
                    convolutionIm2colRows(g, input: src.baseAddress!, image: 0, rows: 0..<rows, into: dst.baseAddress!,
                                          rowStride: width, p0: p0, width: width)
                }
            }
            var mismatches = 0
            for r in 0..<rows {
                for q in 0..<width where buffer[r * width + q] != expectedIm2col(g, input, row: r, pixel: p0 + q) { mismatches += 1 }
            }
            #expect(mismatches == 0, "kernel \(kernel) stride \(stride) pad \(pad) dilation \(dilation), pixels \(p0)..<\(p0 + width)")
        }
    }

    @Test func storageHoldsWholePanelsOfSixRows() {
        #expect(PackedDenseWeightMatrix.storageCount(rows: 6, columns: 10) == 60)
        #expect(PackedDenseWeightMatrix.storageCount(rows: 7, columns: 10) == 120)
        #expect(PackedDenseWeightMatrix.storageCount(rows: 0, columns: 0) == 1, "never an empty allocation")
        let packed = PackedDenseWeightMatrix(DenseWeightMatrix(rows: 13, columns: 5, values: Tensor.random(shape: [13, 5], seed: 1)))
        #expect(packed.storedBytes >= PackedDenseWeightMatrix.storageCount(rows: 13, columns: 5) * MemoryLayout<Float>.size)
    }

    @Test func implicitPathTakesStrideOneSpatialLayersOnLargeMapsOnly() {
        #expect(ImplicitConvStep.applies(to: geometry(channels: 16, size: 56, kernel: 3, stride: 1, pad: 1, dilation: 1)))
        #expect(!ImplicitConvStep.applies(to: geometry(channels: 16, size: 56, kernel: 3, stride: 2, pad: 1, dilation: 1)),
                "strided layers go through im2col")
        #expect(!ImplicitConvStep.applies(to: geometry(channels: 16, size: 56, kernel: 1, stride: 1, pad: 0, dilation: 1)),
                "pointwise layers read the input directly")
        // A 3×3 on a 4×4 map: padded rows would waste most of the work.
        #expect(!ImplicitConvStep.applies(to: geometry(channels: 16, size: 4, kernel: 3, stride: 1, pad: 1, dilation: 1)))
        var depthwise = geometry(channels: 16, size: 56, kernel: 3, stride: 1, pad: 1, dilation: 1)
        depthwise.outChannels = 16; depthwise.groups = 16
        #expect(!ImplicitConvStep.applies(to: depthwise))
    }

    @Test func implicitPlanesAvoidStridesThatAreMultiplesOfAPage() {
        // 30×30 input + padding 1 = 32×32 = 1024 floats: nudged off the multiple.
        let layout = ImplicitConvStep.layout(geometry(channels: 4, size: 30, kernel: 3, stride: 1, pad: 1, dilation: 1))
        #expect(layout.width == 32 && layout.height == 32)
        #expect(layout.plane % 1024 != 0)
        #expect(layout.virtualPixels == 29 * 32 + 30)
    }

    @Test(.requiresPackedKernels, arguments: [
        (size: 40, stride: 1, pad: 1, dilation: 1),  // implicit path
        (size: 40, stride: 2, pad: 1, dilation: 1),  // im2col path, strided
        (size: 12, stride: 1, pad: 2, dilation: 2),  // im2col path, dilated on a small map
    ])
    func packedConvolutionsMatchTheDirectLoop(size: Int, stride: Int, pad: Int, dilation: Int) throws {
        // 13 output channels: two panels, the second partial; 20 × 3 × 3 = 180 reduction columns.
        let x = Tensor.random(shape: [1, 20, size, size], seed: 11)
        let w = Tensor.random(shape: [13, 20, 3, 3], seed: 12)
        let bias = Tensor.random(shape: [13], seed: 13)
        var b = ONNXModelBuilder()
        b.addInput("x", shape: x.shape)
        b.addOutput(b.conv("x", weights: w, bias: bias, strides: [stride, stride], pads: [pad, pad, pad, pad],
                           dilations: [dilation, dilation]))
        let expected = referenceConv(x, w, bias: bias.scalars, stride: (stride, stride), pads: (pad, pad, pad, pad),
                                     dilation: (dilation, dilation), groups: 1)
        var outputs: [[UInt32]] = []
        for threads in [1, 2] {
            var options = EngineOptions(threads: threads)
            options.denseConvolutionKernel = .packed  // never XNNPACK: this suite is about the packed steps
            let model = try load(b, options)
            let y = try #require(try model.run(["x": x]).values.first)
            #expect(y.shape == expected.shape)
            #expect(maxRelativeError(y, expected) < 1e-4, "threads \(threads)")
            outputs.append(bits(y))
        }
        #expect(outputs[0] == outputs[1], "outputs are bit-identical for any thread count")
    }
}
