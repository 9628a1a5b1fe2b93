// GearboxBenchmarks/XNNPACKSubgraph: an all-dense ONNX graph as one XNNPACK subgraph (NHWC),
// run as an XNNPACK runtime on a pthreadpool. It exists only to measure XNNPACK's subgraph API
// against Gearbox's engine, which drives XNNPACK's operator API on its own pinned worker pool;
// the engine never uses it.
//
// Translated: Conv (dense, grouped, depthwise, 1×1) with a BatchNormalization after it folded
// into its weights, Relu, Clip, Add (same shapes), MaxPool, GlobalAveragePool, Flatten/Reshape
// of a 1×1 image and Gemm. Relu/Clip become Clamp nodes, which XNNPACK's own subgraph
// optimiser fuses into the Conv or Add before them, as it would for any subgraph user.

import CXNNPACK
import Foundation
import GearboxCore
import GearboxEngine

public enum XNNPACKSubgraphError: Error, CustomStringConvertible, Equatable {
    /// XNNPACK refused to initialise on this CPU.
    case unavailable
    /// The graph holds something the translation does not cover.
    case unsupported(node: String, reason: String)
    /// A weight, bias or parameter input that must be an initializer is not one.
    case missingConstant(node: String, name: String)
    /// A node reads a value no earlier node or graph input produced.
    case unknownValue(node: String, name: String)
    /// An XNNPACK call returned a status other than success.
    case xnnpackFailed(call: String, status: Int)
    case threadPoolUnavailable(threads: Int)
    /// The subgraph's output differs from the engine's beyond the benchmark tolerance.
    case outputMismatch(model: String, threads: Int, index: Int, subgraph: Float, engine: Float, maxAbsoluteDifference: Float)

    public var description: String {
        switch self {
        case .unavailable: return "XNNPACK did not initialise on this CPU"
        case let .unsupported(node, reason): return "node \(node): \(reason)"
        case let .missingConstant(node, name): return "node \(node): input '\(name)' must be an initializer"
        case let .unknownValue(node, name): return "node \(node): value '\(name)' is not produced before it"
        case let .xnnpackFailed(call, status): return "\(call) failed with xnn_status \(status)"
        case let .threadPoolUnavailable(threads): return "pthreadpool_create(\(threads)) failed"
        case let .outputMismatch(model, threads, index, subgraph, engine, maxDifference):
            return "\(model) (\(threads) threads): XNNPACK subgraph output[\(index)] = \(subgraph), Gearbox engine \(engine) "
                + "(max |diff| \(maxDifference); tolerance rtol \(EngineBenchmark.outputTolerance.relative), atol \(EngineBenchmark.outputTolerance.absolute))"
        }
    }
}

/// Floats at a fixed address for as long as the owner lives: XNNPACK keeps pointers to static
/// tensor data and to external inputs/outputs, which Swift arrays do not promise.
final class PinnedFloats {
    let address: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        // At least one element, so that even an empty tensor has an address.
        address = .allocate(capacity: max(count, 1))
        address.initialize(repeating: 0, count: max(count, 1))
    }

    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        address.update(from: values, count: values.count)
    }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: address, count: count) }

    deinit { address.deallocate() }
}

/// One node of the translated subgraph. Value operands index `XNNPACKSubgraphPlan.values`.
enum SubgraphLayer {
    struct Convolution {
        var input: Int, output: Int
        var padding: (top: Int, right: Int, bottom: Int, left: Int)
        var kernel: (height: Int, width: Int)
        var stride: (height: Int, width: Int)
        var dilation: (height: Int, width: Int)
        var groups: Int, groupInputChannels: Int, groupOutputChannels: Int
        /// Depthwise layers use XNNPACK's depthwise node: filter [1, kH, kW, M]; others OHWI [M, kH, kW, C/groups].
        var isDepthwise: Bool
        var filter: PinnedFloats, filterDims: [Int]
        var bias: PinnedFloats
    }

    struct Pooling {
        var input: Int, output: Int
        var padding: (top: Int, right: Int, bottom: Int, left: Int)
        var kernel: (height: Int, width: Int)
        var stride: (height: Int, width: Int)
        var dilation: (height: Int, width: Int)
    }

