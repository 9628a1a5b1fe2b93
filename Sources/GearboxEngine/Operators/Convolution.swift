// GearboxEngine/Convolution: 1-D and 2-D Conv. General and grouped convolutions lower to
// C = A · im2col(X) through `any WeightMatrix` (dense sgemm or a pruned format), tiled over
// output pixels (and over output-channel panels for row-splittable formats) with the bias,
// residual Add and activation applied per tile. Depthwise convolutions use a direct kernel.

import GearboxKernels

/// Sizes of one convolution, normalised to 2-D (1-D uses height 1).
struct ConvGeometry: Sendable, Equatable {
    var batch = 1, inChannels = 1, inHeight = 1, inWidth = 1
    var outChannels = 1, outHeight = 1, outWidth = 1
    var kernelHeight = 1, kernelWidth = 1
    var strideHeight = 1, strideWidth = 1
    var padTop = 0, padLeft = 0, padBottom = 0, padRight = 0
    var dilationHeight = 1, dilationWidth = 1
    var groups = 1

    var inChannelsPerGroup: Int { inChannels / groups }
    var outChannelsPerGroup: Int { outChannels / groups }
    /// Reduction length of one group: (C/g)·kH·kW.
    var reduction: Int { inChannelsPerGroup * kernelHeight * kernelWidth }
    /// Output pixels per image.
    var pixels: Int { outHeight * outWidth }
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
    var isDepthwise: Bool { groups > 1 && inChannelsPerGroup == 1 }
    var macs: Int { batch * outChannels * pixels * reduction }

    /// One channel plane of a depthwise layer, for GearboxKernels' depthwise kernel.
    var depthwisePlane: DepthwisePlaneShape {
        DepthwisePlaneShape(inHeight: inHeight, inWidth: inWidth, outHeight: outHeight, outWidth: outWidth,
                            kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideHeight: strideHeight,
                            strideWidth: strideWidth, padTop: padTop, padLeft: padLeft,
                            dilationHeight: dilationHeight, dilationWidth: dilationWidth)
    }
}

/// Output length and begin/end padding of one spatial axis, per ONNX's auto_pad rules.
func convolutionAxis(input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int,
                     autoPad: String, ceilMode: Bool = false) -> (output: Int, padBegin: Int, padEnd: Int)? {
    let effectiveKernel = (kernel - 1) * dilation + 1
    switch autoPad {
    case "SAME_UPPER", "SAME_LOWER":
        let output = (input + stride - 1) / stride
        let total = max(0, (output - 1) * stride + effectiveKernel - input)
        let small = total / 2
        return autoPad == "SAME_UPPER" ? (output, small, total - small) : (output, total - small, small)
    case "VALID":
        let span = input - effectiveKernel
        guard span >= 0 else { return nil }
        return (span / stride + 1, 0, 0)
    default:
        let span = input + padBegin + padEnd - effectiveKernel
        guard span >= 0 else { return nil }
        var output = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
        // A ceil-mode window must start inside the input or the begin padding (PyTorch/ORT rule).
        if ceilMode && (output - 1) * stride >= input + padBegin { output -= 1 }
        return (output, padBegin, padEnd)
    }
}

final class ConvOperation: WeightedOperation {
    let label: NodeLabel
    var input: Int
    var output: Int
    var geometry: ConvGeometry
    /// [M, C/g, kH, kW].
    var weights: Tensor
    var bias: [Float]?
    var activation: Activation = .identity
    var residual: Int?
    private(set) var matrices: [any WeightMatrix] = []
    private var descriptions: [WeightLayerDescription] = []

    var inputs: [Int] { residual.map { [input, $0] } ?? [input] }
    var outputs: [Int] { [output] }
    var macs: Int { geometry.macs }

    init(label: NodeLabel, input: Int, output: Int, geometry: ConvGeometry, weights: Tensor, bias: [Float]?) {
        self.label = label
        self.input = input
        self.output = output
        self.geometry = geometry
        self.weights = weights
        self.bias = bias
    }

    /// Folds a following per-channel affine map y = x · scale[c] + shift[c] (an inference
    /// BatchNormalization) into the weights and bias.
    func foldAffine(scale: [Float], shift: [Float]) {
        let m = geometry.outChannels
        let perChannel = weights.count / m
        var folded = weights
        var newBias = bias ?? [Float](repeating: 0, count: m)
        folded.withUnsafeMutableBufferPointer { w in
            for c in 0..<m {
                for i in 0..<perChannel { w[c * perChannel + i] *= scale[c] }
                newBias[c] = newBias[c] * scale[c] + shift[c]
            }
        }
        weights = folded
        bias = newBias
    }

