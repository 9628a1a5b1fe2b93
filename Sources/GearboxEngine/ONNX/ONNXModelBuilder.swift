// GearboxEngine/ONNXModelBuilder: writes ONNX. A small builder API (inputs, initializers,
// nodes, and layer helpers such as `conv` or `gemm` that return their output's name) produces
// a ModelProto, so other modules can generate models — synthetic portfolios, training exports,
// benchmark models — without touching protobuf types.

import Foundation
import GearboxCore
import SwiftProtobuf

/// Builds an ONNX model (ai.onnx opset 13 by default) from nodes and float32 tensors.
///
/// ```swift
/// var builder = ONNXModelBuilder()
/// builder.addInput("x", shape: [1, 1, 28, 28])
/// let y = builder.conv("x", weights: Tensor.random(shape: [8, 1, 3, 3], seed: 1), pads: [1, 1, 1, 1])
/// builder.addOutput(builder.relu(y))
/// try builder.write(to: "tiny.onnx")
/// ```
public struct ONNXModelBuilder: Sendable {
    /// An attribute value.
    public enum Attribute: Sendable {
        case int(Int), float(Float), ints([Int]), floats([Float]), string(String), tensor(Tensor)
    }

    public var graphName: String
    public var opset: Int
    public var producer: String
    private var graph: Graph
    private var counter = 0

    public init(graphName: String = "gearbox", opset: Int = 13, producer: String = "gearbox") {
        self.graphName = graphName
        self.opset = opset
        self.producer = producer
        graph = Graph(name: graphName, nodes: [], initializers: [:], inputs: [], outputs: [], opsetVersion: opset)
    }

    /// A fresh value name with `prefix`.
    public mutating func uniqueName(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)_\(counter)"
    }

    /// Declares a float32 input; `symbolicDimensions` names axes left symbolic (e.g. [0: "N"]).
    public mutating func addInput(_ name: String, shape: [Int], symbolicDimensions: [Int: String] = [:]) {
        let dims = shape.enumerated().map { i, d -> DeclaredDimension in symbolicDimensions[i].map { .symbolic($0) } ?? .fixed(d) }
        graph.inputs.append(GraphValue(name: name, elementType: .float, dimensions: dims))
    }

    /// Declares a float32 output; the shape is optional (the engine infers it).
    public mutating func addOutput(_ name: String, shape: [Int]? = nil) {
        graph.outputs.append(GraphValue(name: name, elementType: .float, dimensions: shape?.map { .fixed($0) }))
    }

    /// Adds a float32 initializer.
    public mutating func addInitializer(_ name: String, _ tensor: Tensor) {
        graph.initializers[name] = .float(tensor)
    }

    /// Adds an int64 initializer (shapes, pads, axes).
    public mutating func addInitializer(_ name: String, int64s values: [Int64], shape: [Int]) {
        graph.initializers[name] = .integer(shape: shape, values: values, type: .int64)
    }

    /// Adds a node of the default domain.
    public mutating func addNode(_ opType: String, inputs: [String], outputs: [String], name: String? = nil,
                                 attributes: [String: Attribute] = [:]) {
        let converted = attributes.mapValues { a -> AttributeValue in
            switch a {
            case let .int(v): return .int(v)
            case let .float(v): return .float(v)
            case let .ints(v): return .ints(v)
            case let .floats(v): return .floats(v)
            case let .string(v): return .string(v)
            case let .tensor(t): return .tensor(.float(t))
            }
        }
        graph.nodes.append(GraphNode(name: name ?? outputs.first.map { "\(opType)_\($0)" } ?? opType, opType: opType, domain: "",
                                     inputs: inputs, outputs: outputs, attributes: converted))
    }

    // MARK: Layer helpers (each returns its output's name)

    /// Conv with weights [M, C/group, kH, kW] (initializers named after the node).
    public mutating func conv(_ x: String, weights: Tensor, bias: Tensor? = nil, strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0],
                              dilations: [Int] = [1, 1], group: Int = 1, name: String? = nil) -> String {
        let node = name ?? uniqueName("conv")
        addInitializer(node + ".weight", weights)
        var inputs = [x, node + ".weight"]
        if let bias { addInitializer(node + ".bias", bias); inputs.append(node + ".bias") }
        let y = node + ".out"
        addNode("Conv", inputs: inputs, outputs: [y], name: node, attributes: [
            "kernel_shape": .ints(Array(weights.shape.dropFirst(2))), "strides": .ints(strides), "pads": .ints(pads),
            "dilations": .ints(dilations), "group": .int(group),
        ])
        return y
    }

    /// Inference BatchNormalization with per-channel scale, bias, mean and variance.
    public mutating func batchNormalization(_ x: String, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor,
                                            epsilon: Float = 1e-5, name: String? = nil) -> String {
        let node = name ?? uniqueName("bn")
        for (suffix, t) in [("scale", scale), ("bias", bias), ("mean", mean), ("var", variance)] { addInitializer("\(node).\(suffix)", t) }
        let y = node + ".out"
        addNode("BatchNormalization", inputs: [x, node + ".scale", node + ".bias", node + ".mean", node + ".var"], outputs: [y],
                name: node, attributes: ["epsilon": .float(epsilon)])
        return y
    }

    /// Gemm computing x · weightsᵀ + bias with weights [out, in] (PyTorch Linear layout).
    public mutating func linear(_ x: String, weights: Tensor, bias: Tensor? = nil, name: String? = nil) -> String {
        let node = name ?? uniqueName("fc")
        addInitializer(node + ".weight", weights)
        var inputs = [x, node + ".weight"]
        if let bias { addInitializer(node + ".bias", bias); inputs.append(node + ".bias") }
        let y = node + ".out"
        addNode("Gemm", inputs: inputs, outputs: [y], name: node, attributes: ["transB": .int(1)])
        return y
    }

    /// A single-input operator with attributes (Relu, Sigmoid, Flatten, Softmax…).
    public mutating func unary(_ opType: String, _ x: String, attributes: [String: Attribute] = [:], name: String? = nil) -> String {
        let node = name ?? uniqueName(opType.lowercased())
        let y = node + ".out"
        addNode(opType, inputs: [x], outputs: [y], name: node, attributes: attributes)
        return y
    }

    public mutating func relu(_ x: String) -> String { unary("Relu", x) }

    /// Element-wise binary operator (Add, Sub, Mul, Div) with broadcasting.
    public mutating func binary(_ opType: String, _ a: String, _ b: String, name: String? = nil) -> String {
        let node = name ?? uniqueName(opType.lowercased())
        let y = node + ".out"
        addNode(opType, inputs: [a, b], outputs: [y], name: node)
        return y
    }

    public mutating func add(_ a: String, _ b: String) -> String { binary("Add", a, b) }

    public mutating func maxPool(_ x: String, kernel: [Int], strides: [Int], pads: [Int] = [0, 0, 0, 0]) -> String {
        unary("MaxPool", x, attributes: ["kernel_shape": .ints(kernel), "strides": .ints(strides), "pads": .ints(pads)])
    }

    public mutating func globalAveragePool(_ x: String) -> String { unary("GlobalAveragePool", x) }

    public mutating func flatten(_ x: String, axis: Int = 1) -> String { unary("Flatten", x, attributes: ["axis": .int(axis)]) }

    public mutating func softmax(_ x: String, axis: Int = -1) -> String { unary("Softmax", x, attributes: ["axis": .int(axis)]) }

    // MARK: Output

    /// The model as ONNX bytes.
    public func serializedData() throws -> Data {
        do { return try ONNXExporter.model(from: graph, producer: producer).serializedBytes() } catch {
            throw EngineError.malformedFile(source: graphName, reason: "cannot serialise the model (\(error))")
        }
    }

    /// Writes the model atomically to `path`.
    public func write(to path: String) throws {
        let data = try serializedData()
        do { try AtomicFile.write(data, to: path) } catch {
            throw EngineError.cannotWrite(path: path, reason: "\(error)")
        }
    }
}

