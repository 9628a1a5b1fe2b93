// Tests for the weight-format hook: the loader hands every Conv/Gemm/MatMul weight matrix to
// the requested factory and runs the layer through what it returns.

import Synchronization
import Testing
@testable import GearboxEngine

/// A deliberately naive format (column-major, scalar loops) standing in for a pruned one.
struct ColumnMajorMatrix: WeightMatrix {
    let rows: Int, columns: Int
    let values: [Float]
    var storedBytes: Int { values.count * 4 }
    var formatName: String { "colmajor" }
    init(_ dense: DenseWeightMatrix) {
        rows = dense.rows
        columns = dense.columns
        values = (0..<(rows * columns)).map { i in dense[i % dense.rows, i / dense.rows] }
    }
    func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<rows {
            for j in 0..<n {
                var sum: Float = 0
                for k in 0..<columns { sum += values[k * rows + i] * b[k * ldb + j] }
                c[i * ldc + j] = sum
            }
        }
    }
}

final class ColumnMajorFactory: WeightFormatFactory, @unchecked Sendable {
    let layers = Mutex<[WeightLayerDescription]>([])
    var formatName: String { "colmajor" }
    func makeWeightMatrix(from dense: DenseWeightMatrix, layer: WeightLayerDescription, block: WeightBlockShape?) throws -> any WeightMatrix {
        layers.withLock { $0.append(layer) }
        return ColumnMajorMatrix(dense)
    }
}

@Suite struct WeightFormatFactoryTests {
    @Test func everyWeightLayerGoesThroughTheRequestedFormat() throws {
        let factory = ColumnMajorFactory()
        let options = EngineOptions(threads: 2, weightFormat: "colmajor", weightFormats: WeightFormatRegistry([factory]))
        let builder = SyntheticModels.fashionMNISTCNN()
        let converted = try load(builder, options)
        let dense = try load(builder)
        #expect(converted.weightLayers.map(\.matrix.formatName) == ["colmajor", "colmajor", "colmajor", "colmajor"])
        #expect(factory.layers.withLock { $0.map(\.opType) } == ["Conv", "Conv", "Gemm", "Gemm"])
        #expect(factory.layers.withLock { $0[0].kernelShape } == [16, 1, 3, 3])
        #expect(dense.weightLayers.allSatisfy { $0.matrix.formatName == "dense" })
        #expect(maxRelativeError(try runRandom(converted), try runRandom(dense)) < 1e-5)
    }

    @Test func unknownFormatIsAnError() throws {
        #expect(throws: EngineError.weightFormat(format: "csr", reason: "unknown format (available: dense)")) {
            _ = try load(SyntheticModels.fashionMNISTCNN(), EngineOptions(weightFormat: "csr"))
        }
    }

    @Test func blockShapeParses() {
        #expect(WeightBlockShape(parsing: "4x4") == WeightBlockShape(rows: 4, columns: 4))
        #expect(WeightBlockShape(parsing: "1X8") == WeightBlockShape(rows: 1, columns: 8))
        #expect(WeightBlockShape(parsing: "4") == nil)
        #expect(WeightBlockShape(parsing: "0x4") == nil)
    }

    @Test func denseMatrixRowRangesMatchTheFullProduct() {
        let a = DenseWeightMatrix(rows: 6, columns: 5, values: Tensor.random(shape: [6, 5], seed: 1))
        let b = Tensor.random(shape: [5, 3], seed: 2)
        var full = Tensor(zeros: [6, 3]), parts = Tensor(zeros: [6, 3])
        b.withUnsafeBufferPointer { pb in
            full.withUnsafeMutableBufferPointer { a.multiply(pb.baseAddress!, ldb: 3, n: 3, into: $0.baseAddress!, ldc: 3) }
            parts.withUnsafeMutableBufferPointer { pc in
                a.multiply(rows: 0..<2, pb.baseAddress!, ldb: 3, n: 3, into: pc.baseAddress!, ldc: 3)
                a.multiply(rows: 2..<6, pb.baseAddress!, ldb: 3, n: 3, into: pc.baseAddress!, ldc: 3)
            }
        }
        #expect(bits(full) == bits(parts))
    }
}
