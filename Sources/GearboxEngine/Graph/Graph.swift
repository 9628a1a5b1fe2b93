// GearboxEngine/Graph: the engine's own graph IR, independent of protobuf. The ONNX importer
// produces it, the compiler (shape inference, folding, planning) consumes it, and the ONNX
// writer can serialise it back. Names are ONNX value names.

/// Element types the engine distinguishes. Data flows as Float32; integers only appear as
/// constant parameters (Reshape's shape, Pad's pads…).
package enum ElementType: Int32, Sendable, CustomStringConvertible {
    case undefined = 0, float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7
    case string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13
    case complex64 = 14, complex128 = 15, bfloat16 = 16

    init(onnxCode: Int32) { self = ElementType(rawValue: onnxCode) ?? .undefined }

    package var description: String {
        switch self {
        case .undefined: return "undefined"
        case .float: return "float32"
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .string: return "string"
        case .bool: return "bool"
        case .float16: return "float16"
        case .double: return "float64"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .complex64: return "complex64"
        case .complex128: return "complex128"
        case .bfloat16: return "bfloat16"
        }
    }

    /// Integer types the engine can read as Int64 parameters.
    var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .int32, .int64, .uint32, .uint64, .bool: return true
        default: return false
        }
    }
}

/// A constant tensor: an initializer, a Constant node's value or a folded result.
package enum ConstantTensor: Sendable {
    case float(Tensor)
    /// Integer data (any ONNX integer or bool type, widened), with its original element type.
    case integer(shape: [Int], values: [Int64], type: ElementType)

    package var shape: [Int] {
        switch self {
        case let .float(t): return t.shape
        case let .integer(shape, _, _): return shape
        }
    }

    var elementType: ElementType {
        switch self {
        case .float: return .float
        case let .integer(_, _, type): return type
        }
    }

    /// Values as Int64 (floats are truncated), for parameters such as pads or shapes.
    package var int64Values: [Int64] {
        switch self {
        case let .float(t): return t.scalars.map { Int64($0) }
        case let .integer(_, values, _): return values
        }
    }

    /// Values as Float (integers converted), for parameters such as Clip bounds.
    package var floatValues: [Float] {
        switch self {
        case let .float(t): return t.scalars
        case let .integer(_, values, _): return values.map { Float($0) }
        }
    }
}

/// A tensor dimension as declared in the model: a number, a symbol ("N") or nothing.
package enum DeclaredDimension: Sendable, Equatable {
    case fixed(Int)
    case symbolic(String)
    case unknown
}

/// A graph input or output as declared in the model.
package struct GraphValue: Sendable {
    package var name: String
    package var elementType: ElementType
    /// `nil` when the model does not declare a shape (rank unknown).
    package var dimensions: [DeclaredDimension]?
}

/// An attribute value of a node.
package enum AttributeValue: Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(ConstantTensor)
    /// A kind the engine never needs (graphs, sparse tensors, type protos); kept to name it in errors.
    case unsupported(kind: String)
}

/// One operator application.
package struct GraphNode: Sendable {
    package var name: String
    package var opType: String
    package var domain: String
    /// Input value names; "" marks an omitted optional input.
    package var inputs: [String]
    package var outputs: [String]
    package var attributes: [String: AttributeValue]

    /// The name used in error messages: the node name, or its first output when unnamed.
    package var displayName: String {
        if !name.isEmpty { return name }
        return outputs.first.map { "<\($0)>" } ?? "<unnamed>"
    }
}

/// A whole model graph: nodes in topological order plus constants and interface.
package struct Graph: Sendable {
    var name: String
    package var nodes: [GraphNode]
    package var initializers: [String: ConstantTensor]
    /// Runtime inputs (initializers that are also listed as inputs are excluded).
    package var inputs: [GraphValue]
    package var outputs: [GraphValue]
    /// Version of the default (ai.onnx) operator set.
    var opsetVersion: Int
}
