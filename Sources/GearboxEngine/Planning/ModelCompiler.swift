// GearboxEngine/ModelCompiler: turns a Graph into an ExecutionPlan. Resolves input shapes,
// lowers every node (shape inference + parameter checks, one-line errors naming the node),
// folds constants, fuses BatchNorm/activations/residual Adds into Conv and Gemm, converts
// weights to the requested format, plans layouts (NHWC runs), plans the arena and builds the steps.

/// A value in the compiled graph.
struct CompiledValue {
    var name: String
    var shape: [Int]
    var type: ElementType
    /// Known at load (initializer, Constant node, bound input or folded result).
    var constant: ConstantTensor?
    var isGraphInput: Bool
    var count: Int { Tensor.elementCount(shape) }
}

final class ModelCompiler {
    let graph: Graph
    let options: EngineOptions
    let source: String
    var values: [CompiledValue] = []
    var ids: [String: Int] = [:]
    var operations: [any PlannedOperation] = []
    /// Output value → input value for view-only operators (Reshape, Flatten, Identity…).
    var aliasOf: [Int: Int] = [:]
    var graphInputIDs: [Int] = []
    var graphOutputIDs: [Int] = []
    /// Parameters read from initializers (for statistics), by value name.
    var parameterCount: Int = 0
    /// Set when loading a packed file: the weight layers in kernel layout, in execution order.
    /// The compiler then adopts them instead of folding and converting weights (whose
    /// initializers are shape-only placeholders).
    var packedLayers: [WeightLayerRecord]?
    /// What layout planning decided (set by `compile`).
    var layoutSummary = LayoutPlanSummary()

    init(graph: Graph, options: EngineOptions, source: String) {
        self.graph = graph
        self.options = options
        self.source = source
    }

    // MARK: Values

    func define(_ name: String, shape: [Int], type: ElementType = .float, constant: ConstantTensor? = nil, isGraphInput: Bool = false) -> Int {
        let id = values.count
        values.append(CompiledValue(name: name, shape: shape, type: type, constant: constant, isGraphInput: isGraphInput))
        if !name.isEmpty { ids[name] = id }
        return id
    }

    func root(_ id: Int) -> Int {
        var v = id
        while let next = aliasOf[v] { v = next }
        return v
    }

    // MARK: Compile

    func compile() throws -> ExecutionPlan {
        try defineInputsAndInitializers()
        for node in graph.nodes { try lower(node) }
        for output in graph.outputs {
            guard let id = ids[output.name] else {
                throw EngineError.invalidModel(source: source, reason: "graph output '\(output.name)' is not produced by any node")
            }
            guard values[id].type == .float else {
                throw EngineError.unsupportedNode(node: "graph output '\(output.name)'", op: "Output", reason: "element type \(values[id].type); outputs must be float32")
            }
            graphOutputIDs.append(id)
        }
        materializeConstantOutputs()
        if options.fusesOperators { GraphFusion(compiler: self).run() }
        try prepareWeights()
        layoutSummary = LayoutPlanner(compiler: self).run()
        if options.bandsInvertedResiduals { InvertedResidualFusion(compiler: self).run() }
        return try MemoryPlanner(compiler: self).makePlan()
    }

    private func defineInputsAndInitializers() throws {
        for (name, tensor) in graph.initializers {
            _ = define(name, shape: tensor.shape, type: tensor.elementType, constant: tensor)
            if case .float = tensor { parameterCount += Tensor.elementCount(tensor.shape) }
        }
        for input in graph.inputs {
            if let bound = options.boundInputs[input.name] {
                _ = define(input.name, shape: bound.shape, type: bound.elementType, constant: bound)
                continue
            }
            let shape = try resolveShape(of: input)
            guard input.elementType == .float || input.elementType == .undefined else {
                throw EngineError.unsupportedNode(node: "graph input '\(input.name)'", op: "Input",
                                                  reason: "element type \(input.elementType); runtime inputs must be float32 (bind integer inputs as constants)")
            }
            graphInputIDs.append(define(input.name, shape: shape, isGraphInput: true))
        }
        for name in options.boundInputs.keys where !graph.inputs.contains(where: { $0.name == name }) {
            throw EngineError.inputMismatch(name: name, reason: "bound as a constant but the model has no such input (inputs: \(graph.inputs.map(\.name).joined(separator: ", ")))")
        }
        for name in options.inputShapes.keys where !graph.inputs.contains(where: { $0.name == name }) {
            throw EngineError.inputMismatch(name: name, reason: "shape given but the model has no such input (inputs: \(graph.inputs.map(\.name).joined(separator: ", ")))")
        }
    }

