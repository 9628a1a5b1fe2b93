import GearboxKernels

// GearboxEngine/InvertedResidualStep: an inverted-residual block (1×1 expansion → depthwise →
// 1×1 projection, MobileNetV2's building block) inside an NHWC run, computed in bands of output
// rows so that the expanded tensor — 6× the block's input, 4.8 MB at MobileNetV2's 112² — stays
// in the core's L2. Each band expands only the input rows its depthwise window reads (rows it
// shares with the band before are carried over, not recomputed; padding rows are zero rows),
// runs the depthwise filter over them and projects the result straight into the block's output,
// adding the residual while it is in cache. The intermediate tensors get no arena slots. The 1×1
// layers run on XNNPACK's GEMM and the depthwise layer on GearboxKernels' NHWC kernel, as they
// do unbanded at stride 1, so each output value is computed by the same operations for any
// thread count.

/// The bands of one block, from its depthwise layer's shape: the output rows are cut into a fixed
/// number of chunks (one task each, so 2 workers share the block), and each chunk into bands of
/// `bandRows` rows whose expanded input fits `scratchBudgetBytes`.
struct InvertedResidualBands: Equatable {
    /// The depthwise layer's geometry (its input is the expansion's output).
    let depthwise: ConvGeometry
    let bandRows: Int
    let chunks: [Range<Int>]

    /// Bytes of expanded rows plus depthwise output one band may hold: a quarter of the L2
    /// these blocks were tuned on (1 MiB per core), and with two chunks never more scratch than
    /// the smallest banded block's expanded tensor, whose arena slot it replaces.
    static let scratchBudgetBytes = 256 * 1024
    /// Blocks with a smaller expanded tensor run unbanded: it stays in L2 anyway, and two
    /// chunks' extra rows cost more than banding saves (MobileNetV2's 14² blocks measured slower
    /// banded at 2 threads).
    static let minimumExpandedBytes = 512 * 1024

    /// Nil unless the depthwise layer is one banding handles: one image, one output channel per
    /// input channel, no dilation, and vertical padding smaller than the kernel.
    init?(depthwise g: ConvGeometry, scratchBudgetBytes: Int = Self.scratchBudgetBytes) {
        guard g.batch == 1, g.isDepthwise, g.outChannelsPerGroup == 1, g.dilationHeight == 1, g.dilationWidth == 1,
              g.padTop < g.kernelHeight, g.padBottom < g.kernelHeight, g.outHeight >= 1 else { return nil }
        depthwise = g
        let rowBytes = g.inWidth * g.inChannels * 4, outputRowBytes = g.outWidth * g.outChannels * 4
        var rows = 1
        while rows < g.outHeight,
              Self.inputRows(forOutputRows: rows + 1, g) * rowBytes + (rows + 1) * outputRowBytes <= scratchBudgetBytes {
            rows += 1
        }
        // Two chunks, so that two workers share the block; each chunk's first band expands the
        // rows it shares with the chunk above once more.
        let count = g.outHeight >= 2 ? 2 : 1
        let per = (g.outHeight + count - 1) / count
        bandRows = min(rows, per)
        chunks = stride(from: 0, to: g.outHeight, by: per).map { $0..<min(g.outHeight, $0 + per) }
    }

    /// Input rows (padding rows included) the depthwise window reads for `rows` output rows.
    static func inputRows(forOutputRows rows: Int, _ g: ConvGeometry) -> Int { (rows - 1) * g.strideHeight + g.kernelHeight }

    /// The input rows (image coordinates, negative or past the end for padding) output rows `rows` read.
    func inputRange(of rows: Range<Int>) -> Range<Int> {
        let first = rows.lowerBound * depthwise.strideHeight - depthwise.padTop
        return first..<(first + Self.inputRows(forOutputRows: rows.count, depthwise))
    }

    /// The bands of chunk `chunk`, top to bottom.
    func bands(ofChunk chunk: Int) -> [Range<Int>] {
        let rows = chunks[chunk]
        return stride(from: rows.lowerBound, to: rows.upperBound, by: bandRows).map { $0..<min(rows.upperBound, $0 + bandRows) }
    }

    /// Floats of expanded rows one task's scratch holds.
    var expandedFloats: Int { Self.inputRows(forOutputRows: bandRows, depthwise) * depthwise.inWidth * depthwise.inChannels }
    /// Floats of depthwise output one task's scratch holds.
    var depthwiseFloats: Int { bandRows * depthwise.outWidth * depthwise.outChannels }
    /// Floats of one task's scratch, rounded to 16 (cache lines).
    var taskFloats: Int { (expandedFloats + 15) / 16 * 16 + (depthwiseFloats + 15) / 16 * 16 }
}

