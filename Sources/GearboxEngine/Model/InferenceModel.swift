// GearboxEngine/InferenceModel: the engine's public face. Load an ONNX model (file or bytes)
// with EngineOptions, inspect its inputs, outputs, MACs, parameters and memory, and run it —
// either with tensors in and out, or allocation-free on inputs written in place beforehand.

import Foundation

/// A name and a fixed shape of a model input or output.
public struct TensorDescription: Sendable, Hashable, Codable, CustomStringConvertible {
    public let name: String
    public let shape: [Int]
    public var elementCount: Int { Tensor.elementCount(shape) }
    public var description: String { "\(name) [\(shape.map(String.init).joined(separator: "x"))]" }
}

/// Counts describing a loaded model.
public struct ModelStatistics: Sendable, Codable {
    /// Multiply-accumulates per inference (Conv, Gemm, MatMul), after BatchNorm folding.
    public let macs: Int
    /// Float parameters stored in the model's initializers.
    public let parameters: Int
    /// Nodes in the ONNX graph, and how many of each operator.
    public let nodeCount: Int
    public let operatorCounts: [String: Int]
    /// Execution steps after fusion and folding.
    public let stepCount: Int
}

/// One weight layer of a loaded model and the matrix the loader built for it.
public struct WeightLayer: Sendable {
    public let description: WeightLayerDescription
    public let matrix: any WeightMatrix
}

/// A model loaded for inference.
///
/// ```swift
/// let model = try InferenceModel(contentsOf: "model.onnx", options: EngineOptions(threads: 2))
/// let outputs = try model.run(["input": Tensor.random(shape: model.inputs[0].shape, seed: 1)])
/// ```
///
/// For timing loops, write inputs once with `setInput` or `withInputBuffer(at:)`, then call
/// `run()`, which allocates nothing. Not thread-safe: run one inference at a time per model.
public final class InferenceModel {
    /// Run-time inputs, in model order (inputs bound as constants are excluded).
    public let inputs: [TensorDescription]
    /// Outputs, in model order.
    public let outputs: [TensorDescription]
    /// Counts for `gearbox onnx check` and the profiler.
    public let statistics: ModelStatistics
    /// Wall time spent loading: parsing, shape inference, fusion, weight conversion, planning, thread start.
    public let loadDuration: Duration
    /// Where the model came from (path or a caller-given label).
    public let source: String
    /// The options it was loaded with.
    public let options: EngineOptions
    /// The converted weight matrices of Conv/Gemm/MatMul layers, in execution order.
    public let weightLayers: [WeightLayer]
    /// How many Conv layers each kernel runs: "xnnpack", "packed" (Gearbox's micro-kernels),
    /// "im2col" (im2col + the layer's `WeightMatrix`: OpenBLAS or a pruned format), "depthwise"
    /// (Gearbox's NCHW kernel), "xnnpack-depthwise" (XNNPACK's, inside an NHWC run).
    public let convolutionKernels: [String: Int]
    /// Bytes of weights and other constants held for the steps: Gearbox's copies plus
    /// `libraryWeightBytes`.
    public let weightBytes: Int
    /// Of `weightBytes`, heap bytes of XNNPACK's own packed weight copies (Conv layers it runs),
    /// measured through a per-thread counting allocator around each operator's creation.
    /// Gearbox keeps its copy of those layers too (it writes `.gbpk` files and is the fallback
    /// if XNNPACK refuses a binding), so both are resident and both are counted.
    public let libraryWeightBytes: Int
    /// Heap bytes XNNPACK allocated when its operators were bound to the arena (indirection
    /// buffers of input pointers), measured like `libraryWeightBytes`; part of `arenaBytes`.
    public let libraryWorkspaceBytes: Int
    /// Shapes of the Conv layers XNNPACK runs (for tests that check the measured bytes).
    let xnnpackGeometries: [ConvGeometry]
    /// Layout conversion steps (NCHW ↔ NHWC) the plan runs per inference: one at each boundary
    /// of an NHWC run of XNNPACK layers (see `LayoutPlanner`).
    public let layoutConversionCount: Int
    /// Steps that read and write NHWC values (XNNPACK convolutions and what runs between them).
    public let nhwcStepCount: Int
    /// Errors from pinning helper threads (empty when pinning succeeded or was not requested).
    public let pinningErrors: [String]
    /// The packed variant file this model's weights are mapped from (nil for ONNX loads).
    public let packedFile: String?
    /// Bytes of weights read straight from the packed file's mapping (0 for ONNX loads). They
    /// are file-backed pages, resident only once touched, and shared with the page cache.
    public let mappedWeightBytes: Int
    /// A packed masked variant's mask switch (every masked layer shares it), else nil.
    public let maskSelection: MaskSelection?
    /// A packed masked variant's kept channel fraction per mask level, when recorded.
    public let maskFractions: [Double]?

