// GearboxEngine/NodeContext: what an operator's lowering sees of its node — typed attribute
// accessors with defaults, inputs with their shapes and constant values, helpers to define
// outputs — and the one-line errors that name the node and operator.

struct NodeContext {
    let node: GraphNode
    let label: NodeLabel
    let compiler: ModelCompiler

    var opset: Int { compiler.graph.opsetVersion }

    // MARK: Errors

    func invalid(_ reason: String) -> EngineError { .invalidNode(node: label.name, op: label.opType, reason: reason) }
    func unsupported(_ reason: String) -> EngineError { .unsupportedNode(node: label.name, op: label.opType, reason: reason) }

    // MARK: Attributes

    /// Rejects attributes outside `known`, so that an unimplemented option never silently changes results.
    func allowAttributes(_ known: Set<String>) throws {
        for name in node.attributes.keys.sorted() where !known.contains(name) {
            throw unsupported("attribute '\(name)'")
        }
        for (name, value) in node.attributes {
            if case let .unsupported(kind) = value { throw unsupported("attribute '\(name)' of kind \(kind)") }
        }
    }

    func has(_ name: String) -> Bool { node.attributes[name] != nil }

    func int(_ name: String, default value: Int) throws -> Int {
        guard let attribute = node.attributes[name] else { return value }
        switch attribute {
        case let .int(v): return v
        case let .ints(v) where v.count == 1: return v[0]
        default: throw invalid("attribute '\(name)' should be an int")
        }
    }

    func float(_ name: String, default value: Float) throws -> Float {
        guard let attribute = node.attributes[name] else { return value }
        switch attribute {
        case let .float(v): return v
        case let .int(v): return Float(v)
        default: throw invalid("attribute '\(name)' should be a float")
        }
    }

    func string(_ name: String, default value: String) throws -> String {
        guard let attribute = node.attributes[name] else { return value }
        guard case let .string(v) = attribute else { throw invalid("attribute '\(name)' should be a string") }
        return v
    }

    func ints(_ name: String) throws -> [Int]? {
        guard let attribute = node.attributes[name] else { return nil }
        switch attribute {
        case let .ints(v): return v
        case let .int(v): return [v]
        default: throw invalid("attribute '\(name)' should be a list of ints")
        }
    }

    func floats(_ name: String) throws -> [Float]? {
        guard let attribute = node.attributes[name] else { return nil }
        switch attribute {
        case let .floats(v): return v
        case let .float(v): return [v]
        default: throw invalid("attribute '\(name)' should be a list of floats")
        }
    }

    // MARK: Inputs

    var inputCount: Int { node.inputs.count }

    /// The value id of input `index`, nil when omitted ("" or beyond the list).
    func optionalInput(_ index: Int) -> Int? {
        guard index < node.inputs.count, !node.inputs[index].isEmpty else { return nil }
        return compiler.ids[node.inputs[index]]
    }

    func input(_ index: Int, _ what: String) throws -> Int {
        guard let id = optionalInput(index) else { throw invalid("missing required input \(index) (\(what))") }
        return id
    }

    /// A float32 data input.
    func floatInput(_ index: Int, _ what: String) throws -> Int {
        let id = try input(index, what)
        let type = compiler.values[id].type
        guard type == .float else { throw unsupported("input \(index) (\(what)) has element type \(type); the engine computes in float32") }
        return id
    }

    func shape(_ id: Int) -> [Int] { compiler.values[id].shape }
    func constant(_ id: Int) -> ConstantTensor? { compiler.values[compiler.root(id)].constant.map { c in
        // A view of a constant has the view's shape.
        let shape = compiler.values[id].shape
        switch c {
        case let .float(t): return .float(t.reshaped(to: shape))
        case let .integer(_, values, type): return .integer(shape: shape, values: values, type: type)
        }
    } }

    /// Input `index` as a constant known at load (parameters such as shapes, pads, bounds, weights).
    func constantInput(_ index: Int, _ what: String) throws -> ConstantTensor {
        let id = try input(index, what)
        guard let value = constant(id) else {
            let name = node.inputs[index]
            let hint = compiler.values[id].isGraphInput ? "; bind graph input '\(name)' as a constant at load" : ""
            throw unsupported("input \(index) (\(what)) '\(name)' must be known at load (a constant), but is computed at run time\(hint)")
        }
        return value
    }

    func floatConstantInput(_ index: Int, _ what: String) throws -> Tensor {
        let value = try constantInput(index, what)
        guard case let .float(t) = value else { throw unsupported("input \(index) (\(what)) has element type \(value.elementType), expected float32") }
        return t
    }

