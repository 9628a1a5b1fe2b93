// GearboxEngine/ONNXImporter: ModelProto bytes → the engine's Graph. Decodes with
// swift-protobuf, then checks what protobuf cannot: opset versions, attribute kinds, initializer
// sizes, names. Everything wrong is an EngineError naming the source and the culprit.

import Foundation
import SwiftProtobuf

package enum ONNXImporter {
    /// Highest ai.onnx opset the engine accepts. The operators it implements did not change
    /// semantics between 13 and 18 for the float32 cases it supports (checked per operator).
    static let maximumOpset = 18

    package static func graph(fromFile path: String) throws -> Graph {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw EngineError.cannotRead(path: path, reason: "no such file or not readable")
        }
        return try graph(from: data, source: path)
    }

    package static func graph(from data: Data, source: String) throws -> Graph {
        guard !data.isEmpty else { throw EngineError.malformedFile(source: source, reason: "the file is empty") }
        return try graph(from: modelProto(from: data, source: source), source: source)
    }

    /// Decodes the ModelProto in `data` (nesting limited to 64, against hostile files); a one-line
    /// error naming `source` when it is not one.
    static func modelProto(from data: Data, source: String) throws -> Onnx_ModelProto {
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            return try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw EngineError.malformedFile(source: source, reason: "not an ONNX ModelProto (protobuf: \(error))")
        }
    }

    static func graph(from model: Onnx_ModelProto, source: String) throws -> Graph {
        guard model.hasGraph else {
            throw EngineError.malformedFile(source: source, reason: "the ModelProto has no graph (truncated or not an ONNX model)")
        }
        var opset: Int? = nil
        for entry in model.opsetImport where entry.domain.isEmpty || entry.domain == "ai.onnx" {
            opset = Int(clamping: entry.version)
        }
        // IR version 1–2 models may omit opset_import; they mean opset 1.
        let version = opset ?? (model.irVersion <= 2 ? 1 : 0)
        guard version >= 1, version <= maximumOpset else {
            throw EngineError.unsupportedOpset(domain: "", version: version)
        }
        return try graph(from: model.graph, opset: version, source: source)
    }

    static func graph(from proto: Onnx_GraphProto, opset: Int, source: String) throws -> Graph {
        var initializers: [String: ConstantTensor] = [:]
        for tensor in proto.initializer {
            guard !tensor.name.isEmpty else {
                throw EngineError.invalidModel(source: source, reason: "an initializer has no name")
            }
            initializers[tensor.name] = try TensorProtoCoding.constant(from: tensor, source: source)
        }
        if let sparse = proto.sparseInitializer.first {
            throw EngineError.invalidModel(source: source, reason: "sparse initializer '\(sparse.values.name)' is not supported (store it dense; Gearbox converts weights itself)")
        }
        func value(_ info: Onnx_ValueInfoProto) throws -> GraphValue {
            guard !info.name.isEmpty else { throw EngineError.invalidModel(source: source, reason: "a graph input or output has no name") }
            var type = ElementType.undefined
            var dims: [DeclaredDimension]? = nil
            if case let .tensorType(tensorType)? = info.type.value {
                type = ElementType(onnxCode: tensorType.elemType)
                if tensorType.hasShape {
                    dims = tensorType.shape.dim.map { d in
                        switch d.value {
                        case let .dimValue(v)? where v >= 0: return .fixed(Int(clamping: v))
                        case let .dimParam(p)? where !p.isEmpty: return .symbolic(p)
                        default: return .unknown
                        }
                    }
                }
            } else if info.type.value != nil {
                throw EngineError.unsupportedNode(node: "graph value '\(info.name)'", op: "ValueInfo", reason: "non-tensor type (sequence, map or optional)")
            }
            return GraphValue(name: info.name, elementType: type, dimensions: dims)
        }
        let inputs = try proto.input.filter { initializers[$0.name] == nil }.map(value)
        let outputs = try proto.output.map(value)
        guard !outputs.isEmpty else { throw EngineError.invalidModel(source: source, reason: "the graph declares no outputs") }
        var nodes: [GraphNode] = []
        nodes.reserveCapacity(proto.node.count)
        for node in proto.node {
            var attributes: [String: AttributeValue] = [:]
            for attribute in node.attribute {
                attributes[attribute.name] = try attributeValue(attribute, node: node, source: source)
            }
            nodes.append(GraphNode(name: node.name, opType: node.opType, domain: node.domain,
                                   inputs: node.input, outputs: node.output, attributes: attributes))
        }
        return Graph(name: proto.name, nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs, opsetVersion: opset)
    }

    static func attributeValue(_ a: Onnx_AttributeProto, node: Onnx_NodeProto, source: String) throws -> AttributeValue {
        var kind = a.type
        if !a.hasType || kind == .undefined {
            // Old exporters leave `type` unset; the filled field tells the kind.
            if a.hasF { kind = .float } else if a.hasI { kind = .int } else if a.hasS { kind = .string }
            else if a.hasT { kind = .tensor } else if a.hasG { kind = .graph }
            else if !a.floats.isEmpty { kind = .floats } else if !a.ints.isEmpty { kind = .ints }
            else if !a.strings.isEmpty { kind = .strings } else { kind = .ints }
        }
        if !a.refAttrName.isEmpty {
            return .unsupported(kind: "reference to function attribute '\(a.refAttrName)'")
        }
        switch kind {
        case .float: return .float(a.f)
        case .int: return .int(Int(clamping: a.i))
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .ints: return .ints(a.ints.map { Int(clamping: $0) })
        case .floats: return .floats(a.floats)
        case .strings: return .strings(a.strings.map { String(decoding: $0, as: UTF8.self) })
        case .tensor: return .tensor(try TensorProtoCoding.constant(from: a.t, source: source))
        case .graph, .graphs: return .unsupported(kind: "graph")
        case .sparseTensor, .sparseTensors: return .unsupported(kind: "sparse tensor")
        case .typeProto, .typeProtos: return .unsupported(kind: "type proto")
        case .tensors: return .unsupported(kind: "tensor list")
        default: return .unsupported(kind: "attribute type \(kind.rawValue)")
        }
    }
}