    func prepareWeights(factory: (any WeightFormatFactory)?, block: WeightBlockShape?, layerIndex: inout Int) throws {
        matrices = []
        descriptions = []
        guard !geometry.isDepthwise else { return }
        let g = geometry
        let rows = g.outChannelsPerGroup, columns = g.reduction
        let kernelShape = [g.outChannels, g.inChannelsPerGroup, g.kernelHeight, g.kernelWidth]
        for group in 0..<g.groups {
            let values: Tensor
            if g.groups == 1 {
                values = weights.reshaped(to: [rows, columns])
            } else {
                let all = weights.scalars
                values = Tensor(shape: [rows, columns], scalars: Array(all[(group * rows * columns)..<((group + 1) * rows * columns)]))
            }
            let dense = DenseWeightMatrix(rows: rows, columns: columns, values: values)
            let description = WeightLayerDescription(nodeName: label.name, opType: "Conv", kernelShape: kernelShape,
                                                     groupIndex: group, groupCount: g.groups, layerIndex: layerIndex)
            let packs = kernelChoice != .openBLAS && PackedDenseWeightMatrix.isSupported
            if factory == nil && packs {
                // Dense weights go straight into the micro-kernel layout (no unpacked copy is kept).
                matrices.append(PackedDenseWeightMatrix(dense))
            } else {
                let converted = try convert(dense, factory: factory, block: block, layer: description)
                // A layer the format leaves dense (unpruned, or smaller than a block) takes the
                // dense fast path, as in a dense model.
                if packs, let kept = converted as? DenseWeightMatrix {
                    matrices.append(PackedDenseWeightMatrix(kept))
                } else {
                    matrices.append(converted)
                }
            }
            descriptions.append(description)
        }
        layerIndex += 1
    }

    /// XNNPACK's operators for this layer, when it runs it (dense, ungrouped or depthwise, `automatic`).
    private(set) var xnnpack: XNNPACKConvolutionLayer?
    /// Packed weights for GearboxKernels' NHWC depthwise kernel, when an NHWC depthwise layer runs on it.
    private(set) var depthwiseNHWC: DepthwiseNHWCLayer?
    /// Winograd-transformed weights, when an NHWC 3×3 stride-1 layer runs on `WinogradNHWCConvStep`.
    private(set) var winograd: WinogradWeights?
    /// Set from `EngineOptions.winogradConvolutions` before planning.
    var allowsWinograd = false

    /// The layout of the layer's input, output and residual, set by `LayoutPlanner`. NHWC
    /// layers run on XNNPACK with no transposes.
    var layout: TensorLayout = .nchw

    /// Whether XNNPACK can run the layer inside an NHWC run: dense weights (a pruned format keeps
    /// Gearbox's kernels), ungrouped or depthwise, 2-D, a clamp activation (identity, ReLU, Clip)
    /// that XNNPACK applies, and the `automatic` kernel choice.
    var canRunNHWC: Bool {
        let g = geometry
        guard kernelChoice == .automatic, XNNPACKSupport.isAvailable, g.outChannels > 0, g.inChannels > 0,
              let bounds = activation.clampBounds, bounds.lower < bounds.upper
        else { return false }
        if g.isDepthwise { return weights.count == g.outChannels * g.kernelHeight * g.kernelWidth }
        return g.groups == 1 && usesPackedKernel
    }

    /// The clamp XNNPACK applies in an NHWC run: the activation's, unless a residual Add must come first.
    private var nhwcOutputBounds: (lower: Float, upper: Float) {
        residual == nil ? (activation.clampBounds ?? (-.infinity, .infinity)) : (-.infinity, .infinity)
    }

    /// Heap bytes of the copy of this layer's weights its kernel keeps besides the model's own:
    /// XNNPACK's packed weights, or the Winograd-transformed ones (0 otherwise).
    var libraryWeightBytes: Int { xnnpack?.packedBytes ?? winograd?.bytes ?? depthwiseNHWC?.bytes ?? 0 }
    /// Heap bytes XNNPACK holds for running this layer besides weights (indirection buffers).
    var libraryWorkspaceBytes: Int { xnnpack?.bindingBytes ?? 0 }