    case convolution(Convolution)
    case clamp(input: Int, output: Int, min: Float, max: Float)
    case add(Int, Int, output: Int)
    case maxPool(Pooling)
    case globalAveragePool(input: Int, output: Int)
    /// Filter [outputs, inputs]; the input may be an [N, 1, 1, C] image (flattened by XNNPACK).
    case fullyConnected(input: Int, output: Int, filter: PinnedFloats, filterDims: [Int], bias: PinnedFloats?)
}

/// The translation of one ONNX graph: values (NHWC dims for images, [N, C] for flat ones), nodes
/// in order, and the weights in XNNPACK's layouts (BatchNorm folded), owned here so that they
/// outlive every runtime created from the plan.
public final class XNNPACKSubgraphPlan {
    let values: [[Int]]
    let layers: [SubgraphLayer]
    let inputValue: Int, outputValue: Int
    /// The graph input's ONNX (NCHW) shape.
    public let inputShape: [Int]
    /// The graph output's ONNX shape (NCHW for an image).
    public let outputShape: [Int]

    /// Translates the ONNX model in `data` (one float input, one output).
    public convenience init(onnx data: Data, source: String = "<memory>") throws {
        try self.init(graph: ONNXImporter.graph(from: data, source: source))
    }

    public convenience init(contentsOf path: String) throws {
        try self.init(graph: ONNXImporter.graph(fromFile: path))
    }

    package init(graph: Graph) throws {
        var translator = SubgraphTranslator(graph: graph)
        try translator.translate()
        values = translator.values
        layers = translator.layers
        inputValue = translator.inputValue
        outputValue = translator.outputValue
        inputShape = translator.inputShape
        outputShape = translator.outputShape
    }

    /// How many values and nodes the subgraph has (for reports).
    public var nodeCount: Int { layers.count }
}

/// Walks the graph once, in node order, building values and layers.
private struct SubgraphTranslator {
    let graph: Graph
    var values: [[Int]] = []
    var layers: [SubgraphLayer] = []
    var inputValue = 0, outputValue = 0
    var inputShape: [Int] = [], outputShape: [Int] = []
    /// ONNX value name → index into `values` (Flatten/Reshape of a 1×1 image alias their input).
    var names: [String: Int] = [:]

    init(graph: Graph) { self.graph = graph }