    private let plan: ExecutionPlan
    /// The weight layers as compiled, for writing a packed file.
    let weightRecords: [WeightLayerRecord]

    /// Loads an ONNX model file, or a packed variant file (`.gbpk`, recognised by its magic):
    /// then the weights are mapped, not copied, and the format, block, fusion and input shapes
    /// are the file's (a different non-dense `options.weightFormat` is an error).
    public convenience init(contentsOf path: String, options: EngineOptions = EngineOptions()) throws {
        let start = ContinuousClock.now
        if PackedVariantFile.isPacked(path: path) {
            try self.init(packedFile: path, options: options, start: start)
            return
        }
        let graph = try ONNXImporter.graph(fromFile: path)
        try self.init(graph: graph, source: path, options: options, start: start)
    }

    private convenience init(packedFile path: String, options: EngineOptions, start: ContinuousClock.Instant) throws {
        let reader = try PackedVariantReader(path: path)
        let manifest = reader.manifest
        if options.weightFormat != "dense" && options.weightFormat != manifest.weightFormat {
            throw EngineError.packedFile(path: path, reason: "holds \(manifest.weightFormat) weights but \(options.weightFormat) was requested",
                                         fix: "request format \(manifest.weightFormat), or convert the ONNX model to \(options.weightFormat)")
        }
        var effective = options
        effective.weightFormat = manifest.weightFormat
        effective.fusesOperators = manifest.fusesOperators
        effective.inputShapes = manifest.inputShapes
        let graph = try reader.graph()
        let selection = try reader.maskSelection()
        let (layers, mapped) = try reader.layers(selection: selection)
        try self.init(graph: graph, source: path, options: effective, start: start,
                      packed: PackedLoad(layers: layers, mappedBytes: mapped, selection: selection, fractions: manifest.maskFractions))
    }

    /// What a packed file contributes to a load.
    struct PackedLoad {
        var layers: [WeightLayerRecord]
        var mappedBytes: Int
        var selection: MaskSelection?
        var fractions: [Double]?
    }

    /// Loads an ONNX model from its serialized bytes; `source` names it in errors.
    public convenience init(onnx data: Data, source: String = "<memory>", options: EngineOptions = EngineOptions()) throws {
        let start = ContinuousClock.now
        let graph = try ONNXImporter.graph(from: data, source: source)
        try self.init(graph: graph, source: source, options: options, start: start)
    }

    /// A model from an already imported graph (the conformance runner imports once, then binds inputs).
    package convenience init(graph: Graph, source: String, options: EngineOptions) throws {
        try self.init(graph: graph, source: source, options: options, start: .now)
    }