    // MARK: Outputs

    func outputName(_ index: Int) throws -> String {
        guard index < node.outputs.count, !node.outputs[index].isEmpty else { throw invalid("missing output \(index)") }
        return node.outputs[index]
    }

    /// Rejects optional outputs the engine does not produce.
    func allowOutputs(_ count: Int, _ why: String = "") throws {
        for (i, name) in node.outputs.enumerated() where i >= count && !name.isEmpty {
            throw unsupported("output \(i) '\(name)'\(why.isEmpty ? "" : " (\(why))")")
        }
    }

    @discardableResult
    func defineOutput(_ index: Int, shape: [Int]) throws -> Int {
        let count = try checkedCount(shape)
        _ = count
        return compiler.define(try outputName(index), shape: shape)
    }

    func defineConstantOutput(_ index: Int, _ value: ConstantTensor) throws {
        _ = compiler.define(try outputName(index), shape: value.shape, type: value.elementType, constant: value)
    }

    /// Output `index` is a view of `input` with a new shape (no copy, no step).
    func defineAlias(_ index: Int, of input: Int, shape: [Int]) throws {
        guard Tensor.elementCount(shape) == compiler.values[input].count else {
            throw invalid("cannot view \(compiler.values[input].shape) as \(shape)")
        }
        if let value = constant(input) {
            switch value {
            case let .float(t): try defineConstantOutput(index, .float(t.reshaped(to: shape)))
            case let .integer(_, values, type): try defineConstantOutput(index, .integer(shape: shape, values: values, type: type))
            }
            return
        }
        let id = compiler.define(try outputName(index), shape: shape, type: compiler.values[input].type)
        compiler.aliasOf[id] = input
    }

    func checkedCount(_ shape: [Int]) throws -> Int {
        var count = 1
        for d in shape {
            guard d >= 0 else { throw invalid("computed a negative dimension in shape \(shape)") }
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= maximumTensorElements else { throw invalid("output shape \(shape) is too large") }
            count = p
        }
        return count
    }

    /// Adds an operation; folds it at load when all its inputs are constants.
    func add(_ operation: any PlannedOperation) throws {
        if operation.inputs.allSatisfy({ compiler.values[compiler.root($0)].constant != nil }) {
            try ConstantFolder.fold(operation, in: compiler)
        } else {
            compiler.operations.append(operation)
        }
    }

    /// Normalises a possibly negative axis for a tensor of `rank` (valid range −rank…rank−1).
    func axis(_ value: Int, rank: Int, what: String = "axis") throws -> Int {
        let a = value < 0 ? value + rank : value
        guard a >= 0, a < max(rank, 1) else { throw invalid("\(what) \(value) is out of range for rank \(rank)") }
        return a
    }
}

/// Runs an operation whose inputs are all constants once at load and records its outputs as constants.
enum ConstantFolder {
    static func fold(_ operation: any PlannedOperation, in compiler: ModelCompiler) throws {
        var outputBuffers: [Int: AlignedBuffer] = [:]
        for id in operation.outputs { outputBuffers[id] = AlignedBuffer(count: compiler.values[id].count) }
        let scratch = AlignedBuffer(count: operation.scratchFloatsPerWorker + operation.sharedScratchFloats)
        let binding = StepBinding(address: { id in
            if let buffer = outputBuffers[id] { return buffer.baseAddress }
            return ConstantFolder.address(ofConstant: compiler.root(id), in: compiler)
        }, scratch: scratch.baseAddress, scratchStride: operation.scratchFloatsPerWorker,
           sharedScratch: scratch.baseAddress + operation.scratchFloatsPerWorker)
        let step = try operation.makeStep(binding)
        step.execute(WorkerPool(workerCount: 1, pinning: nil))
        for id in operation.outputs {
            if let buffer = outputBuffers[id] {
                compiler.values[id].constant = .float(Tensor(shape: compiler.values[id].shape, storage: buffer))
            }
        }
        withExtendedLifetime(scratch) {}
    }

    /// Constant storage for `id`; integer constants are never read by float kernels.
    static func address(ofConstant id: Int, in compiler: ModelCompiler) -> UnsafeMutablePointer<Float> {
        if case let .float(t)? = compiler.values[id].constant { return t.sharedStorage.baseAddress }
        preconditionFailure("integer constant '\(compiler.values[id].name)' bound to a float kernel")
    }
}