    mutating func translate() throws {
        guard graph.inputs.count == 1, graph.outputs.count == 1, let input = graph.inputs.first, let output = graph.outputs.first else {
            throw XNNPACKSubgraphError.unsupported(node: "<graph>", reason: "needs exactly one input and one output")
        }
        var shape: [Int] = []
        for dimension in input.dimensions ?? [] {
            guard case let .fixed(size) = dimension else {
                throw XNNPACKSubgraphError.unsupported(node: "<graph>", reason: "input '\(input.name)' has a symbolic dimension")
            }
            shape.append(size)
        }
        guard shape.count == 4 else {
            throw XNNPACKSubgraphError.unsupported(node: "<graph>", reason: "input '\(input.name)' is not an NCHW image (shape \(shape))")
        }
        inputShape = shape
        inputValue = newValue(input.name, dims: [shape[0], shape[2], shape[3], shape[1]])

        var consumers: [String: [Int]] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for name in node.inputs where !name.isEmpty { consumers[name, default: []].append(index) }
        }
        var folded = Set<Int>()
        for (index, node) in graph.nodes.enumerated() where !folded.contains(index) {
            switch node.opType {
            case "Conv":
                // A BatchNormalization that is the Conv's only reader folds into its weights.
                var batchNorm: GraphNode? = nil
                if let readers = consumers[node.outputs[0]], readers.count == 1, graph.nodes[readers[0]].opType == "BatchNormalization",
                   graph.nodes[readers[0]].inputs.first == node.outputs[0], node.outputs[0] != output.name {
                    batchNorm = graph.nodes[readers[0]]
                    folded.insert(readers[0])
                }
                try convolution(node, batchNorm: batchNorm)
            case "Relu":
                try clamp(node, min: 0, max: .infinity)
            case "Clip":
                try clamp(node, min: try clipBound(node, input: 1, attribute: "min") ?? -.infinity,
                          max: try clipBound(node, input: 2, attribute: "max") ?? .infinity)
            case "Add":
                let a = try value(node, 0), b = try value(node, 1)
                guard values[a] == values[b] else {
                    throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "Add with broadcasting (\(values[a]) + \(values[b]))")
                }
                layers.append(.add(a, b, output: newValue(node.outputs[0], dims: values[a])))
            case "MaxPool":
                try maxPool(node)
            case "GlobalAveragePool":
                let x = try image(node, 0)
                let dims = values[x]
                layers.append(.globalAveragePool(input: x, output: newValue(node.outputs[0], dims: [dims[0], 1, 1, dims[3]])))
            case "Flatten", "Reshape":
                try flatten(node)
            case "Gemm":
                try gemm(node)
            default:
                throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "no XNNPACK subgraph translation for \(node.opType)")
            }
        }
        guard let last = names[output.name] else {
            throw XNNPACKSubgraphError.unknownValue(node: "<graph>", name: output.name)
        }
        // The output must be a value a node writes (XNNPACK has no external value that is also an input).
        guard last != inputValue else {
            throw XNNPACKSubgraphError.unsupported(node: "<graph>", reason: "the output is the input")
        }
        outputValue = last
        let dims = values[last]
        outputShape = dims.count == 4 ? [dims[0], dims[3], dims[1], dims[2]] : dims
    }

    // MARK: Values

    mutating func newValue(_ name: String, dims: [Int]) -> Int {
        values.append(dims)
        names[name] = values.count - 1
        return values.count - 1
    }

    func value(_ node: GraphNode, _ slot: Int) throws -> Int {
        guard slot < node.inputs.count, let index = names[node.inputs[slot]] else {
            throw XNNPACKSubgraphError.unknownValue(node: node.displayName, name: slot < node.inputs.count ? node.inputs[slot] : "#\(slot)")
        }
        return index
    }

    func image(_ node: GraphNode, _ slot: Int) throws -> Int {
        let index = try value(node, slot)
        guard values[index].count == 4 else {
            throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "input is not an image (shape \(values[index]))")
        }
        return index
    }

    func constant(_ node: GraphNode, _ slot: Int) throws -> ConstantTensor {
        guard slot < node.inputs.count, let tensor = graph.initializers[node.inputs[slot]] else {
            throw XNNPACKSubgraphError.missingConstant(node: node.displayName, name: slot < node.inputs.count ? node.inputs[slot] : "#\(slot)")
        }
        return tensor
    }

    func ints(_ node: GraphNode, _ name: String, default fallback: [Int]) -> [Int] {
        if case let .ints(values)? = node.attributes[name] { return values }
        return fallback
    }

    func int(_ node: GraphNode, _ name: String, default fallback: Int) -> Int {
        if case let .int(value)? = node.attributes[name] { return value }
        return fallback
    }

    func float(_ node: GraphNode, _ name: String, default fallback: Float) -> Float {
        if case let .float(value)? = node.attributes[name] { return value }
        return fallback
    }

    func requireNoAutoPad(_ node: GraphNode) throws {
        if case let .string(mode)? = node.attributes["auto_pad"], mode != "NOTSET" {
            throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "auto_pad \(mode)")
        }
    }

    // MARK: Nodes

    mutating func convolution(_ node: GraphNode, batchNorm: GraphNode?) throws {
        try requireNoAutoPad(node)
        let x = try image(node, 0)
        let weights = try constant(node, 1)
        let w = weights.floatValues, wShape = weights.shape
        guard wShape.count == 4 else { throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "weights of shape \(wShape)") }
        let (m, groupInput, kh, kw) = (wShape[0], wShape[1], wShape[2], wShape[3])
        let dims = values[x], channels = dims[3]
        let groups = int(node, "group", default: 1)
        guard groups >= 1, channels == groupInput * groups, m % groups == 0 else {
            throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "\(channels) input channels, weights \(wShape), \(groups) groups")
        }
        let strides = ints(node, "strides", default: [1, 1]), dilations = ints(node, "dilations", default: [1, 1])
        let pads = ints(node, "pads", default: [0, 0, 0, 0])
        guard strides.count == 2, dilations.count == 2, pads.count == 4 else {
            throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "not a 2-D convolution")
        }
        // Per-output-channel scale and shift: the BatchNorm folded in, or identity.
        var scale = [Float](repeating: 1, count: m)
        var bias = node.inputs.count > 2 && !node.inputs[2].isEmpty ? try constant(node, 2).floatValues : [Float](repeating: 0, count: m)
        if let bn = batchNorm {
            let gamma = try constant(bn, 1).floatValues, beta = try constant(bn, 2).floatValues
            let mean = try constant(bn, 3).floatValues, variance = try constant(bn, 4).floatValues
            let epsilon = float(bn, "epsilon", default: 1e-5)
            guard [gamma.count, beta.count, mean.count, variance.count].allSatisfy({ $0 == m }) else {
                throw XNNPACKSubgraphError.unsupported(node: bn.displayName, reason: "parameters are not per channel of \(m)")
            }
            for o in 0..<m {
                scale[o] = gamma[o] / (variance[o] + epsilon).squareRoot()
                bias[o] = (bias[o] - mean[o]) * scale[o] + beta[o]
            }
        }
        let isDepthwise = groups == channels && groupInput == 1
        var filter = [Float](repeating: 0, count: w.count)
        if isDepthwise {
            // ONNX [M][1][kH][kW] → XNNPACK [1][kH][kW][M].
            for o in 0..<m { for h in 0..<kh { for c in 0..<kw { filter[(h * kw + c) * m + o] = w[(o * kh + h) * kw + c] * scale[o] } } }
        } else {
            // ONNX OIHW → XNNPACK OHWI (per group, the same transpose).
            for o in 0..<m { for i in 0..<groupInput { for h in 0..<kh { for c in 0..<kw {
                filter[((o * kh + h) * kw + c) * groupInput + i] = w[((o * groupInput + i) * kh + h) * kw + c] * scale[o]
            } } } }
        }
        let padding = (top: pads[0], right: pads[3], bottom: pads[2], left: pads[1])
        let outHeight = (dims[1] + padding.top + padding.bottom - ((kh - 1) * dilations[0] + 1)) / strides[0] + 1
        let outWidth = (dims[2] + padding.left + padding.right - ((kw - 1) * dilations[1] + 1)) / strides[1] + 1
        guard outHeight > 0, outWidth > 0 else { throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "empty output") }
        let outputName = batchNorm?.outputs[0] ?? node.outputs[0]
        let y = newValue(outputName, dims: [dims[0], outHeight, outWidth, m])
        layers.append(.convolution(.init(
            input: x, output: y, padding: padding, kernel: (kh, kw), stride: (strides[0], strides[1]),
            dilation: (dilations[0], dilations[1]), groups: groups, groupInputChannels: groupInput, groupOutputChannels: m / groups,
            isDepthwise: isDepthwise, filter: PinnedFloats(filter), filterDims: isDepthwise ? [1, kh, kw, m] : [m, kh, kw, groupInput],
            bias: PinnedFloats(bias))))
    }

    mutating func clamp(_ node: GraphNode, min: Float, max: Float) throws {
        let x = try value(node, 0)
        layers.append(.clamp(input: x, output: newValue(node.outputs[0], dims: values[x]), min: min, max: max))
    }

    /// Clip's bound: an input (opset ≥ 11) or an attribute (older opsets); nil when absent.
    func clipBound(_ node: GraphNode, input slot: Int, attribute: String) throws -> Float? {
        if slot < node.inputs.count, !node.inputs[slot].isEmpty {
            guard let bound = try constant(node, slot).floatValues.first else {
                throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "empty Clip bound")
            }
            return bound
        }
        if case let .float(value)? = node.attributes[attribute] { return value }
        return nil
    }

    mutating func maxPool(_ node: GraphNode) throws {
        try requireNoAutoPad(node)
        guard int(node, "ceil_mode", default: 0) == 0, int(node, "storage_order", default: 0) == 0, node.outputs.count == 1 else {
            throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "ceil_mode, storage_order or Indices output")
        }
        let x = try image(node, 0)
        let kernel = ints(node, "kernel_shape", default: []), strides = ints(node, "strides", default: [1, 1])
        let dilations = ints(node, "dilations", default: [1, 1]), pads = ints(node, "pads", default: [0, 0, 0, 0])
        guard kernel.count == 2, strides.count == 2, dilations.count == 2, pads.count == 4 else {
            throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "not a 2-D pooling")
        }
        let dims = values[x]
        let padding = (top: pads[0], right: pads[3], bottom: pads[2], left: pads[1])
        let outHeight = (dims[1] + padding.top + padding.bottom - ((kernel[0] - 1) * dilations[0] + 1)) / strides[0] + 1
        let outWidth = (dims[2] + padding.left + padding.right - ((kernel[1] - 1) * dilations[1] + 1)) / strides[1] + 1
        let y = newValue(node.outputs[0], dims: [dims[0], outHeight, outWidth, dims[3]])
        layers.append(.maxPool(.init(input: x, output: y, padding: padding, kernel: (kernel[0], kernel[1]),
                                     stride: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]))))
    }

    /// Flatten (axis 1) or Reshape to [N, C] of an [N, 1, 1, C] image: the same bytes in NHWC
    /// as in NCHW, so the name aliases its input and the Gemm after it flattens.
    mutating func flatten(_ node: GraphNode) throws {
        let x = try value(node, 0)
        let dims = values[x]
        let flat = dims.count == 4 && dims[1] == 1 && dims[2] == 1
        if node.opType == "Flatten" {
            guard flat, int(node, "axis", default: 1) == 1 else {
                throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "Flatten of \(dims) (NHWC) is not the identity")
            }
        } else {
            let target = try constant(node, 1).int64Values
            guard flat, target.count == 2, target[0] == Int64(dims[0]) || target[0] == 0,
                  target[1] == Int64(dims[3]) || target[1] == -1 else {
                throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "Reshape of \(dims) (NHWC) to \(target)")
            }
        }
        names[node.outputs[0]] = x
    }

    mutating func gemm(_ node: GraphNode) throws {
        guard int(node, "transA", default: 0) == 0 else {
            throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "Gemm with transA")
        }
        let x = try value(node, 0)
        let b = try constant(node, 1)
        guard b.shape.count == 2 else { throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "B of shape \(b.shape)") }
        let transB = int(node, "transB", default: 0) != 0
        let (outputs, inputs) = transB ? (b.shape[0], b.shape[1]) : (b.shape[1], b.shape[0])
        let dims = values[x]
        guard dims.last == inputs, dims.dropFirst().dropLast().allSatisfy({ $0 == 1 }) else {
            throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "input \(dims) does not flatten to [N, \(inputs)]")
        }
        let alpha = float(node, "alpha", default: 1), beta = float(node, "beta", default: 1)
        let weights = b.floatValues
        var filter = [Float](repeating: 0, count: weights.count)
        for o in 0..<outputs { for i in 0..<inputs { filter[o * inputs + i] = alpha * (transB ? weights[o * inputs + i] : weights[i * outputs + o]) } }
        var bias: PinnedFloats? = nil
        if node.inputs.count > 2, !node.inputs[2].isEmpty {
            let c = try constant(node, 2)
            guard c.shape.reduce(1, *) == outputs, c.shape.dropLast().allSatisfy({ $0 == 1 }) else {
                throw XNNPACKSubgraphError.unsupported(node: node.displayName, reason: "C of shape \(c.shape) is not a bias")
            }
            bias = PinnedFloats(c.floatValues.map { beta * $0 })
        }
        let y = newValue(node.outputs[0], dims: [dims[0], outputs])
        layers.append(.fullyConnected(input: x, output: y, filter: PinnedFloats(filter), filterDims: [outputs, inputs], bias: bias))
    }
}