    /// Creates the XNNPACK operators from the dense weights (or, for a packed file, from the
    /// packed panels) when the layer qualifies; otherwise Gearbox's kernels stay in charge. Runs
    /// after layout planning: an NHWC layer always gets operators (false when XNNPACK refuses
    /// it), an NCHW layer only when XNNPACK's speed pays for the two transposes.
    @discardableResult
    func prepareXNNPACK() -> Bool {
        xnnpack = nil
        winograd = nil
        depthwiseNHWC = nil
        let g = geometry
        if layout == .nhwc {
            guard canRunNHWC else { return false }
            // WinogradWeights checks the shape (`WinogradTiling.applies`) and the weights' count.
            if allowsWinograd, let transformed = weights.withUnsafeBufferPointer({ WinogradWeights(g, weightsOIHW: $0, bias: bias) }) {
                winograd = transformed
                return true
            }
            // Depthwise layers run on Gearbox's NHWC kernel, except stride-2 layers whose input
            // is larger than L2 holds: there XNNPACK's measured faster (docs/measurements.md).
            if g.isDepthwise, g.strideHeight == 1 || g.inHeight * g.inWidth * g.inChannels * 4 <= Self.cachedDepthwiseInputBytes, let own = DepthwiseNHWCLayer(g, weights: weights, bias: bias) {
                depthwiseNHWC = own
                return true
            }
            if g.isDepthwise {
                xnnpack = weights.withUnsafeBufferPointer { buffer in
                    buffer.baseAddress.flatMap { XNNPACKConvolutionLayer(depthwise: g, weights: $0, bias: bias, outputBounds: nhwcOutputBounds) }
                }
            } else {
                xnnpack = makeDenseXNNPACKLayer(outputBounds: nhwcOutputBounds)
            }
            return xnnpack != nil
        }
        guard kernelChoice == .automatic, usesPackedKernel, g.groups == 1, XNNPACKConvolutionLayer.pays(for: g), XNNPACKSupport.isAvailable
        else { return false }
        xnnpack = makeDenseXNNPACKLayer(outputBounds: (-.infinity, .infinity))
        return xnnpack != nil
    }

    private func makeDenseXNNPACKLayer(outputBounds: (lower: Float, upper: Float)) -> XNNPACKConvolutionLayer? {
        let g = geometry
        if weights.count == g.outChannels * g.reduction {
            return weights.withUnsafeBufferPointer { buffer in
                buffer.baseAddress.flatMap { XNNPACKConvolutionLayer(g, weightsOIHW: $0, bias: bias, outputBounds: outputBounds) }  // count > 0: never nil
            }
        }
        if let packed = matrices.first as? PackedDenseWeightMatrix {
            return XNNPACKConvolutionLayer(g, packed: packed, bias: bias, outputBounds: outputBounds)
        }
        return nil
    }

    /// Stride-2 depthwise inputs up to this size run on Gearbox's NHWC kernel (see `prepareXNNPACK`).
    static let cachedDepthwiseInputBytes = 512 * 1024

    /// Set when an `InvertedResidualOperation` runs this layer with its own operators.
    private(set) var isBanded = false

    /// Hands the layer to a fused block: its own kernels' weight copies (XNNPACK's packed
    /// weights, the NHWC depthwise kernel's) are released, as the block holds its own.
    func moveIntoBandedBlock() {
        isBanded = true
        xnnpack = nil
        depthwiseNHWC = nil
    }

    /// A 1×1 layer's weights as output × input channels (from the dense weights, or from the
    /// packed panels of a packed file); nil for other layers.
    func pointwiseWeights() -> AlignedBuffer? {
        let g = geometry
        guard g.isPointwise, g.groups == 1 else { return nil }
        if weights.count == g.outChannels * g.inChannels {
            return weights.withUnsafeBufferPointer { AlignedBuffer(copying: $0) }
        }
        guard let packed = matrices.first as? PackedDenseWeightMatrix, packed.rows == g.outChannels, packed.columns == g.inChannels
        else { return nil }
        let buffer = AlignedBuffer(count: g.outChannels * g.inChannels)
        packed.unpack(into: buffer.baseAddress, regroupingColumns: g.inChannels)
        return buffer
    }

    var weightMatrices: [(description: WeightLayerDescription, matrix: any WeightMatrix)] {
        Array(zip(descriptions, matrices)).map { (description: $0.0, matrix: $0.1) }
    }

    var record: WeightLayerRecord {
        WeightLayerRecord(node: label.name, op: "Conv", descriptions: descriptions, matrices: matrices, convBias: bias,
                          depthwiseWeights: geometry.isDepthwise ? weights : nil)
    }

    func adopt(_ record: WeightLayerRecord, source: String) throws {
        let g = geometry
        guard record.op == "Conv", record.node == label.name else {
            throw WeightLayerRecord.mismatch(source, label.name, "the file stores \(record.op) layer \(record.node) here")
        }
        guard record.convBias.map({ $0.count == g.outChannels }) ?? true else {
            throw WeightLayerRecord.mismatch(source, label.name, "bias does not have \(g.outChannels) values")
        }
        if g.isDepthwise {
            guard let direct = record.depthwiseWeights, direct.count == weights.count, record.matrices.isEmpty else {
                throw WeightLayerRecord.mismatch(source, label.name, "depthwise weights missing or of the wrong size")
            }
            weights = direct
        } else {
            guard record.matrices.count == g.groups, record.descriptions.count == g.groups,
                  record.matrices.allSatisfy({ $0.rows == g.outChannelsPerGroup && $0.columns == g.reduction })
            else {
                throw WeightLayerRecord.mismatch(source, label.name, "expected \(g.groups) matrices of \(g.outChannelsPerGroup)x\(g.reduction)")
            }
            // The placeholder weights are not needed once the kernel-layout matrices are in.
            weights = Tensor(zeros: [0])
        }
        matrices = record.matrices
        descriptions = record.descriptions
        bias = record.convBias
        kernelChoice = .automatic
    }

