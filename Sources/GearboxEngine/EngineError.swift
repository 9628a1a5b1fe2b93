// GearboxEngine/EngineError: every way loading or running a model can fail, each rendered as
// one line that names the file, node, operator or input involved and says what to do.

import GearboxCore

/// Errors from GearboxEngine. `description` is one line naming the culprit and the fix.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// A file could not be read or written.
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    /// The bytes are not a valid ONNX model / TensorProto / packed model.
    case malformedFile(source: String, reason: String)
    /// The model is well-formed protobuf but not a valid graph (dangling names, bad initializer sizes…).
    case invalidModel(source: String, reason: String)
    /// The model asks for an operator set this engine does not implement.
    case unsupportedOpset(domain: String, version: Int)
    /// A node uses an operator, attribute value, data type or shape the engine does not support.
    case unsupportedNode(node: String, op: String, reason: String)
    /// A node's inputs do not fit together (shape mismatch, missing required input…).
    case invalidNode(node: String, op: String, reason: String)
    /// A tensor's shape could not be fixed at load time.
    case unresolvedShape(value: String, reason: String)
    /// A caller-supplied input does not match the model.
    case inputMismatch(name: String, reason: String)
    /// A requested weight format could not be built.
    case weightFormat(format: String, reason: String)
    /// Options are inconsistent (thread count, pinning…).
    case invalidOption(name: String, reason: String)
    /// A packed variant file (`.gbpk`) is truncated, corrupt, from another version or CPU.
    case packedFile(path: String, reason: String, fix: String)
    /// A check the result must pass did not (a pruned model's outputs differ from the dense one's).
    case checkFailed(what: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotRead(path, reason):
            return "cannot read \(path): \(reason) (check the path and permissions)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason) (check the directory exists and is writable)"
        case let .malformedFile(source, reason):
            return "\(source) is not a valid file of the expected kind: \(reason) (re-export or re-download it)"
        case let .invalidModel(source, reason):
            return "\(source) is not a valid ONNX graph: \(reason) (check the exporter; `onnx.checker` should flag it too)"
        case let .unsupportedOpset(domain, version):
            return "operator set \(domain.isEmpty ? "ai.onnx" : domain) version \(version) is not supported (re-export with ai.onnx opset 1–18)"
        case let .unsupportedNode(node, op, reason):
            return "node \(node) (\(op)): unsupported: \(reason)"
        case let .invalidNode(node, op, reason):
            return "node \(node) (\(op)): \(reason)"
        case let .unresolvedShape(value, reason):
            return "shape of '\(value)' cannot be resolved at load: \(reason) (give a concrete shape in EngineOptions.inputShapes or --input)"
        case let .inputMismatch(name, reason):
            return "input '\(name)': \(reason)"
        case let .weightFormat(format, reason):
            return "weight format '\(format)': \(reason)"
        case let .invalidOption(name, reason):
            return "option \(name): \(reason)"
        case let .packedFile(path, reason, fix):
            return "packed variant \(path): \(reason) (\(fix))"
        case let .checkFailed(what, reason):
            return "\(what) check failed: \(reason)"
        }
    }
}

extension EngineError: ClassifiedError {
    /// A file that cannot be written and a failed check are failures (1); everything else is a
    /// model, file or option the user can fix (2).
    public var exitStatus: ExitStatus {
        switch self {
        case .cannotWrite, .checkFailed: return .failure
        case .cannotRead, .malformedFile, .invalidModel, .unsupportedOpset, .unsupportedNode, .invalidNode,
             .unresolvedShape, .inputMismatch, .weightFormat, .invalidOption, .packedFile:
            return .inputError
        }
    }
}