    private func resolveShape(of input: GraphValue) throws -> [Int] {
        if let given = options.inputShapes[input.name] {
            guard given.allSatisfy({ $0 >= 0 }) else {
                throw EngineError.inputMismatch(name: input.name, reason: "shape \(given) has a negative dimension")
            }
            guard EngineBudget.elementCount(given) != nil else {
                throw EngineError.inputMismatch(
                    name: input.name, reason: "shape \(given) has more than \(EngineBudget.maximumInputElements) elements (the engine's input budget, EngineBudget.maximumInputElements)")
            }
            if let dims = input.dimensions {
                guard dims.count == given.count else {
                    throw EngineError.inputMismatch(name: input.name, reason: "shape \(given) has rank \(given.count) but the model declares rank \(dims.count)")
                }
                for (d, g) in zip(dims, given) {
                    if case let .fixed(v) = d, v != g {
                        throw EngineError.inputMismatch(name: input.name, reason: "shape \(given) conflicts with the declared shape \(describe(dims))")
                    }
                }
            }
            return given
        }
        guard let dims = input.dimensions else {
            throw EngineError.unresolvedShape(value: input.name, reason: "the model declares no shape for this input")
        }
        var shape: [Int] = []
        for d in dims {
            guard case let .fixed(v) = d else {
                throw EngineError.unresolvedShape(value: input.name, reason: "declared shape \(describe(dims)) has a symbolic or unknown dimension")
            }
            shape.append(v)
        }
        guard EngineBudget.elementCount(shape) != nil else {
            throw EngineError.unresolvedShape(
                value: input.name, reason: "declared shape \(shape) has more than \(EngineBudget.maximumInputElements) elements (the engine's input budget)")
        }
        return shape
    }

    private func describe(_ dims: [DeclaredDimension]) -> String {
        "[" + dims.map { d -> String in
            switch d {
            case let .fixed(v): return "\(v)"
            case let .symbolic(s): return s
            case .unknown: return "?"
            }
        }.joined(separator: ", ") + "]"
    }