    /// Which kernel runs this layer (set from EngineOptions before planning).
    var kernelChoice: DenseConvolutionKernel = .automatic

    /// Whether the packed micro-kernel path runs this layer: dense weights, CPU support, not depthwise.
    var usesPackedKernel: Bool {
        !geometry.isDepthwise && !matrices.isEmpty && matrices.allSatisfy { $0 is PackedDenseWeightMatrix }
    }

    /// Whether a depthwise layer runs on GearboxKernels' vector kernel (not with the `openBLAS`
    /// choice, which keeps the plain reference loop, nor on CPUs without AVX2/FMA).
    var usesDepthwiseKernel: Bool { geometry.isDepthwise && kernelChoice != .openBLAS && KernelSupport.packedKernelsAvailable }

    /// Which kernel runs the layer (see `InferenceModel.convolutionKernels`).
    var kernelName: String {
        if isBanded { return InvertedResidualOperation.kernelName }
        if depthwiseNHWC != nil { return "depthwise-nhwc" }
        if winograd != nil { return "winograd" }
        if geometry.isDepthwise && xnnpack != nil { return "xnnpack-depthwise" }
        if geometry.isDepthwise { return usesDepthwiseKernel ? "depthwise" : "depthwise-plain" }
        if xnnpack != nil { return "xnnpack" }
        return usesPackedKernel ? "packed" : "im2col"
    }

    var sharedScratchFloats: Int {
        if geometry.isDepthwise || layout == .nhwc { return 0 }
        if xnnpack != nil { return XNNPACKConvolutionLayer.sharedFloats(geometry) }
        if usesPackedKernel {
            return ImplicitConvStep.applies(to: geometry) ? ImplicitConvStep.sharedFloats(geometry) : PackedConvStep.sharedFloats(geometry)
        }
        return ConvTiling(geometry: geometry, rowSplittable: false).columnFloats(geometry)
    }

    var scratchFloatsPerWorker: Int {
        if layout == .nhwc { return winograd == nil ? 0 : WinogradTiling(geometry).scratchFloats(geometry) }
        if usesDepthwiseKernel { return geometry.depthwisePlane.paddedFloats }
        guard usesPackedKernel, xnnpack == nil else { return 0 }
        return ImplicitConvStep.applies(to: geometry) ? ImplicitConvStep.scratchFloats(geometry) : PackedConvStep.scratchFloats(geometry)
    }

    func makeStep(_ binding: StepBinding) throws -> any ExecutionStep {
        if layout == .nhwc, let winograd {
            return WinogradNHWCConvStep(geometry: geometry, weights: winograd, input: binding.address(input), output: binding.address(output),
                                        residual: residual.map { UnsafePointer(binding.address($0)) },
                                        bounds: activation.clampBounds ?? (-.infinity, .infinity),
                                        scratch: binding.scratch, scratchStride: binding.scratchStride)
        }
        if layout == .nhwc, let depthwiseNHWC {
            return DepthwiseNHWCStep(layer: depthwiseNHWC, input: UnsafePointer(binding.address(input)), output: binding.address(output),
                                     residual: residual.map { UnsafePointer(binding.address($0)) }, bounds: activation.clampBounds ?? (-.infinity, .infinity))
        }
        if layout == .nhwc {
            guard let layer = xnnpack,
                  let step = XNNPACKNHWCConvStep(geometry: geometry, layer: layer, input: binding.address(input), output: binding.address(output),
                                                 residual: residual.map { UnsafePointer(binding.address($0)) },
                                                 bounds: activation.clampBounds ?? (-.infinity, .infinity))
            else {
                throw EngineError.unsupportedNode(node: label.name, op: label.opType, reason: "XNNPACK refused the layer's NHWC operators or their addresses")
            }
            return step
        }
        let epilogue = Epilogue(bias: bias.map { AlignedBuffer(copying: $0) }, activation: activation,
                                residual: residual.map { UnsafePointer(binding.address($0)) })
        if geometry.isDepthwise {
            return DepthwiseConvStep(geometry: geometry, weights: weights, input: binding.address(input),
                                     output: binding.address(output), epilogue: epilogue, vectorised: usesDepthwiseKernel,
                                     scratch: binding.scratch, scratchStride: binding.scratchStride)
        }
        if matrices.isEmpty {
            // Folded at load before prepareWeights ran (scratch was sized for OpenBLAS): use dense weights.
            kernelChoice = .openBLAS
            var index = 0
            try? prepareWeights(factory: nil, block: nil, layerIndex: &index)
        }
        if let layer = xnnpack {
            let xnnEpilogue = Epilogue(bias: nil, activation: activation, residual: epilogue.residual)
            if let step = XNNPACKConvStep(geometry: geometry, layer: layer, input: binding.address(input), output: binding.address(output),
                                          epilogue: xnnEpilogue, shared: binding.sharedScratch) {
                return step
            }
            // XNNPACK refused the addresses: run the packed weights through im2col on a column
            // buffer of the step's own (the planned scratch was sized for XNNPACK).
            let columns = AlignedBuffer(count: max(1, ConvTiling(geometry: geometry, rowSplittable: false).columnFloats(geometry)))
            return OwningStep(ConvGemmStep(geometry: geometry, matrices: matrices, input: binding.address(input), output: binding.address(output),
                                           epilogue: epilogue, columns: columns.baseAddress), storage: columns)
        }
        if usesPackedKernel && ImplicitConvStep.applies(to: geometry) {
            return ImplicitConvStep(geometry: geometry, weights: matrices.compactMap { $0 as? PackedDenseWeightMatrix },
                                    input: binding.address(input), output: binding.address(output), epilogue: epilogue,
                                    padded: binding.sharedScratch, scratch: binding.scratch, scratchStride: binding.scratchStride)
        }
        if usesPackedKernel {
            return PackedConvStep(geometry: geometry, weights: matrices.compactMap { $0 as? PackedDenseWeightMatrix }, input: binding.address(input),
                                  output: binding.address(output), epilogue: epilogue, packed: binding.sharedScratch,
                                  scratch: binding.scratch, scratchStride: binding.scratchStride)
        }
        return ConvGemmStep(geometry: geometry, matrices: matrices, input: binding.address(input),
                            output: binding.address(output), epilogue: epilogue, columns: binding.sharedScratch)
    }
}