    init(graph: Graph, source: String, options: EngineOptions, start: ContinuousClock.Instant, packed: PackedLoad? = nil) throws {
        guard options.threads >= 1, options.threads <= 256 else {
            throw EngineError.invalidOption(name: "threads", reason: "\(options.threads) is outside 1…256")
        }
        BLAS.useSingleThread()
        let compiler = ModelCompiler(graph: graph, options: options, source: source)
        compiler.packedLayers = packed?.layers
        plan = try compiler.compile()
        packedFile = packed == nil ? nil : source
        mappedWeightBytes = packed?.mappedBytes ?? 0
        maskSelection = packed?.selection
        maskFractions = packed?.fractions
        let operations = compiler.flattenedOperations
        weightRecords = operations.compactMap { ($0 as? any WeightedOperation)?.record }
        self.source = source
        self.options = options
        inputs = plan.inputs.map { TensorDescription(name: $0.name, shape: $0.shape) }
        outputs = plan.outputs.map { TensorDescription(name: $0.name, shape: $0.shape) }
        var counts: [String: Int] = [:]
        for node in graph.nodes { counts[node.opType, default: 0] += 1 }
        statistics = ModelStatistics(macs: operations.reduce(0) { $0 + $1.macs }, parameters: compiler.parameterCount,
                                     nodeCount: graph.nodes.count, operatorCounts: counts, stepCount: plan.steps.count)
        weightLayers = operations.compactMap { $0 as? any WeightedOperation }.flatMap { op in
            op.weightMatrices.map { WeightLayer(description: $0.description, matrix: $0.matrix) }
        }
        convolutionKernels = operations.compactMap { ($0 as? ConvOperation)?.kernelName }.reduce(into: [:]) { $0[$1, default: 0] += 1 }
        let convolutions = operations.compactMap { $0 as? ConvOperation }
        let blocks = compiler.operations.compactMap { $0 as? InvertedResidualOperation }
        libraryWeightBytes = convolutions.reduce(0) { $0 + $1.libraryWeightBytes } + blocks.reduce(0) { $0 + $1.libraryWeightBytes }
        libraryWorkspaceBytes = convolutions.reduce(0) { $0 + $1.libraryWorkspaceBytes }
        xnnpackGeometries = convolutions.filter { $0.xnnpack != nil }.map(\.geometry)
        weightBytes = ModelCompiler.constantBytes(compiler) + libraryWeightBytes
        layoutConversionCount = compiler.layoutSummary.conversions
        nhwcStepCount = compiler.layoutSummary.nhwcOperations
        pinningErrors = plan.pool.pinningErrors
        loadDuration = ContinuousClock.now - start
    }

