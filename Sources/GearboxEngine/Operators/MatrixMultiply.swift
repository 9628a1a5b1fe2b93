// GearboxEngine/MatrixMultiply: Gemm and MatMul. With constant weights they lower to a
// `LinearOperation` through `any WeightMatrix` (so pruned formats apply to fully connected
// layers too); with run-time operands they call sgemm directly (`GemmOperation`,
// `MatMulOperation`, batched with broadcasting).

/// Y[R×N] = X[R×K] · Wᵀ + bias, with W an N×K weight matrix (Gemm/MatMul with constant B).
final class LinearOperation: WeightedOperation {
    enum Bias {
        case none
        /// One value per output feature.
        case perFeature([Float])
        /// A full R×N matrix (Gemm's C broadcast at load).
        case full(Tensor)
    }

    let label: NodeLabel
    let opType: String
    let input: Int
    var output: Int
    let rows: Int
    let reduction: Int
    let features: Int
    /// X is stored K×R (Gemm transA).
    let inputTransposed: Bool
    /// N×K.
    var weights: Tensor
    var bias: Bias
    var activation: Activation = .identity
    private(set) var matrix: (any WeightMatrix)?
    private var description: WeightLayerDescription?

    var inputs: [Int] { [input] }
    var outputs: [Int] { [output] }
    var macs: Int { rows * reduction * features }

    init(label: NodeLabel, opType: String, input: Int, output: Int, rows: Int, reduction: Int, features: Int,
         inputTransposed: Bool, weights: Tensor, bias: Bias) {
        self.label = label
        self.opType = opType
        self.input = input
        self.output = output
        self.rows = rows
        self.reduction = reduction
        self.features = features
        self.inputTransposed = inputTransposed
        self.weights = weights
        self.bias = bias
    }

    func prepareWeights(factory: (any WeightFormatFactory)?, block: WeightBlockShape?, layerIndex: inout Int) throws {
        let (dense, layer) = denseWeights(layerIndex: layerIndex)
        matrix = try convert(dense, factory: factory, block: block, layer: layer)
        description = layer
        layerIndex += 1
    }

    /// The weights as a dense N×K matrix, and the layer's description.
    private func denseWeights(layerIndex: Int) -> (DenseWeightMatrix, WeightLayerDescription) {
        let dense = DenseWeightMatrix(rows: features, columns: reduction, values: weights.reshaped(to: [features, reduction]))
        let layer = WeightLayerDescription(nodeName: label.name, opType: opType, kernelShape: [features, reduction], layerIndex: layerIndex)
        return (dense, layer)
    }

    var weightMatrices: [(description: WeightLayerDescription, matrix: any WeightMatrix)] {
        guard let matrix, let description else { return [] }
        return [(description, matrix)]
    }

    var record: WeightLayerRecord {
        WeightLayerRecord(node: label.name, op: opType, descriptions: description.map { [$0] } ?? [],
                          matrices: matrix.map { [$0] } ?? [], linearBias: bias)
    }

    func adopt(_ record: WeightLayerRecord, source: String) throws {
        guard record.op == opType, record.node == label.name else {
            throw WeightLayerRecord.mismatch(source, label.name, "the file stores \(record.op) layer \(record.node) here")
        }
        guard record.matrices.count == 1, record.descriptions.count == 1, record.matrices[0].rows == features,
              record.matrices[0].columns == reduction
        else { throw WeightLayerRecord.mismatch(source, label.name, "expected one \(features)x\(reduction) matrix") }
        switch record.linearBias {
        case .none: break
        case let .perFeature(b): guard b.count == features else { throw WeightLayerRecord.mismatch(source, label.name, "bias size") }
        case let .full(t): guard t.count == rows * features else { throw WeightLayerRecord.mismatch(source, label.name, "bias size") }
        }
        matrix = record.matrices[0]
        description = record.descriptions[0]
        bias = record.linearBias
        weights = Tensor(zeros: [0])
    }

    var scratchFloatsPerWorker: Int { rows == 1 ? 0 : (reduction + features) * LinearStep.tileRows(rows) }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        let prepared: any WeightMatrix
        if let matrix {
            prepared = matrix
        } else {
            // Folded at load before prepareWeights ran: use the dense weights.
            let (dense, layer) = denseWeights(layerIndex: 0)
            matrix = dense
            description = layer
            prepared = dense
        }
        return LinearStep(operation: self, matrix: prepared, input: binding.address(input), output: binding.address(output),
                          scratch: binding.scratch, scratchStride: binding.scratchStride)
    }
}

