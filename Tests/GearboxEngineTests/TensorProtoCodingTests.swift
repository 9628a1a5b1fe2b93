// Tests for TensorProto decoding and encoding: float/int64/narrow-integer tensors from raw_data
// (little-endian bytes written by hand) and from the typed fields, exact round trips, and every
// payload whose size disagrees with the dims, or that is cut short, is an error.

import Foundation
import Testing
@testable import GearboxEngine

/// Little-endian bytes of each value, concatenated.
private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> Data {
    var data = Data()
    for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    return data
}

private func proto(type: ElementType, dims: [Int64], raw: Data? = nil) -> Onnx_TensorProto {
    var p = Onnx_TensorProto()
    p.name = "t"
    p.dataType = type.rawValue
    p.dims = dims
    if let raw { p.rawData = raw }
    return p
}

private func decode(_ p: Onnx_TensorProto) throws -> ConstantTensor {
    try TensorProtoCoding.constant(from: p, source: "test.pb")
}

private func integers(_ c: ConstantTensor) -> (shape: [Int], values: [Int64], type: ElementType)? {
    if case let .integer(shape, values, type) = c { return (shape, values, type) }
    return nil
}

private func isInvalidModel(_ error: EngineError?) -> Bool {
    if case .invalidModel? = error { return true }
    return false
}

@Suite struct TensorProtoCodingTests {
    // MARK: float32

    @Test func floatRawDataIsLittleEndianIEEE() throws {
        // 1.0 = 0x3F800000, −2.5 = 0xC0200000.
        let raw = Data([0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0])
        guard case let .float(t) = try decode(proto(type: .float, dims: [2], raw: raw)) else {
            Issue.record("not decoded as float"); return
        }
        #expect(t.shape == [2])
        #expect(t.scalars == [1.0, -2.5])
    }

    @Test func floatEncodingWritesLittleEndianRawData() {
        let p = TensorProtoCoding.proto(from: Tensor(shape: [1, 2], scalars: [1.0, -2.5]), name: "x")
        #expect(p.name == "x")
        #expect(p.dataType == 1)
        #expect(p.dims == [1, 2])
        #expect(p.rawData == Data([0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0]))
        #expect(p.floatData.isEmpty)
    }