    /// Weights, constants, activations arena and scratch (XNNPACK's packed weights and
    /// indirection buffers included), in bytes. For a packed load, `mappedWeightBytes` of it are
    /// file-backed mapped pages rather than heap.
    public var residentBytes: Int { weightBytes + arenaBytes }
    /// Weight and constant bytes on the heap (`weightBytes` minus the mapped ones).
    public var heapWeightBytes: Int { max(0, weightBytes - mappedWeightBytes) }
    /// Activations arena plus per-worker and shared scratch (XNNPACK's NHWC transposition
    /// buffers are shared scratch) plus `libraryWorkspaceBytes`, in bytes.
    public var arenaBytes: Int { plan.arenaBytes + libraryWorkspaceBytes }
    /// Input shapes by name.
    public var inputShapes: [String: [Int]] { Dictionary(uniqueKeysWithValues: inputs.map { ($0.name, $0.shape) }) }
    /// Output shapes by name.
    public var outputShapes: [String: [Int]] { Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0.shape) }) }

    // MARK: Running

    /// Copies `inputs` in, runs once, and returns every output by name.
    /// - Throws: `EngineError.inputMismatch` for a missing, unknown or wrongly shaped input.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        for name in inputs.keys where !self.inputs.contains(where: { $0.name == name }) {
            throw EngineError.inputMismatch(name: name, reason: "the model has no such input (inputs: \(self.inputs.map(\.name).joined(separator: ", ")))")
        }
        for port in self.inputs {
            guard let tensor = inputs[port.name] else { throw EngineError.inputMismatch(name: port.name, reason: "missing; shape \(port.shape) expected") }
            try setInput(port.name, tensor)
        }
        run()
        var result: [String: Tensor] = [:]
        for port in plan.outputs {
            result[port.name] = Tensor(shape: port.shape, storage: AlignedBuffer(copying: UnsafeBufferPointer(start: port.address, count: port.count)))
        }
        return result
    }

    /// Runs once on the data already in the input buffers. Allocation-free.
    public func run() { plan.run() }

    /// Copies `tensor` into input `name`'s buffer (its element count must match; a shape that
    /// differs only by size-1 axes is accepted).
    public func setInput(_ name: String, _ tensor: Tensor) throws {
        let port = try inputPort(name)
        guard tensor.shape == port.shape || (tensor.count == port.count && tensor.shape.filter { $0 != 1 } == port.shape.filter { $0 != 1 }) else {
            throw EngineError.inputMismatch(name: name, reason: "shape \(tensor.shape) given, \(port.shape) expected")
        }
        tensor.withUnsafeBufferPointer { source in
            if let values = source.baseAddress { port.address.update(from: values, count: port.count) }  // nil: nothing to copy
        }
    }

    /// Write access to input `index`'s buffer, for filling inputs in place before `run()`.
    public func withInputBuffer<R>(at index: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let port = plan.inputs[index]
        return try body(UnsafeMutableBufferPointer(start: port.address, count: port.count))
    }

    /// Read access to output `index`'s buffer after `run()`; valid until the next run.
    public func withOutputBuffer<R>(at index: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let port = plan.outputs[index]
        return try body(UnsafeBufferPointer(start: port.address, count: port.count))
    }

    /// A copy of output `name` from the last run.
    public func output(named name: String) throws -> Tensor {
        guard let port = plan.outputs.first(where: { $0.name == name }) else {
            throw EngineError.inputMismatch(name: name, reason: "the model has no such output (outputs: \(outputs.map(\.name).joined(separator: ", ")))")
        }
        return Tensor(shape: port.shape, storage: AlignedBuffer(copying: UnsafeBufferPointer(start: port.address, count: port.count)))
    }

    var planLabels: [NodeLabel] { plan.labels }
    var planMACs: [Int] { plan.macs }
    var planKernels: [String?] { plan.kernels }
    func runTimed(into totals: UnsafeMutablePointer<Int>, clock: () -> UInt64) { plan.runTimed(into: totals, clock: clock) }

    /// Pins the calling thread as worker 0 with `options.pinning` (no-op without pinning).
    public func pinCallingThread() throws {
        try options.pinning?.pin(worker: 0, of: options.threads)
    }

    /// OpenBLAS's kernel set for this CPU (e.g. "Haswell"), for benchmark labels.
    public static var blasCoreName: String { BLAS.coreName }

    private func inputPort(_ name: String) throws -> ExecutionPlan.Port {
        guard let port = plan.inputs.first(where: { $0.name == name }) else {
            throw EngineError.inputMismatch(name: name, reason: "the model has no such input (inputs: \(inputs.map(\.name).joined(separator: ", ")))")
        }
        return port
    }
}

extension ModelCompiler {
    /// Bytes of weight matrices (in their format) and of every float constant the steps read.
    static func constantBytes(_ compiler: ModelCompiler) -> Int {
        var bytes = 0
        var counted = Set<Int>()
        for op in compiler.flattenedOperations {
            if let weighted = op as? any WeightedOperation {
                bytes += weighted.weightMatrices.reduce(0) { $0 + $1.matrix.storedBytes }
            }
            if let conv = op as? ConvOperation {
                if conv.geometry.isDepthwise { bytes += conv.weights.count * 4 }
                bytes += (conv.bias?.count ?? 0) * 4
            }
            if let linear = op as? LinearOperation {
                switch linear.bias {
                case .none: break
                case let .perFeature(b): bytes += b.count * 4
                case let .full(t): bytes += t.count * 4
                }
            }
            for id in op.inputs {
                let root = compiler.root(id)
                if compiler.values[root].constant != nil, counted.insert(root).inserted { bytes += compiler.values[root].count * 4 }
            }
        }
        return bytes
    }
}