final class LinearStep: ExecutionStep, ParallelWork {
    let matrix: any WeightMatrix
    let rowMatrix: (any RowRangeMultiplying)?
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let rows: Int, reduction: Int, features: Int
    let inputTransposed: Bool
    let perFeatureBias: AlignedBuffer?
    let fullBias: AlignedBuffer?
    let activation: Activation
    let scratch: UnsafeMutablePointer<Float>
    let scratchStride: Int
    let tile: Int
    let featurePanels: Int
    let panelFeatures: Int

    static func tileRows(_ rows: Int) -> Int { min(rows, 64) }
    /// Weights per feature panel of a batch-1 layer, at least (256 KB of floats).
    static let minimumPanelWeights = 65_536

    init(operation op: LinearOperation, matrix: any WeightMatrix, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
         scratch: UnsafeMutablePointer<Float>, scratchStride: Int) {
        self.matrix = matrix
        rowMatrix = matrix as? any RowRangeMultiplying
        self.input = input
        self.output = output
        rows = op.rows
        reduction = op.reduction
        features = op.features
        inputTransposed = op.inputTransposed
        switch op.bias {
        case .none: perFeatureBias = nil; fullBias = nil
        case let .perFeature(b): perFeatureBias = AlignedBuffer(copying: b); fullBias = nil
        case let .full(t): perFeatureBias = nil; fullBias = t.sharedStorage
        }
        activation = op.activation
        self.scratch = scratch
        self.scratchStride = scratchStride
        tile = LinearStep.tileRows(op.rows)
        // Batch-1 layers split by output features when the format allows it. They are
        // matrix-vector products, bound by reading the weights rather than by arithmetic, so
        // they split into 2, 4 or 8 panels (equal shares for 2 or 4 workers) of at least 64 Ki
        // weights each, far below the compute-bound tasks' minimum.
        let macs = op.rows * op.reduction * op.features
        let wanted = min(ConvTiling.maximumTasks, macs / Self.minimumPanelWeights)
        let desired = wanted >= 8 ? 8 : wanted >= 4 ? 4 : wanted >= 2 ? 2 : 1
        if op.rows == 1, rowMatrix != nil, desired > 1, op.features >= 64 {
            panelFeatures = ((op.features + desired - 1) / desired + 15) / 16 * 16
            featurePanels = (op.features + panelFeatures - 1) / panelFeatures
        } else {
            panelFeatures = op.features
            featurePanels = 1
        }
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(rows == 1 ? featurePanels : (rows + tile - 1) / tile, self) }

    func perform(task: Int, worker: Int) {
        guard rows == 1 else { return run(tile: task, worker: worker) }
        let range = (task * panelFeatures)..<min(features, (task + 1) * panelFeatures)
        // Feature panels exist only for a matrix that multiplies row ranges (see init).
        if featurePanels > 1, let rowMatrix {
            rowMatrix.multiply(rows: range, input, ldb: 1, n: 1, into: output, ldc: 1)
        } else {
            matrix.multiply(input, ldb: 1, n: 1, into: output, ldc: 1)
        }
        finish(row: 0, features: range)
    }

    @inline(__always)
    private func finish(row: Int, features range: Range<Int>) {
        let y = output + row * features
        if let b = perFeatureBias?.baseAddress {
            for j in range { y[j] += b[j] }
        } else if let b = fullBias?.baseAddress {
            for j in range { y[j] += b[row * features + j] }
        }
        if activation != .identity { activation.apply(y + range.lowerBound, range.count) }
    }

    private func run(tile t: Int, worker: Int) {
        let r0 = t * tile
        let width = min(tile, rows - r0)
        let xt = scratch + worker * scratchStride
        let yt = xt + reduction * tile
        let b: UnsafePointer<Float>
        let ldb: Int
        if inputTransposed {
            b = UnsafePointer(input + r0)
            ldb = rows
        } else {
            for r in 0..<width {
                let x = input + (r0 + r) * reduction
                for k in 0..<reduction { xt[k * width + r] = x[k] }
            }
            b = UnsafePointer(xt)
            ldb = width
        }
        matrix.multiply(b, ldb: ldb, n: width, into: yt, ldc: width)
        for r in 0..<width {
            let y = output + (r0 + r) * features
            for j in 0..<features { y[j] = yt[j * width + r] }
            finish(row: r0 + r, features: 0..<features)
        }
    }
}