    @Test func floatRoundTripKeepsEveryBitPattern() throws {
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, Float(bitPattern: 0x7FC0_1234)]
        let t = Tensor(shape: [3, 3]) { i in i < specials.count ? specials[i] : Float(i) / 3 }
        let bytes: Data = try TensorProtoCoding.proto(from: t, name: "x").serializedBytes()
        let file = try TensorProtoFile(serializedBytes: bytes)
        #expect(file.name == "x" && file.shape == [3, 3] && file.elementTypeName == "float32")
        #expect(bits(try #require(file.floatTensor)) == bits(t))
    }

    @Test func floatTypedFieldDecodesLikeRawData() throws {
        var p = proto(type: .float, dims: [2, 2])
        p.floatData = [0.5, -1, 3, 1e-7]
        guard case let .float(t) = try decode(p) else { Issue.record("not decoded as float"); return }
        #expect(t.shape == [2, 2])
        #expect(t.scalars == [0.5, -1, 3, 1e-7])
    }

    @Test func scalarHasOneElement() throws {
        var p = proto(type: .float, dims: [])
        p.floatData = [42]
        guard case let .float(t) = try decode(p) else { Issue.record("not decoded as float"); return }
        #expect(t.shape == [] && t.scalars == [42])
    }

    // MARK: integers

    @Test func int64RawDataRoundTripsExtremes() throws {
        let values: [Int64] = [0, -1, 1, .min, .max, 1 << 40]
        let encoded = TensorProtoCoding.proto(int64s: values, shape: [2, 3], name: "pads")
        #expect(encoded.dataType == 7)
        #expect(encoded.rawData == littleEndianBytes(values))
        let decoded = try #require(integers(try decode(encoded)))
        #expect(decoded.shape == [2, 3] && decoded.values == values && decoded.type == .int64)
    }

    @Test func int64TypedFieldDecodes() throws {
        var p = proto(type: .int64, dims: [3])
        p.int64Data = [-7, 0, 9]
        let decoded = try #require(integers(try decode(p)))
        #expect(decoded.values == [-7, 0, 9])
    }

    @Test func uint8IsZeroExtendedAndInt8IsSignExtended() throws {
        let raw = Data([0x00, 0x7F, 0x80, 0xFF])
        #expect(try integers(decode(proto(type: .uint8, dims: [4], raw: raw)))?.values == [0, 127, 128, 255])
        #expect(try integers(decode(proto(type: .int8, dims: [4], raw: raw)))?.values == [0, 127, -128, -1])
        #expect(try integers(decode(proto(type: .bool, dims: [2, 2], raw: Data([0, 1, 1, 0]))))?.values == [0, 1, 1, 0])
    }

    @Test func sixteenAndThirtyTwoBitIntegersFromRawData() throws {
        let halves = littleEndianBytes([UInt16(0xFFFF), 0x8000, 0x0102])
        #expect(try integers(decode(proto(type: .uint16, dims: [3], raw: halves)))?.values == [65535, 32768, 258])
        #expect(try integers(decode(proto(type: .int16, dims: [3], raw: halves)))?.values == [-1, -32768, 258])
        let words = littleEndianBytes([UInt32.max, 0x8000_0000])
        #expect(try integers(decode(proto(type: .uint32, dims: [2], raw: words)))?.values == [4_294_967_295, 2_147_483_648])
        #expect(try integers(decode(proto(type: .int32, dims: [2], raw: words)))?.values == [-1, -2_147_483_648])
    }

    @Test func narrowIntegersUseTheInt32TypedField() throws {
        var p = proto(type: .uint8, dims: [3])
        p.int32Data = [0, 200, 255]
        let decoded = try #require(integers(try decode(p)))
        #expect(decoded.values == [0, 200, 255] && decoded.type == .uint8)
    }

    @Test func integerFileIsNotAFloatInput() throws {
        let bytes: Data = try TensorProtoCoding.proto(int64s: [1, 2], shape: [2], name: "n").serializedBytes()
        let file = try TensorProtoFile(serializedBytes: bytes)
        #expect(file.elementTypeName == "int64" && file.shape == [2] && file.floatTensor == nil)
    }

    // MARK: errors

    @Test(arguments: [
        (ElementType.float, [Int64(4)], 15),   // one byte short
        (ElementType.float, [Int64(2), 2], 20),  // one value too many
        (ElementType.int64, [Int64(1)], 7),
        (ElementType.uint8, [Int64(4)], 3),
        (ElementType.int16, [Int64(2)], 5),
        (ElementType.uint64, [Int64(2)], 8),
    ])
    func rawDataOfTheWrongSizeIsAnInvalidModel(type: ElementType, dims: [Int64], byteCount: Int) {
        let error = #expect(throws: EngineError.self) {
            try decode(proto(type: type, dims: dims, raw: Data(repeating: 1, count: byteCount)))
        }
        #expect(isInvalidModel(error))
    }

    @Test func typedFieldsOfTheWrongCountAreInvalidModels() {
        var floats = proto(type: .float, dims: [3])
        floats.floatData = [1, 2]
        var longs = proto(type: .int64, dims: [2, 2])
        longs.int64Data = [1, 2, 3, 4, 5]
        var narrow = proto(type: .int8, dims: [2])
        narrow.int32Data = []
        for p in [floats, longs, narrow] {
            let error = #expect(throws: EngineError.self) { try decode(p) }
            #expect(isInvalidModel(error))
        }
    }

    @Test func truncatedBytesAreAMalformedFile() throws {
        let bytes: Data = try TensorProtoCoding.proto(from: Tensor.random(shape: [8], seed: 3), name: "x").serializedBytes()
        let cut = bytes.prefix(bytes.count - 5)
        let error = #expect(throws: EngineError.self) { try TensorProtoFile(serializedBytes: Data(cut), source: "cut.pb") }
        guard case let .malformedFile(source, _)? = error else { Issue.record("expected malformedFile, got \(String(describing: error))"); return }
        #expect(source == "cut.pb")
    }

    @Test func externalDataAndUnsupportedTypesAreRejected() {
        var external = proto(type: .float, dims: [1])
        external.dataLocation = .external
        let externalError = #expect(throws: EngineError.self) { try decode(external) }
        #expect(isInvalidModel(externalError))
        let double = proto(type: .double, dims: [1], raw: Data(count: 8))
        let error = #expect(throws: EngineError.self) { try decode(double) }
        guard case .unsupportedNode? = error else { Issue.record("expected unsupportedNode, got \(String(describing: error))"); return }
    }
}