/// Bias, residual and activation applied to an output tile.
struct Epilogue {
    /// Per output channel (Conv) or output feature (Gemm).
    let bias: AlignedBuffer?
    let activation: Activation
    /// Same layout as the output; added before the activation.
    let residual: UnsafePointer<Float>?

    /// Applies to `count` outputs at `row`, all of channel `channel`; `offset` is the row's
    /// position in the output (for the residual).
    @inline(__always)
    func apply(row: UnsafeMutablePointer<Float>, count: Int, channel: Int, offset: Int) {
        apply(from: UnsafePointer(row), to: row, count: count, channel: channel, offset: offset)
    }

    /// row[i] = activation(source[i] + bias + residual[i]) in one pass (identity, ReLU and any
    /// Clip such as ReLU6 fully fused; other activations as a second pass). `source` may be `row`.
    @inline(__always)
    func apply(from source: UnsafePointer<Float>, to row: UnsafeMutablePointer<Float>, count: Int, channel: Int, offset: Int) {
        let b = bias.map { $0.baseAddress[channel] } ?? 0
        if case let .clip(lo, hi) = activation {
            if let residual {
                let r = residual + offset
                for i in 0..<count { row[i] = Swift.min(Swift.max(source[i] + b + r[i], lo), hi) }
            } else {
                for i in 0..<count { row[i] = Swift.min(Swift.max(source[i] + b, lo), hi) }
            }
            return
        }
        let relu = activation == .relu
        if let residual {
            let r = residual + offset
            if relu {
                for i in 0..<count { row[i] = Swift.max(source[i] + b + r[i], 0) }
            } else {
                for i in 0..<count { row[i] = source[i] + b + r[i] }
            }
        } else if relu {
            for i in 0..<count { row[i] = Swift.max(source[i] + b, 0) }
        } else {
            for i in 0..<count { row[i] = source[i] + b }
        }
        if !relu && activation != .identity { activation.apply(row, count) }
    }

    var isEmpty: Bool { bias == nil && residual == nil && activation == .identity }
}

/// How a convolution's work is cut into tasks. Depends only on shapes (never on the thread
/// count), so every output element is computed by the same sgemm call for any N.
///
/// The im2col matrix of a block of output pixels (all groups) is built once into shared
/// scratch by parallel tasks, then gemm tasks cover (group, row panel, pixel tile) of the block.
struct ConvTiling: Sendable, Equatable {
    /// Largest im2col block: 2 Mi floats (8 MiB); a ResNet layer at 224 px fits whole.
    static let columnBudgetFloats = 2_097_152
    /// Minimum multiply-accumulates per gemm task, so each sgemm call amortises its packing.
    static let minimumTaskMACs = 524_288
    static let maximumTasks = 8

    /// Output pixels per im2col block, and blocks per image.
    var blockWidth: Int
    var blocks: Int
    /// Pixel tiles per block and their width.
    var tileWidth: Int
    var tiles: Int
    /// Output-channel panels per group and their height.
    var panels: Int
    var panelRows: Int