/// A pthreadpool: XNNPACK's own thread pool, the caller being one of its `threads`.
final class PThreadPool {
    let pool: pthreadpool_t

    init(threads: Int) throws {
        guard threads >= 1, let pool = pthreadpool_create(threads) else { throw XNNPACKSubgraphError.threadPoolUnavailable(threads: threads) }
        self.pool = pool
    }

    deinit { pthreadpool_destroy(pool) }
}

/// Throws unless `status` is success.
func xnnCheck(_ call: String, _ status: xnn_status) throws {
    guard status == xnn_status_success else { throw XNNPACKSubgraphError.xnnpackFailed(call: call, status: Int(status.rawValue)) }
}

/// A runtime built from a plan: the subgraph defined, optimised and planned by XNNPACK, with its
/// external input (NHWC) and output bound once, on its own pthreadpool of `threads`.
public final class XNNPACKSubgraphRuntime {
    public let threads: Int
    public let plan: XNNPACKSubgraphPlan
    private let threadPool: PThreadPool
    private let runtime: xnn_runtime_t
    private let input: PinnedFloats, output: PinnedFloats

    private static let inputID: UInt32 = 0, outputID: UInt32 = 1
    /// XNN_INVALID_VALUE_ID (UINT32_MAX): let XNNPACK number an internal value.
    private static let internalID = UInt32.max