    private func lower(_ node: GraphNode) throws {
        let label = NodeLabel(name: node.displayName, opType: node.opType)
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw EngineError.unsupportedNode(node: label.name, op: node.opType, reason: "operator domain '\(node.domain)' (only ai.onnx is implemented)")
        }
        guard let lowering = OperatorCatalog.lowerings[node.opType] else {
            throw EngineError.unsupportedNode(node: label.name, op: node.opType, reason: "operator not implemented (supported: \(OperatorCatalog.supportedOperators.joined(separator: ", ")))")
        }
        for (i, name) in node.inputs.enumerated() where !name.isEmpty && ids[name] == nil {
            throw EngineError.invalidNode(node: label.name, op: node.opType, reason: "input \(i) '\(name)' is not defined before this node (graph not topologically sorted, or a missing initializer)")
        }
        let context = NodeContext(node: node, label: label, compiler: self)
        try lowering(context)
        for name in node.outputs where !name.isEmpty && ids[name] == nil {
            throw EngineError.invalidNode(node: label.name, op: node.opType, reason: "output '\(name)' was not produced")
        }
    }

    /// Graph outputs that are constants (or views of one) get a copy step so every output has run-time storage.
    private func materializeConstantOutputs() {
        for (i, id) in graphOutputIDs.enumerated() where values[root(id)].constant != nil {
            let constantID = root(id)
            let fresh = define("", shape: values[id].shape)
            values[fresh].name = values[id].name
            operations.append(CopyOperation(label: NodeLabel(name: values[id].name, opType: "Output"), input: constantID, output: fresh, count: values[fresh].count))
            graphOutputIDs[i] = fresh
        }
    }

    private func prepareWeights() throws {
        if let packedLayers {
            let layers = operations.compactMap { $0 as? any WeightedOperation }
            guard layers.count == packedLayers.count else {
                throw EngineError.packedFile(path: source, reason: "the graph has \(layers.count) weight layers but the file stores \(packedLayers.count)",
                                             fix: PackedVariantFile.recreateHint)
            }
            for (layer, record) in zip(layers, packedLayers) { try layer.adopt(record, source: source) }
            return
        }
        let format = options.weightFormat
        let factory = options.weightFormats.factory(named: format)
        if format != "dense" && factory == nil {
            throw EngineError.weightFormat(format: format, reason: "unknown format (available: \(options.weightFormats.formatNames.joined(separator: ", ")))")
        }
        var layerIndex = 0
        for case let conv as ConvOperation in operations {
            conv.kernelChoice = options.denseConvolutionKernel
            conv.allowsWinograd = options.winogradConvolutions
        }
        for op in operations {
            guard let layer = op as? WeightedOperation else { continue }
            try layer.prepareWeights(factory: factory, block: options.weightBlock, layerIndex: &layerIndex)
        }
    }
}

/// Operations that carry a weight matrix the loader may convert to another format.
protocol WeightedOperation: PlannedOperation {
    func prepareWeights(factory: (any WeightFormatFactory)?, block: WeightBlockShape?, layerIndex: inout Int) throws
    /// The layer's weight matrices, after `prepareWeights`.
    var weightMatrices: [(description: WeightLayerDescription, matrix: any WeightMatrix)] { get }
    /// What a packed file stores for this layer (after folding and conversion).
    var record: WeightLayerRecord { get }
    /// Takes matrices, bias and direct weights from a packed file instead of converting.
    func adopt(_ record: WeightLayerRecord, source: String) throws
}

/// One weight layer in kernel layout: what a packed file stores and what a packed load adopts.
struct WeightLayerRecord {
    var node: String
    var op: String
    var descriptions: [WeightLayerDescription]
    var matrices: [any WeightMatrix]
    /// Conv: folded per-channel bias.
    var convBias: [Float]?
    /// Gemm/MatMul bias.
    var linearBias: LinearOperation.Bias = .none
    /// Depthwise Conv: folded [M, 1, kH, kW] weights for the direct kernel.
    var depthwiseWeights: Tensor?

    /// The error for a record that does not fit the layer it is adopted by.
    static func mismatch(_ source: String, _ node: String, _ reason: String) -> EngineError {
        .packedFile(path: source, reason: "layer \(node): \(reason)", fix: PackedVariantFile.recreateHint)
    }
}

extension WeightedOperation {
    /// Runs the factory, checking the result keeps the dense shape.
    func convert(_ dense: DenseWeightMatrix, factory: (any WeightFormatFactory)?, block: WeightBlockShape?,
                 layer: WeightLayerDescription) throws -> any WeightMatrix {
        guard let factory else { return dense }
        let converted: any WeightMatrix
        do { converted = try factory.makeWeightMatrix(from: dense, layer: layer, block: block) } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError.weightFormat(format: factory.formatName, reason: "node \(layer.nodeName): \(error)")
        }
        guard converted.rows == dense.rows, converted.columns == dense.columns else {
            throw EngineError.weightFormat(format: factory.formatName, reason: "node \(layer.nodeName): factory returned a \(converted.rows)x\(converted.columns) matrix for \(dense.rows)x\(dense.columns) weights")
        }
        return converted
    }
}