    /// - Parameters:
    ///   - rowUnit: panel heights are multiples of this (the packed kernel's 6 rows).
    ///   - minimumTaskMACs: work per task below which the layer is not split further.
    ///   - minimumTileWidth / minimumPanelRows: the narrowest pixel tile and shortest panel.
    init(geometry g: ConvGeometry, rowSplittable: Bool, rowUnit: Int = 16, minimumTaskMACs: Int = ConvTiling.minimumTaskMACs,
         minimumTileWidth: Int = 128, minimumPanelRows: Int = 32) {
        let pixels = max(g.pixels, 1)
        let columnRows = max(g.inChannels * g.kernelHeight * g.kernelWidth, 1)
        blockWidth = g.isPointwise ? pixels : min(pixels, max(16, Self.columnBudgetFloats / columnRows / 16 * 16))
        blocks = (pixels + blockWidth - 1) / blockWidth
        blockWidth = min(pixels, ((pixels + blocks - 1) / blocks + 15) / 16 * 16)
        blocks = (pixels + blockWidth - 1) / blockWidth
        let blockMACs = g.outChannels * g.reduction * blockWidth
        let desired = min(Self.maximumTasks, max(1, blockMACs / minimumTaskMACs))
        // Pixel tiles first (cheap to split), then row panels.
        let perGroup = max(1, (desired + g.groups - 1) / g.groups)
        tiles = max(1, min(perGroup, blockWidth / minimumTileWidth))
        tileWidth = min(blockWidth, ((blockWidth + tiles - 1) / tiles + 15) / 16 * 16)
        tiles = (blockWidth + tileWidth - 1) / tileWidth
        panels = 1
        panelRows = g.outChannelsPerGroup
        let natural = g.groups * tiles
        if natural < desired {
            if rowSplittable && g.outChannelsPerGroup >= 2 * minimumPanelRows {
                let want = min((desired + natural - 1) / natural, g.outChannelsPerGroup / minimumPanelRows)
                if want > 1 {
                    panelRows = ((g.outChannelsPerGroup + want - 1) / want + rowUnit - 1) / rowUnit * rowUnit
                    panels = (g.outChannelsPerGroup + panelRows - 1) / panelRows
                }
            } else if !rowSplittable && blockWidth >= 64 {
                // Formats that cannot split rows get narrower pixel tiles instead.
                tiles = min((desired + g.groups - 1) / g.groups, blockWidth / 32)
                tileWidth = min(blockWidth, ((blockWidth + tiles - 1) / tiles + 15) / 16 * 16)
                tiles = (blockWidth + tileWidth - 1) / tileWidth
            }
        }
    }

    /// The tiling of the packed kernels: their tasks share packed operands, so finer tasks cost
    /// little and small layers still spread over threads.
    static func packed(_ g: ConvGeometry) -> ConvTiling {
        ConvTiling(geometry: g, rowSplittable: true, rowUnit: packedPanelRowsForTiling, minimumTaskMACs: 131_072,
                   minimumTileWidth: 32, minimumPanelRows: 12)
    }

    /// Floats of the shared im2col block.
    func columnFloats(_ g: ConvGeometry) -> Int {
        g.isPointwise ? 0 : g.inChannels * g.kernelHeight * g.kernelWidth * blockWidth
    }

    /// GEMM task `task`'s output-row panel, group, first column and width within a block of
    /// `columns` columns; nil when its tile starts past the block's end. Tasks run
    /// panel-fastest, then tile, then group.
    @inline(__always)
    func gemmTask(_ task: Int, columns: Int) -> (panel: Int, group: Int, t0: Int, width: Int)? {
        let panel = task % panels
        let rest = task / panels
        let tile = rest % tiles
        let group = rest / tiles
        let t0 = tile * tileWidth
        guard t0 < columns else { return nil }
        return (panel, group, t0, min(tileWidth, columns - t0))
    }

    /// Tasks filling the rows of an im2col block: about 32 Ki floats each.
    func columnRowSplit(_ g: ConvGeometry) -> (tasks: Int, perTask: Int) {
        taskSplit(g.inChannels * g.kernelHeight * g.kernelWidth, grain: max(1, 32_768 / max(blockWidth, 1)))
    }
}

/// A convolution step that goes through an im2col block (`ConvGemmStep`, `PackedConvStep`):
/// per image and column block, its tasks first fill the block's rows in parallel (not for
/// pointwise convolutions, which read the input in place), then run the GEMM tasks. The block
/// in progress is stored on the step, where `perform` reads it.
protocol Im2colBlockStep: ParallelWork {
    var g: ConvGeometry { get }
    var tiling: ConvTiling { get }
    var gemmTasks: Int { get }
    var input: UnsafeMutablePointer<Float> { get }
    /// Tasks filling a block's rows (``ConvTiling/columnRowSplit(_:)``).
    var columnSplit: (tasks: Int, perTask: Int) { get }
    var image: Int { get set }
    var blockStart: Int { get set }
    var blockColumns: Int { get set }
    /// True while the tasks fill the block's rows, false while they multiply.
    var fillingColumns: Bool { get set }
}

