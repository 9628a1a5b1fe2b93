// GearboxEngine/Convolution: 1-D and 2-D Conv. General and grouped convolutions lower to
// C = A · im2col(X) through `any WeightMatrix` (dense sgemm or a pruned format), tiled over
// output pixels (and over output-channel panels for row-splittable formats) with the bias,
// residual Add and activation applied per tile. Depthwise convolutions use a direct kernel.

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
    let input: Int
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
            matrices.append(try convert(dense, factory: factory, block: block, layer: description))
            descriptions.append(description)
        }
        layerIndex += 1
    }

    var weightMatrices: [(description: WeightLayerDescription, matrix: any WeightMatrix)] {
        Array(zip(descriptions, matrices)).map { (description: $0.0, matrix: $0.1) }
    }

    var scratchFloatsPerWorker: Int {
        geometry.isDepthwise || geometry.isPointwise ? 0 : geometry.reduction * ConvTiling(geometry: geometry, rowSplittable: false).tileWidth
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        let epilogue = Epilogue(bias: bias.map { AlignedBuffer(copying: $0) }, activation: activation,
                                residual: residual.map { UnsafePointer(binding.address($0)) })
        if geometry.isDepthwise {
            return DepthwiseConvStep(geometry: geometry, weights: weights, input: binding.address(input),
                                     output: binding.address(output), epilogue: epilogue)
        }
        if matrices.isEmpty {
            // Folded at load before prepareWeights ran: use dense weights.
            var index = 0
            try? prepareWeights(factory: nil, block: nil, layerIndex: &index)
        }
        return ConvGemmStep(geometry: geometry, matrices: matrices, input: binding.address(input),
                            output: binding.address(output), epilogue: epilogue,
                            scratch: binding.scratch, scratchStride: binding.scratchStride)
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
        let b = bias.map { $0.baseAddress[channel] } ?? 0
        if let residual {
            let r = residual + offset
            for i in 0..<count { row[i] += b + r[i] }
        } else if b != 0 {
            for i in 0..<count { row[i] += b }
        }
        if activation != .identity { activation.apply(row, count) }
    }

    var isEmpty: Bool { bias == nil && residual == nil && activation == .identity }
}

/// How a convolution's work is cut into tasks. Depends only on shapes (never on thread count).
struct ConvTiling {
    /// im2col tile budget: 96 Ki floats (384 KiB) keeps a tile in a typical L2.
    static let tileBudgetFloats = 98_304
    /// Minimum multiply-accumulates per task, so a task's sgemm call amortises its set-up.
    static let minimumTaskMACs = 524_288
    static let maximumTasks = 8

    var tileWidth: Int
    var pixelTiles: Int
    var panels: Int
    var panelRows: Int

    init(geometry g: ConvGeometry, rowSplittable: Bool) {
        let pixels = max(g.pixels, 1)
        let images = g.batch * g.groups
        let desired = min(Self.maximumTasks, max(1, g.macs / Self.minimumTaskMACs))
        var width = g.isPointwise ? pixels : max(16, Self.tileBudgetFloats / max(g.reduction, 1) / 16 * 16)
        let wantPixelTiles = (desired + images - 1) / images
        if wantPixelTiles > 1 {
            let parallelWidth = ((pixels + wantPixelTiles - 1) / wantPixelTiles + 15) / 16 * 16
            width = min(width, max(32, parallelWidth))
        }
        width = min(width, pixels)
        var tiles = (pixels + width - 1) / width
        // Even out the tiles: same count, widths as equal as 16-multiples allow.
        width = min(pixels, ((pixels + tiles - 1) / tiles + 15) / 16 * 16)
        tiles = (pixels + width - 1) / width
        tileWidth = width
        pixelTiles = tiles
        panels = 1
        panelRows = g.outChannelsPerGroup
        let natural = images * tiles
        if rowSplittable && natural < desired && g.outChannelsPerGroup >= 64 {
            let want = min((desired + natural - 1) / natural, g.outChannelsPerGroup / 32)
            if want > 1 {
                panelRows = ((g.outChannelsPerGroup + want - 1) / want + 15) / 16 * 16
                panels = (g.outChannelsPerGroup + panelRows - 1) / panelRows
            }
        }
    }

    var taskCountPerImageGroup: Int { pixelTiles * panels }
}

final class ConvGemmStep: ExecutionStep {
    let g: ConvGeometry
    let matrices: [any WeightMatrix]
    let rowMatrices: [(any RowRangeMultiplying)?]
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let epilogue: Epilogue
    let scratch: UnsafeMutablePointer<Float>
    let scratchStride: Int
    let tiling: ConvTiling
    let taskCount: Int

    init(geometry: ConvGeometry, matrices: [any WeightMatrix], input: UnsafeMutablePointer<Float>,
         output: UnsafeMutablePointer<Float>, epilogue: Epilogue, scratch: UnsafeMutablePointer<Float>, scratchStride: Int) {
        g = geometry
        self.matrices = matrices
        rowMatrices = matrices.map { $0 as? any RowRangeMultiplying }
        self.input = input
        self.output = output
        self.epilogue = epilogue
        self.scratch = scratch
        self.scratchStride = scratchStride
        let splittable = rowMatrices.allSatisfy { $0 != nil }
        var tiling = ConvTiling(geometry: geometry, rowSplittable: splittable)
        if !geometry.isPointwise {
            // The planner sized scratch for the non-split tiling; widths never grow when rows split.
            tiling.tileWidth = min(tiling.tileWidth, scratchStride / max(geometry.reduction, 1))
            tiling.pixelTiles = (geometry.pixels + tiling.tileWidth - 1) / max(tiling.tileWidth, 1)
        }
        self.tiling = tiling
        taskCount = geometry.batch * geometry.groups * tiling.taskCountPerImageGroup
    }