/// Gemm with a run-time B or C: Y = alpha·op(A)·op(B) + beta·C via sgemm.
final class GemmOperation: PlannedOperation {
    let label: NodeLabel
    let a: Int, b: Int, c: Int?
    var output: Int
    let m: Int, n: Int, k: Int
    let transposeA: Bool, transposeB: Bool
    let alpha: Float, beta: Float
    /// C's shape, rank ≤ 2, unidirectionally broadcastable to M×N.
    let cShape: [Int]
    var activation: Activation = .identity

    var inputs: [Int] { [a, b] + (c.map { [$0] } ?? []) }
    var outputs: [Int] { [output] }
    var macs: Int { m * n * k }

    init(label: NodeLabel, a: Int, b: Int, c: Int?, output: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
         alpha: Float, beta: Float, cShape: [Int]) {
        self.label = label
        self.a = a; self.b = b; self.c = c; self.output = output
        self.m = m; self.n = n; self.k = k
        self.transposeA = transposeA; self.transposeB = transposeB
        self.alpha = alpha; self.beta = beta; self.cShape = cShape
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        GemmStep(op: self, a: binding.address(a), b: binding.address(b), c: c.map { UnsafePointer(binding.address($0)) },
                 y: binding.address(output))
    }
}

final class GemmStep: ExecutionStep {
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>
    let m: Int, n: Int, k: Int
    let transposeA: Bool, transposeB: Bool
    let alpha: Float, beta: Float
    let cRowStride: Int, cColumnStride: Int
    let activation: Activation

    init(op: GemmOperation, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        self.a = UnsafePointer(a); self.b = UnsafePointer(b); self.c = c; self.y = y
        m = op.m; n = op.n; k = op.k
        transposeA = op.transposeA; transposeB = op.transposeB
        alpha = op.alpha; beta = op.beta
        activation = op.activation
        // Strides of C broadcast to M×N (0 along broadcast axes).
        let shape = op.cShape
        let rowsOfC = shape.count == 2 ? shape[0] : 1
        let columnsOfC = shape.last ?? 1
        cRowStride = rowsOfC == 1 ? 0 : columnsOfC
        cColumnStride = columnsOfC == 1 ? 0 : 1
    }

    func execute(_ pool: WorkerPool) {
        var beta: Float = 0
        if let c, self.beta != 0 {
            for i in 0..<m {
                let row = y + i * n
                let source = c + i * cRowStride
                for j in 0..<n { row[j] = self.beta * source[j * cColumnStride] }
            }
            beta = 1
        }
        if k == 0 {
            if beta == 0 { y.update(repeating: 0, count: m * n) }
        } else if m > 0 && n > 0 {
            BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                       a: a, lda: transposeA ? m : k, b: b, ldb: transposeB ? k : n, beta: beta, c: y, ldc: n)
        }
        if activation != .identity { activation.apply(y, m * n) }
    }
}

/// MatMul of two run-time tensors with NumPy batch broadcasting.
final class MatMulOperation: PlannedOperation {
    let label: NodeLabel
    let a: Int, b: Int, output: Int
    let m: Int, n: Int, k: Int
    /// Element offsets of each batch's A and B matrices.
    let aOffsets: [Int], bOffsets: [Int]

    var inputs: [Int] { [a, b] }
    var outputs: [Int] { [output] }
    var macs: Int { aOffsets.count * m * n * k }

    init(label: NodeLabel, a: Int, b: Int, output: Int, m: Int, n: Int, k: Int, aOffsets: [Int], bOffsets: [Int]) {
        self.label = label
        self.a = a; self.b = b; self.output = output
        self.m = m; self.n = n; self.k = k
        self.aOffsets = aOffsets; self.bOffsets = bOffsets
    }

    func makeStep(_ binding: StepBinding) -> any ExecutionStep {
        MatMulStep(op: self, a: binding.address(a), b: binding.address(b), y: binding.address(output))
    }
}

final class MatMulStep: ExecutionStep, ParallelWork {
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    let m: Int, n: Int, k: Int
    let aOffsets: [Int], bOffsets: [Int]

    init(op: MatMulOperation, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>) {
        self.a = UnsafePointer(a); self.b = UnsafePointer(b); self.y = y
        m = op.m; n = op.n; k = op.k
        aOffsets = op.aOffsets; bOffsets = op.bOffsets
    }

    func execute(_ pool: WorkerPool) { pool.parallelFor(aOffsets.count, self) }

    func perform(task batch: Int, worker: Int) {
        let out = y + batch * m * n
        if k == 0 {
            out.update(repeating: 0, count: m * n)
        } else if m > 0 && n > 0 {
            BLAS.sgemm(m: m, n: n, k: k, a: a + aOffsets[batch], lda: k, b: b + bOffsets[batch], ldb: n, c: out, ldc: n)
        }
    }
}