extension Im2colBlockStep {
    /// Fills task `task`'s share of the block's im2col rows (row r = (channel, ky, kx), all
    /// groups stacked) into `columns`, `rowStride` floats apart.
    func fillColumnRows(task: Int, into columns: UnsafeMutablePointer<Float>, rowStride: Int) {
        let first = task * columnSplit.perTask
        let last = min(g.inChannels * g.kernelHeight * g.kernelWidth, first + columnSplit.perTask)
        convolutionIm2colRows(g, input: input, image: image, rows: first..<last, into: columns, rowStride: rowStride,
                              p0: blockStart, width: blockColumns)
    }

    /// Runs every block of every image (nothing allocates).
    func executeBlocks(_ pool: WorkerPool) {
        for n in 0..<g.batch {
            for block in 0..<tiling.blocks {
                image = n
                blockStart = block * tiling.blockWidth
                blockColumns = min(tiling.blockWidth, g.pixels - blockStart)
                if !g.isPointwise {
                    fillingColumns = true
                    pool.parallelFor(columnSplit.tasks, self)
                }
                fillingColumns = false
                pool.parallelFor(gemmTasks, self)
            }
        }
    }
}

final class ConvGemmStep: ExecutionStep, Im2colBlockStep {
    let g: ConvGeometry
    let matrices: [any WeightMatrix]
    let rowMatrices: [(any RowRangeMultiplying)?]
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let epilogue: Epilogue
    let columns: UnsafeMutablePointer<Float>
    let tiling: ConvTiling
    let gemmTasks: Int
    let columnSplit: (tasks: Int, perTask: Int)
    /// Set per block before the two parallel phases run.
    var image = 0, blockStart = 0, blockColumns = 0
    var fillingColumns = false

    init(geometry: ConvGeometry, matrices: [any WeightMatrix], input: UnsafeMutablePointer<Float>,
         output: UnsafeMutablePointer<Float>, epilogue: Epilogue, columns: UnsafeMutablePointer<Float>) {
        g = geometry
        self.matrices = matrices
        rowMatrices = matrices.map { $0 as? any RowRangeMultiplying }
        self.input = input
        self.output = output
        self.epilogue = epilogue
        self.columns = columns
        tiling = ConvTiling(geometry: geometry, rowSplittable: rowMatrices.allSatisfy { $0 != nil })
        gemmTasks = geometry.groups * tiling.tiles * tiling.panels
        columnSplit = tiling.columnRowSplit(geometry)
    }

    func execute(_ pool: WorkerPool) { executeBlocks(pool) }

    func perform(task: Int, worker: Int) {
        if fillingColumns { fillColumnRows(task: task, into: columns, rowStride: blockColumns) } else { multiply(task: task) }
    }

    private func multiply(task: Int) {
        guard let (panel, group, t0, width) = tiling.gemmTask(task, columns: blockColumns) else { return }
        let pixels = g.pixels
        let p0 = blockStart + t0
        let b: UnsafePointer<Float>
        let ldb: Int
        if g.isPointwise {
            b = UnsafePointer(input + (image * g.inChannels + group * g.inChannelsPerGroup) * pixels + p0)
            ldb = pixels
        } else {
            b = UnsafePointer(columns + group * g.reduction * blockColumns + t0)
            ldb = blockColumns
        }
        let outOffset = (image * g.outChannels + group * g.outChannelsPerGroup) * pixels
        let rows: Range<Int>
        // Row panels exist only when every group's matrix multiplies row ranges (see init).
        if tiling.panels > 1, let rowMatrix = rowMatrices[group] {
            rows = (panel * tiling.panelRows)..<min(g.outChannelsPerGroup, (panel + 1) * tiling.panelRows)
            rowMatrix.multiply(rows: rows, b, ldb: ldb, n: width, into: output + outOffset + p0, ldc: pixels)
        } else {
            rows = 0..<g.outChannelsPerGroup
            matrices[group].multiply(b, ldb: ldb, n: width, into: output + outOffset + p0, ldc: pixels)
        }
        if !epilogue.isEmpty {
            for m in rows {
                let offset = outOffset + m * pixels + p0
                epilogue.apply(row: output + offset, count: width, channel: group * g.outChannelsPerGroup + m, offset: offset)
            }
        }
    }
}

