// Tests for Tensor, AlignedBuffer and TensorProto file I/O.

import Foundation
import GearboxTestSupport
import GearboxTestSupport
import Testing
@testable import GearboxEngine

@Suite struct TensorTests {
    @Test func storageIsSixtyFourByteAligned() {
        for count in [1, 3, 17, 1000] {
            let t = Tensor(zeros: [count])
            t.withUnsafeBufferPointer { #expect(Int(bitPattern: $0.baseAddress) % 64 == 0) }
        }
    }

    @Test func copiesAreIndependentAfterMutation() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        var b = a
        b[flat: 0] = 9
        #expect(a.scalars == [1, 2, 3, 4])
        #expect(b.scalars == [9, 2, 3, 4])
    }

    @Test func seededRandomTensorsRepeat() {
        let a = Tensor.random(shape: [64], seed: 42), b = Tensor.random(shape: [64], seed: 42), c = Tensor.random(shape: [64], seed: 43)
        #expect(bits(a) == bits(b))
        #expect(bits(a) != bits(c))
        #expect(a.scalars.allSatisfy { (-1...1).contains($0) })
    }

    @Test func tensorProtoRoundTripsThroughAFile() throws {
        let t = Tensor.random(shape: [2, 3, 4], seed: 1)
        let scratch = ScratchDirectory("tensor")
        let path = scratch.file("x.pb")
        try t.writeTensorProto(to: path, name: "x")
        let file = try TensorProtoFile(contentsOf: path)
        #expect(file.name == "x")
        #expect(file.shape == [2, 3, 4])
        #expect(bits(try #require(file.floatTensor)) == bits(t))
    }

    @Test(.requiresONNXTestData) func readsTheOnnxTestDataTensorFiles() throws {
        let path = "/usr/share/libonnx-testdata/data/node/test_relu/test_data_set_0/input_0.pb"
        let t = try Tensor(contentsOfTensorProto: path)
        #expect(t.shape == [3, 4, 5])
    }

    @Test func rejectsATensorProtoWhoseDataDoesNotMatchItsShape() throws {
        var proto = TensorProtoCoding.proto(from: Tensor(zeros: [4]), name: "bad")
        proto.dims = [5]
        let bytes: Data = try proto.serializedBytes()
        #expect(throws: EngineError.self) { try TensorProtoFile(serializedBytes: bytes, source: "bad.pb") }
    }

    @Test func rejectsNegativeAndOverflowingDimensions() throws {
        for dims: [Int64] in [[-1], [1 << 40, 1 << 40], [Int64.max]] {
            var proto = Onnx_TensorProto()
            proto.dataType = 1
            proto.dims = dims
            let bytes: Data = try proto.serializedBytes()
            #expect(throws: EngineError.self) { try TensorProtoFile(serializedBytes: bytes) }
        }
    }
}