    func execute(_ pool: WorkerPool) {
        pool.parallelFor(taskCount) { task, worker in self.run(task: task, worker: worker) }
    }

    @inline(__always)
    private func run(task: Int, worker: Int) {
        let panel = task % tiling.panels
        var rest = task / tiling.panels
        let tile = rest % tiling.pixelTiles
        rest /= tiling.pixelTiles
        let group = rest % g.groups
        let image = rest / g.groups
        let pixels = g.pixels
        let p0 = tile * tiling.tileWidth
        let width = min(tiling.tileWidth, pixels - p0)
        let inPlane = g.inHeight * g.inWidth
        let inBase = input + (image * g.inChannels + group * g.inChannelsPerGroup) * inPlane
        let outOffset = (image * g.outChannels + group * g.outChannelsPerGroup) * pixels
        let outBase = output + outOffset
        let b: UnsafePointer<Float>
        let ldb: Int
        if g.isPointwise {
            b = UnsafePointer(inBase + p0)
            ldb = pixels
        } else {
            let col = scratch + worker * scratchStride
            im2colTile(inBase, col, p0: p0, width: width)
            b = UnsafePointer(col)
            ldb = width
        }
        let rows: Range<Int>
        if tiling.panels == 1 {
            rows = 0..<g.outChannelsPerGroup
            matrices[group].multiply(b, ldb: ldb, n: width, into: outBase + p0, ldc: pixels)
        } else {
            rows = (panel * tiling.panelRows)..<min(g.outChannelsPerGroup, (panel + 1) * tiling.panelRows)
            rowMatrices[group]!.multiply(rows: rows, b, ldb: ldb, n: width, into: outBase + p0, ldc: pixels)
        }
        if !epilogue.isEmpty {
            for m in rows {
                let offset = outOffset + m * pixels + p0
                epilogue.apply(row: output + offset, count: width, channel: group * g.outChannelsPerGroup + m, offset: offset)
            }
        }
    }

    /// Writes columns p0..<p0+width of the im2col matrix ((C/g)·kH·kW rows) into `col` (row stride `width`).
    @inline(__always)
    private func im2colTile(_ src: UnsafeMutablePointer<Float>, _ col: UnsafeMutablePointer<Float>, p0: Int, width: Int) {
        let outW = g.outWidth, inH = g.inHeight, inW = g.inWidth
        let sH = g.strideHeight, sW = g.strideWidth, dH = g.dilationHeight, dW = g.dilationWidth
        var row = col
        for c in 0..<g.inChannelsPerGroup {
            let plane = src + c * inH * inW
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    var p = p0
                    var dst = row
                    let end = p0 + width
                    while p < end {
                        let oy = p / outW
                        let ox0 = p - oy * outW
                        let n = min(outW - ox0, end - p)
                        let iy = oy * sH - g.padTop + ky * dH
                        if iy < 0 || iy >= inH {
                            dst.update(repeating: 0, count: n)
                        } else {
                            let line = plane + iy * inW
                            let ixBase = ox0 * sW - g.padLeft + kx * dW
                            if sW == 1 {
                                let lo = min(n, max(0, -ixBase))
                                let hi = max(lo, min(n, inW - ixBase))
                                if lo > 0 { dst.update(repeating: 0, count: lo) }
                                if hi > lo { (dst + lo).update(from: line + ixBase + lo, count: hi - lo) }
                                if n > hi { (dst + hi).update(repeating: 0, count: n - hi) }
                            } else {
                                for j in 0..<n {
                                    let ix = ixBase + j * sW
                                    dst[j] = (ix >= 0 && ix < inW) ? line[ix] : 0
                                }
                            }
                        }
                        dst += n
                        p += n
                    }
                    row += width
                }
            }
        }
    }
}

/// Direct depthwise convolution: each output channel reads one input channel.
final class DepthwiseConvStep: ExecutionStep {
    let g: ConvGeometry
    let weights: AlignedBuffer
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let epilogue: Epilogue
    let split: (tasks: Int, perTask: Int)

    init(geometry: ConvGeometry, weights: Tensor, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, epilogue: Epilogue) {
        g = geometry
        self.weights = weights.sharedStorage
        self.input = input
        self.output = output
        self.epilogue = epilogue
        let planeMACs = geometry.pixels * geometry.kernelHeight * geometry.kernelWidth
        split = taskSplit(geometry.batch * geometry.outChannels, grain: max(1, 65_536 / max(planeMACs, 1)))
    }

    func execute(_ pool: WorkerPool) {
        pool.parallelFor(split.tasks) { task, _ in
            let first = task * self.split.perTask
            let last = min(first + self.split.perTask, self.g.batch * self.g.outChannels)
            for plane in first..<last { self.run(plane: plane) }
        }
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