/// Direct depthwise convolution: each output channel reads one input channel. Planes run on
/// GearboxKernels' vector kernel with the epilogue fused into its stores (`vectorised`), or on the
/// plain scalar loop (the reference path, chosen with the `openBLAS` kernel and on CPUs without
/// AVX2/FMA). Tasks are fixed ranges of planes, so results do not depend on the thread count.
final class DepthwiseConvStep: ExecutionStep, ParallelWork {
    let g: ConvGeometry
    let weights: AlignedBuffer
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let epilogue: Epilogue
    let split: (tasks: Int, perTask: Int)
    let vectorised: Bool
    private let plane: DepthwisePlaneShape
    /// The activation's clamp bounds, applied in the kernel; nil when it is not a clamp
    /// (then it runs as a second pass over the plane).
    private let clamp: (lower: Float, upper: Float)?
    /// Worker w's buffer for the zero-bordered plane copy: scratch + w · scratchStride.
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchStride: Int
    private let copiesPadded: Bool

    init(geometry: ConvGeometry, weights: Tensor, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
         epilogue: Epilogue, vectorised: Bool, scratch: UnsafeMutablePointer<Float>, scratchStride: Int) {
        g = geometry
        self.weights = weights.sharedStorage
        self.input = input
        self.output = output
        self.epilogue = epilogue
        self.vectorised = vectorised
        let planeMACs = geometry.pixels * geometry.kernelHeight * geometry.kernelWidth
        split = taskSplit(geometry.batch * geometry.outChannels, grain: max(1, 65_536 / max(planeMACs, 1)))
        plane = geometry.depthwisePlane
        clamp = epilogue.activation.clampBounds
        self.scratch = scratch
        self.scratchStride = scratchStride
        copiesPadded = vectorised && plane.paddedFloats > 0 && scratchStride >= plane.paddedFloats
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(split.tasks, self) }

    func perform(task: Int, worker: Int) {
        let first = task * split.perTask
        let last = min(first + split.perTask, g.batch * g.outChannels)
        var plane = first
        while plane < last {
            if vectorised { runVectorised(plane: plane, worker: worker) } else { run(plane: plane) }
            plane += 1
        }
    }

    @inline(__always)
    private func runVectorised(plane index: Int, worker: Int) {
        let image = index / g.outChannels, m = index % g.outChannels
        let channel = m / g.outChannelsPerGroup
        let src = input + (image * g.inChannels + channel) * g.inHeight * g.inWidth
        let outOffset = (image * g.outChannels + m) * g.pixels
        let bounds = clamp ?? (-Float.infinity, Float.infinity)
        let fused = DepthwiseEpilogue(bias: epilogue.bias.map { $0.baseAddress[m] } ?? 0,
                                      residual: epilogue.residual.map { $0 + outOffset }, lower: bounds.lower, upper: bounds.upper)
        depthwiseConvolvePlane(plane, input: UnsafePointer(src), weights: UnsafePointer(weights.baseAddress + m * g.kernelHeight * g.kernelWidth),
                               output: output + outOffset, epilogue: fused,
                               padded: copiesPadded ? scratch + worker * scratchStride : nil)
        if clamp == nil { epilogue.activation.apply(output + outOffset, g.pixels) }
    }

    @inline(__always)
    private func run(plane: Int) {
        let image = plane / g.outChannels, m = plane % g.outChannels
        let multiplier = g.outChannelsPerGroup
        let channel = m / multiplier
        let inH = g.inHeight, inW = g.inWidth, outH = g.outHeight, outW = g.outWidth
        let src = input + (image * g.inChannels + channel) * inH * inW
        let outOffset = (image * g.outChannels + m) * outH * outW
        let dst = output + outOffset
        let kH = g.kernelHeight, kW = g.kernelWidth
        let w = weights.baseAddress + m * kH * kW
        let sW = g.strideWidth
        dst.update(repeating: 0, count: outH * outW)
        for oy in 0..<outH {
            let outRow = dst + oy * outW
            for ky in 0..<kH {
                let iy = oy * g.strideHeight - g.padTop + ky * g.dilationHeight
                if iy < 0 || iy >= inH { continue }
                let line = src + iy * inW
                for kx in 0..<kW {
                    let weight = w[ky * kW + kx]
                    let shift = kx * g.dilationWidth - g.padLeft
                    // ox valid where 0 <= ox*sW + shift < inW.
                    let lo = shift >= 0 ? 0 : (-shift + sW - 1) / sW
                    let hi = min(outW, inW - shift <= 0 ? 0 : (inW - shift + sW - 1) / sW)
                    if lo >= hi { continue }
                    if sW == 1 {
                        let s = line + shift
                        for ox in lo..<hi { outRow[ox] += weight * s[ox] }
                    } else {
                        for ox in lo..<hi { outRow[ox] += weight * line[ox * sW + shift] }
                    }
                }
            }
        }
        epilogue.apply(row: dst, count: outH * outW, channel: m, offset: outOffset)
    }
}