/// The fused block in the operation list: it replaces its three convolutions (kept as `members`
/// for weights, statistics and packed files) and reads only the block's input and residual.
final class InvertedResidualOperation: PlannedOperation {
    let expand: ConvOperation
    let depthwise: ConvOperation
    let project: ConvOperation
    let bands: InvertedResidualBands
    /// Per task: expansion and projection operators, set up per band.
    private let expansions: [XNNPACKFullyConnected]
    private let projections: [XNNPACKFullyConnected]
    /// The depthwise layer over a band (its padding rows are zero rows of the band).
    private let filter: DepthwiseNHWCLayer

    /// The kernel name profiles and `convolutionKernels` give the block and its layers.
    static let kernelName = "xnnpack-banded"

    var members: [ConvOperation] { [expand, depthwise, project] }
    var label: NodeLabel {
        NodeLabel(name: members.map(\.label.name).joined(separator: "+"), opType: "InvertedResidual")
    }
    var inputs: [Int] { project.residual.map { [expand.input, $0] } ?? [expand.input] }
    var outputs: [Int] { [project.output] }
    var macs: Int { members.reduce(0) { $0 + $1.macs } }
    var sharedScratchFloats: Int { bands.chunks.count * bands.taskFloats }
    /// Heap bytes of the block's own weight copies: XNNPACK's packed 1×1 weights (measured) and
    /// the depthwise kernel's packed weights and zero row.
    let libraryWeightBytes: Int

    /// Nil when the three layers do not form a block banding handles, or XNNPACK refuses one.
    init?(expand: ConvOperation, depthwise: ConvOperation, project: ConvOperation) {
        let e = expand.geometry, d = depthwise.geometry, p = project.geometry
        guard e.isPointwise, e.groups == 1, p.isPointwise, p.groups == 1, expand.residual == nil, depthwise.residual == nil,
              e.outChannels == d.inChannels, d.outChannels == p.inChannels,
              e.outHeight == d.inHeight, e.outWidth == d.inWidth, d.outHeight == p.inHeight, d.outWidth == p.inWidth,
              e.batch * e.pixels * e.outChannels * 4 >= InvertedResidualBands.minimumExpandedBytes,
              let bands = InvertedResidualBands(depthwise: d),
              let expandBounds = expand.activation.clampBounds, let depthwiseBounds = depthwise.activation.clampBounds,
              let projectBounds = project.activation.clampBounds, depthwiseBounds.lower < depthwiseBounds.upper,
              let expandWeights = expand.pointwiseWeights(), let projectWeights = project.pointwiseWeights(),
              let filter = DepthwiseNHWCLayer(Self.bandGeometry(d, rows: bands.bandRows), weights: depthwise.weights, bias: depthwise.bias)
        else { return nil }
        let expandBias = expand.bias.map { AlignedBuffer(copying: $0) }
        let projectBias = project.bias.map { AlignedBuffer(copying: $0) }
        // The projection clamps in XNNPACK unless a residual Add must come first.
        let projectKernelBounds = project.residual == nil ? projectBounds : (-.infinity, .infinity)
        var expansions: [XNNPACKFullyConnected] = [], projections: [XNNPACKFullyConnected] = []
        var packed = 0
        for _ in bands.chunks {
            guard let x = XNNPACKFullyConnected(inputChannels: e.inChannels, outputChannels: e.outChannels,
                                                weights: UnsafePointer(expandWeights.baseAddress),
                                                bias: expandBias.map { UnsafePointer($0.baseAddress) }, outputBounds: expandBounds),
                  let y = XNNPACKFullyConnected(inputChannels: p.inChannels, outputChannels: p.outChannels,
                                                weights: UnsafePointer(projectWeights.baseAddress),
                                                bias: projectBias.map { UnsafePointer($0.baseAddress) }, outputBounds: projectKernelBounds)
            else { return nil }
            expansions.append(x)
            projections.append(y)
            packed += x.packedBytes + y.packedBytes
        }
        self.expand = expand
        self.depthwise = depthwise
        self.project = project
        self.bands = bands
        self.expansions = expansions
        self.projections = projections
        self.filter = filter
        libraryWeightBytes = packed + filter.bytes
    }

    func makeStep(_ binding: StepBinding) throws -> any ExecutionStep {
        InvertedResidualStep(
            bands: bands, expansions: expansions, filter: filter, projections: projections,
            input: UnsafePointer(binding.address(expand.input)), output: binding.address(project.output),
            residual: project.residual.map { UnsafePointer(binding.address($0)) },
            bounds: project.activation.clampBounds ?? (-.infinity, .infinity),
            depthwiseBounds: depthwise.activation.clampBounds ?? (-.infinity, .infinity), scratch: binding.sharedScratch)
    }

    /// The depthwise layer over one band: its expanded rows, padding rows included, with no
    /// vertical padding of its own.
    static func bandGeometry(_ d: ConvGeometry, rows: Int) -> ConvGeometry {
        var g = d
        g.inHeight = InvertedResidualBands.inputRows(forOutputRows: rows, d)
        g.outHeight = rows
        g.padTop = 0
        g.padBottom = 0
        return g
    }
}