/// Graph → ModelProto.
enum ONNXExporter {
    static func model(from graph: Graph, producer: String) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        // IR 7 covers opsets up to 14, IR 8 up to 18; readers accept newer IR for older opsets.
        model.irVersion = graph.opsetVersion <= 14 ? 7 : 8
        model.producerName = producer
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(graph.opsetVersion)
        model.opsetImport = [opset]
        var proto = Onnx_GraphProto()
        proto.name = graph.name
        proto.initializer = graph.initializers.sorted { $0.key < $1.key }.map { name, value in tensorProto(value, name: name) }
        proto.input = graph.inputs.map(valueInfo)
        proto.output = graph.outputs.map(valueInfo)
        proto.node = graph.nodes.map { node in
            var n = Onnx_NodeProto()
            n.name = node.name
            n.opType = node.opType
            if !node.domain.isEmpty { n.domain = node.domain }
            n.input = node.inputs
            n.output = node.outputs
            n.attribute = node.attributes.sorted { $0.key < $1.key }.compactMap { attribute($0.key, $0.value) }
            return n
        }
        model.graph = proto
        return model
    }

    static func tensorProto(_ value: ConstantTensor, name: String) -> Onnx_TensorProto {
        switch value {
        case let .float(t): return TensorProtoCoding.proto(from: t, name: name)
        case let .integer(shape, values, _): return TensorProtoCoding.proto(int64s: values, shape: shape, name: name)
        }
    }

    static func valueInfo(_ value: GraphValue) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = value.name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = value.elementType.rawValue
        if let dims = value.dimensions {
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                switch d {
                case let .fixed(v): dim.dimValue = Int64(v)
                case let .symbolic(s): dim.dimParam = s
                case .unknown: break
                }
                return dim
            }
            tensorType.shape = shape
        }
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        info.type = type
        return info
    }

    static func attribute(_ name: String, _ value: AttributeValue) -> Onnx_AttributeProto? {
        var a = Onnx_AttributeProto()
        a.name = name
        switch value {
        case let .int(v): a.type = .int; a.i = Int64(v)
        case let .float(v): a.type = .float; a.f = v
        case let .string(v): a.type = .string; a.s = Data(v.utf8)
        case let .ints(v): a.type = .ints; a.ints = v.map { Int64($0) }
        case let .floats(v): a.type = .floats; a.floats = v
        case let .strings(v): a.type = .strings; a.strings = v.map { Data($0.utf8) }
        case let .tensor(t): a.type = .tensor; a.t = tensorProto(t, name: name)
        case .unsupported: return nil
        }
        return a
    }
}
