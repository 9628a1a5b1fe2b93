// GearboxEngine/TensorProtoCoding: conversion between ONNX TensorProto messages and the
// engine's tensors, with every size checked (dims, overflow, data length) so that a corrupt
// file is an error, never a crash or a huge allocation. Also the public TensorProto file I/O
// used by `gearbox run` and the conformance runner (input_K.pb / output_K.pb).

import Foundation
import GearboxCore
import SwiftProtobuf

/// Largest element count accepted for one tensor (2^31), far above any edge model's tensor.
let maximumTensorElements = 1 << 31

enum TensorProtoCoding {
    /// Element count of `dims`, or an error naming `what` when a dim is negative or the product overflows.
    static func checkedCount(_ dims: [Int64], what: String, source: String) throws -> (shape: [Int], count: Int) {
        var count = 1
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for d in dims {
            guard d >= 0 else {
                throw EngineError.invalidModel(source: source, reason: "tensor \(what) has negative dimension \(d)")
            }
            guard d <= Int64(maximumTensorElements) else {
                throw EngineError.invalidModel(source: source, reason: "tensor \(what) has dimension \(d), larger than the engine's limit \(maximumTensorElements)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, product <= maximumTensorElements else {
                throw EngineError.invalidModel(source: source, reason: "tensor \(what) has \(dims) = more than \(maximumTensorElements) elements")
            }
            count = product
            shape.append(Int(d))
        }
        return (shape, count)
    }

    /// Decodes a TensorProto into a constant (float32, or any integer/bool type widened to Int64).
    static func constant(from proto: Onnx_TensorProto, source: String) throws -> ConstantTensor {
        let what = proto.name.isEmpty ? "(unnamed)" : "'\(proto.name)'"
        if proto.hasDataLocation && proto.dataLocation == .external {
            throw EngineError.invalidModel(source: source, reason: "tensor \(what) keeps its data in an external file, which the engine does not read (save the model with all data inside)")
        }
        if proto.hasSegment {
            throw EngineError.invalidModel(source: source, reason: "tensor \(what) is segmented, which the engine does not support")
        }
        let (shape, count) = try checkedCount(proto.dims, what: what, source: source)
        let type = ElementType(onnxCode: proto.dataType)
        func mismatch(_ found: Int, _ field: String) -> EngineError {
            .invalidModel(source: source, reason: "tensor \(what) of shape \(shape) needs \(count) \(type) values but \(field) holds \(found)")
        }
        let raw = proto.hasRawData ? proto.rawData : nil
        switch type {
        case .float:
            if let raw {
                guard raw.count == count * 4 else { throw mismatch(raw.count / 4, "raw_data") }
                let tensor = Tensor(zeros: shape)
                var t = tensor
                t.withUnsafeMutableBufferPointer { dst in
                    raw.withUnsafeBytes { src in
                        for i in 0..<count { dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
                    }
                }
                return .float(t)
            }
            guard proto.floatData.count == count else { throw mismatch(proto.floatData.count, "float_data") }
            return .float(Tensor(shape: shape, scalars: proto.floatData))
        case .int64:
            if let raw {
                guard raw.count == count * 8 else { throw mismatch(raw.count / 8, "raw_data") }
                let values = raw.withUnsafeBytes { src in
                    (0..<count).map { Int64(littleEndian: src.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
                }
                return .integer(shape: shape, values: values, type: type)
            }
            guard proto.int64Data.count == count else { throw mismatch(proto.int64Data.count, "int64_data") }
            return .integer(shape: shape, values: proto.int64Data, type: type)
        case .int32, .int16, .int8, .uint8, .uint16, .bool:
            if let raw {
                let size: Int
                switch type {
                case .int32: size = 4
                case .int16, .uint16: size = 2
                default: size = 1
                }
                guard raw.count == count * size else { throw mismatch(raw.count / size, "raw_data") }
                let values: [Int64] = raw.withUnsafeBytes { src in
                    (0..<count).map { i in
                        switch type {
                        case .int32: return Int64(Int32(littleEndian: src.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                        case .int16: return Int64(Int16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
                        case .uint16: return Int64(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                        case .int8: return Int64(src.load(fromByteOffset: i, as: Int8.self))
                        default: return Int64(src.load(fromByteOffset: i, as: UInt8.self))
                        }
                    }
                }
                return .integer(shape: shape, values: values, type: type)
            }
            guard proto.int32Data.count == count else { throw mismatch(proto.int32Data.count, "int32_data") }
            return .integer(shape: shape, values: proto.int32Data.map { Int64($0) }, type: type)
        case .uint32, .uint64:
            if let raw {
                let size = type == .uint32 ? 4 : 8
                guard raw.count == count * size else { throw mismatch(raw.count / size, "raw_data") }
                let values: [Int64] = raw.withUnsafeBytes { src in
                    (0..<count).map { i in
                        size == 4 ? Int64(UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                            : Int64(truncatingIfNeeded: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                    }
                }
                return .integer(shape: shape, values: values, type: type)
            }
            guard proto.uint64Data.count == count else { throw mismatch(proto.uint64Data.count, "uint64_data") }
            return .integer(shape: shape, values: proto.uint64Data.map { Int64(truncatingIfNeeded: $0) }, type: type)
        default:
            throw EngineError.unsupportedNode(node: "tensor \(what)", op: "TensorProto", reason: "element type \(type) (the engine computes in float32; integer types are accepted only as parameters)")
        }
    }

    /// A float32 TensorProto with raw_data (the layout the ONNX test data uses).
    static func proto(from tensor: Tensor, name: String) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dataType = ElementType.float.rawValue
        proto.dims = tensor.shape.map { Int64($0) }
        proto.rawData = tensor.withUnsafeBufferPointer { buffer in
            var data = Data(count: buffer.count * 4)
            data.withUnsafeMutableBytes { dst in
                for i in 0..<buffer.count { dst.storeBytes(of: buffer[i].bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
            }
            return data
        }
        return proto
    }

    /// An int64 TensorProto with raw_data.
    static func proto(int64s values: [Int64], shape: [Int], name: String) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dataType = ElementType.int64.rawValue
        proto.dims = shape.map { Int64($0) }
        var data = Data(count: values.count * 8)
        data.withUnsafeMutableBytes { dst in
            for (i, v) in values.enumerated() { dst.storeBytes(of: v.littleEndian, toByteOffset: i * 8, as: Int64.self) }
        }
        proto.rawData = data
        return proto
    }

    /// Decodes TensorProto bytes; `source` names the file in errors.
    static func decodeProto(_ bytes: Data, source: String) throws -> Onnx_TensorProto {
        do {
            return try Onnx_TensorProto(serializedBytes: bytes)
        } catch {
            throw EngineError.malformedFile(source: source, reason: "not a TensorProto (\(error))")
        }
    }
}

/// A named tensor read from a TensorProto file: float data, or integer parameters.
public struct TensorProtoFile: Sendable {
    /// The TensorProto's `name` field ("" when absent).
    public var name: String
    /// The element type's ONNX name (float32, int64…).
    public var elementTypeName: String
    /// Dimensions.
    public var shape: [Int]
    /// The float tensor, when the element type is float32.
    public var floatTensor: Tensor?
    let constant: ConstantTensor

    /// Reads a TensorProto file (such as the ONNX test data's input_0.pb).
    public init(contentsOf path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw EngineError.cannotRead(path: path, reason: "no such file or not readable")
        }
        try self.init(serializedBytes: data, source: path)
    }

    /// Decodes TensorProto bytes; `source` names them in errors.
    public init(serializedBytes: Data, source: String = "TensorProto") throws {
        let proto = try TensorProtoCoding.decodeProto(serializedBytes, source: source)
        constant = try TensorProtoCoding.constant(from: proto, source: source)
        name = proto.name
        shape = constant.shape
        elementTypeName = constant.elementType.description
        if case let .float(t) = constant { floatTensor = t } else { floatTensor = nil }
    }
}

extension Tensor {
    /// Reads a float32 TensorProto file.
    public init(contentsOfTensorProto path: String) throws {
        let file = try TensorProtoFile(contentsOf: path)
        guard let tensor = file.floatTensor else {
            throw EngineError.inputMismatch(name: path, reason: "holds \(file.elementTypeName) data; the engine's inputs are float32")
        }
        self = tensor
    }

    /// This tensor as serialized TensorProto bytes (float32, raw_data), named `name`.
    public func tensorProtoBytes(name: String = "") -> Data {
        // Serialising a fully built message cannot fail for proto2 without required fields.
        (try? TensorProtoCoding.proto(from: self, name: name).serializedBytes()) ?? Data()
    }

    /// Writes this tensor as a TensorProto file, atomically.
    public func writeTensorProto(to path: String, name: String = "") throws {
        do { try AtomicFile.write(tensorProtoBytes(name: name), to: path) } catch let error as FileFormatError {
            throw EngineError.cannotWrite(path: path, reason: "\(error)")
        }
    }
}