final class InvertedResidualStep: ExecutionStep, ParallelWork {
    let bands: InvertedResidualBands
    let expansions: [XNNPACKFullyConnected]
    /// Per task: the depthwise operator for each band height, bound to the task's scratch.
    let filter: DepthwiseNHWCLayer
    let projections: [XNNPACKFullyConnected]
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let residual: UnsafePointer<Float>?
    let bounds: (lower: Float, upper: Float)
    let depthwiseBounds: (lower: Float, upper: Float)
    let scratch: UnsafeMutablePointer<Float>

    init(bands: InvertedResidualBands, expansions: [XNNPACKFullyConnected], filter: DepthwiseNHWCLayer,
         projections: [XNNPACKFullyConnected], input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
         residual: UnsafePointer<Float>?, bounds: (lower: Float, upper: Float), depthwiseBounds: (lower: Float, upper: Float),
         scratch: UnsafeMutablePointer<Float>) {
        self.depthwiseBounds = depthwiseBounds
        self.bands = bands
        self.expansions = expansions
        self.filter = filter
        self.projections = projections
        self.input = input
        self.output = output
        self.residual = residual
        self.bounds = bounds
        self.scratch = scratch
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(bands.chunks.count, self) }

    func perform(task: Int, worker: Int) {
        let d = bands.depthwise
        let rowFloats = d.inWidth * d.inChannels, inputRowFloats = d.inWidth * expansions[task].inputChannels
        let outputRowFloats = d.outWidth * projections[task].outputChannels, filteredRowFloats = d.outWidth * d.outChannels
        let expanded = scratch + task * bands.taskFloats
        let filtered = expanded + (bands.expandedFloats + 15) / 16 * 16
        let chunk = bands.chunks[task]
        // Expanded rows (image coordinates) now at the top of the scratch; none before the first band.
        var held = Int.min..<Int.min
        var first = chunk.lowerBound
        while first < chunk.upperBound {
            let rows = first..<min(chunk.upperBound, first + bands.bandRows)
            let needed = bands.inputRange(of: rows)
            // Rows the band above expanded move to the top; only the rest are computed.
            // (Bands move down, so a band never needs rows above the ones held.)
            let carried = needed.lowerBound..<max(needed.lowerBound, min(needed.upperBound, held.upperBound))
            if !carried.isEmpty {
                UnsafeMutableRawPointer(expanded + (carried.lowerBound - needed.lowerBound) * rowFloats)
                    .copyMemory(from: expanded + (carried.lowerBound - held.lowerBound) * rowFloats, byteCount: carried.count * rowFloats * 4)
            }
            let fresh = (carried.isEmpty ? needed.lowerBound : carried.upperBound)..<needed.upperBound
            let inside = max(fresh.lowerBound, 0)..<max(max(fresh.lowerBound, 0), min(fresh.upperBound, d.inHeight))
            // Padding rows above and below the image are zeros (the depthwise input after its clamp).
            if fresh.lowerBound < inside.lowerBound {
                (expanded + (fresh.lowerBound - needed.lowerBound) * rowFloats).initialize(repeating: 0, count: (inside.lowerBound - fresh.lowerBound) * rowFloats)
            }
            if !inside.isEmpty {
                expansions[task].run(pixels: inside.count * d.inWidth, input: input + inside.lowerBound * inputRowFloats,
                                     output: expanded + (inside.lowerBound - needed.lowerBound) * rowFloats)
            }
            let below = max(inside.upperBound, fresh.lowerBound)
            if below < fresh.upperBound {
                (expanded + (below - needed.lowerBound) * rowFloats).initialize(repeating: 0, count: (fresh.upperBound - below) * rowFloats)
            }
            held = needed
            var shape = filter.shape
            shape.inHeight = needed.count
            shape.outHeight = rows.count
            for local in 0..<rows.count {
                depthwiseNHWCRow(shape, oy: local, input: UnsafePointer(expanded), weights: UnsafePointer(filter.packed.baseAddress),
                                 zeros: UnsafePointer(filter.zeros.baseAddress), output: filtered + local * filteredRowFloats,
                                 residual: nil, lower: depthwiseBounds.lower, upper: depthwiseBounds.upper, channels: 0..<d.outChannels)
            }
            let out = output + rows.lowerBound * outputRowFloats
            projections[task].run(pixels: rows.count * d.outWidth, input: UnsafePointer(filtered), output: out)
            if let residual {
                NHWCEpilogue.addResidualAndClamp(out, residual + rows.lowerBound * outputRowFloats, count: rows.count * outputRowFloats, bounds: bounds)
            }
            first = rows.upperBound
        }
    }
}