    public init(plan: XNNPACKSubgraphPlan, threads: Int) throws {
        guard XNNPACKSupport.isAvailable else { throw XNNPACKSubgraphError.unavailable }
        self.plan = plan
        self.threads = threads
        threadPool = try PThreadPool(threads: threads)
        input = PinnedFloats(count: plan.values[plan.inputValue].reduce(1, *))
        output = PinnedFloats(count: plan.values[plan.outputValue].reduce(1, *))

        var created: xnn_subgraph_t?
        try xnnCheck("xnn_create_subgraph", xnn_create_subgraph(2, 0, &created))
        guard let subgraph = created else { throw XNNPACKSubgraphError.xnnpackFailed(call: "xnn_create_subgraph", status: -1) }
        // The runtime is independent of the subgraph once created.
        defer { xnn_delete_subgraph(subgraph) }

        var ids: [UInt32] = []
        for (index, dims) in plan.values.enumerated() {
            let (external, flags): (UInt32, UInt32) =
                index == plan.inputValue ? (Self.inputID, UInt32(XNN_VALUE_FLAG_EXTERNAL_INPUT))
                : index == plan.outputValue ? (Self.outputID, UInt32(XNN_VALUE_FLAG_EXTERNAL_OUTPUT)) : (Self.internalID, 0)
            ids.append(try Self.defineTensor(subgraph, dims: dims, data: nil, externalID: external, flags: flags))
        }
        for layer in plan.layers {
            try Self.define(layer, in: subgraph, ids: ids)
        }
        var made: xnn_runtime_t?
        try xnnCheck("xnn_create_runtime_v2", xnn_create_runtime_v2(subgraph, threadPool.pool, 0, &made))
        guard let made else { throw XNNPACKSubgraphError.xnnpackFailed(call: "xnn_create_runtime_v2", status: -1) }
        runtime = made
        let external = [xnn_external_value(id: Self.inputID, data: UnsafeMutableRawPointer(input.address)),
                        xnn_external_value(id: Self.outputID, data: UnsafeMutableRawPointer(output.address))]
        try xnnCheck("xnn_setup_runtime", xnn_setup_runtime(runtime, external.count, external))
    }

    deinit { xnn_delete_runtime(runtime) }

    /// Runs the whole subgraph once on the bound input.
    @inline(__always)
    public func invoke() throws { try xnnCheck("xnn_invoke_runtime", xnn_invoke_runtime(runtime)) }

    /// Copies an NCHW input (the plan's `inputShape`) into the runtime's NHWC input.
    public func setInput(nchw source: UnsafeBufferPointer<Float>) {
        let s = plan.inputShape
        let (n, c, h, w) = (s[0], s[1], s[2], s[3])
        guard source.count == n * c * h * w else { return }
        let target = input.buffer
        for b in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            target[((b * h + y) * w + x) * c + ch] = source[((b * c + ch) * h + y) * w + x]
        } } } }
    }

    /// The last invocation's output in ONNX layout (`plan.outputShape`; NHWC images back to NCHW).
    public func outputTensor() -> Tensor {
        let shape = plan.outputShape
        let values = output.buffer
        guard shape.count == 4 else { return Tensor(shape: shape, scalars: Array(values)) }
        let (c, h, w) = (shape[1], shape[2], shape[3])
        return Tensor(shape: shape) { i in
            let x = i % w, y = (i / w) % h, ch = (i / (w * h)) % c, b = i / (w * h * c)
            return values[((b * h + y) * w + x) * c + ch]
        }
    }

    // MARK: Definitions

    private static func defineTensor(_ subgraph: xnn_subgraph_t, dims: [Int], data: UnsafeRawPointer?, externalID: UInt32,
                                     flags: UInt32) throws -> UInt32 {
        var id: UInt32 = 0
        try xnnCheck("xnn_define_tensor_value", xnn_define_tensor_value(subgraph, xnn_datatype_fp32, dims.count, dims, data, externalID, flags, &id))
        return id
    }

    private static func staticTensor(_ subgraph: xnn_subgraph_t, _ floats: PinnedFloats, dims: [Int]) throws -> UInt32 {
        try defineTensor(subgraph, dims: dims, data: UnsafeRawPointer(floats.address), externalID: internalID, flags: 0)
    }

    private static func define(_ layer: SubgraphLayer, in subgraph: xnn_subgraph_t, ids: [UInt32]) throws {
        switch layer {
        case let .convolution(c):
            let filter = try staticTensor(subgraph, c.filter, dims: c.filterDims)
            let bias = try staticTensor(subgraph, c.bias, dims: [c.groups * c.groupOutputChannels])
            if c.isDepthwise {
                try xnnCheck("xnn_define_depthwise_convolution_2d", xnn_define_depthwise_convolution_2d(
                    subgraph, UInt32(c.padding.top), UInt32(c.padding.right), UInt32(c.padding.bottom), UInt32(c.padding.left),
                    UInt32(c.kernel.height), UInt32(c.kernel.width), UInt32(c.stride.height), UInt32(c.stride.width),
                    UInt32(c.dilation.height), UInt32(c.dilation.width), UInt32(c.groupOutputChannels), c.groups,
                    -.infinity, .infinity, ids[c.input], filter, bias, ids[c.output], 0))
            } else {
                try xnnCheck("xnn_define_convolution_2d", xnn_define_convolution_2d(
                    subgraph, UInt32(c.padding.top), UInt32(c.padding.right), UInt32(c.padding.bottom), UInt32(c.padding.left),
                    UInt32(c.kernel.height), UInt32(c.kernel.width), UInt32(c.stride.height), UInt32(c.stride.width),
                    UInt32(c.dilation.height), UInt32(c.dilation.width), UInt32(c.groups), c.groupInputChannels, c.groupOutputChannels,
                    -.infinity, .infinity, ids[c.input], filter, bias, ids[c.output], 0))
            }
        case let .clamp(input, output, min, max):
            try xnnCheck("xnn_define_clamp", xnn_define_clamp(subgraph, min, max, ids[input], ids[output], 0))
        case let .add(a, b, output):
            try xnnCheck("xnn_define_add2", xnn_define_add2(subgraph, -.infinity, .infinity, ids[a], ids[b], ids[output], 0))
        case let .maxPool(p):
            try xnnCheck("xnn_define_max_pooling_2d", xnn_define_max_pooling_2d(
                subgraph, UInt32(p.padding.top), UInt32(p.padding.right), UInt32(p.padding.bottom), UInt32(p.padding.left),
                UInt32(p.kernel.height), UInt32(p.kernel.width), UInt32(p.stride.height), UInt32(p.stride.width),
                UInt32(p.dilation.height), UInt32(p.dilation.width), -.infinity, .infinity, ids[p.input], ids[p.output], 0))
        case let .globalAveragePool(input, output):
            try xnnCheck("xnn_define_global_average_pooling_2d",
                         xnn_define_global_average_pooling_2d(subgraph, -.infinity, .infinity, ids[input], ids[output], 0))
        case let .fullyConnected(input, output, filter, filterDims, bias):
            let filterID = try staticTensor(subgraph, filter, dims: filterDims)
            let biasID = try bias.map { try staticTensor(subgraph, $0, dims: [filterDims[0]]) } ?? internalID
            try xnnCheck("xnn_define_fully_connected", xnn_define_fully_connected(
                subgraph, -.infinity, .infinity, ids[input], filterID, biasID, ids[output], UInt32(XNN_FLAG_TENSORFLOW_RESHAPE_2D)))
        }
    }
}
