// Test support for the weight formats: a seeded generator, random matrices with chosen
// sparsity, a naive double-precision reference product, and a harness that runs any
// WeightMatrix with padded leading dimensions and compares it with the reference.

import GearboxCore
import Testing
@testable import GearboxEngine

enum FormatFixtures {
    /// rows × columns weights in [-1, 1] with about `density` of them nonzero.
    static func weights(rows: Int, columns: Int, density: Double = 1, seed: UInt64 = 1) -> DenseWeights {
        var generator = SplitMix64(seed: seed)
        let values = (0..<(rows * columns)).map { _ -> Float in
            let keep = Double.random(in: 0..<1, using: &generator) < density
            let value = Float.random(in: -1...1, using: &generator)
            return keep ? (value == 0 ? 0.5 : value) : 0
        }
        return try! DenseWeights(rows: rows, columns: columns, values: values)
    }

    static func activations(count: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
    }

    /// C = A·B in double precision, row-major, leading dimensions n.
    static func reference(_ a: DenseWeights, _ b: [Float], ldb: Int, n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: a.rows * n)
        for i in 0..<a.rows {
            for k in 0..<a.columns {
                let weight = Double(a.values[i * a.columns + k])
                if weight == 0 { continue }
                for j in 0..<n { c[i * n + j] += weight * Double(b[k * ldb + j]) }
            }
        }
        return c
    }

    /// Runs `matrix` on random B with padded leading dimensions (ldb = n + 3, ldc = n + 5),
    /// C pre-filled with NaN, and returns (result, reference) as dense M×N arrays; also
    /// checks that the padding columns of C were left untouched.
    static func run(
        _ matrix: any WeightMatrix, reference a: DenseWeights, n: Int, seed: UInt64 = 7
    ) -> (actual: [Float], expected: [Double]) {
        let ldb = n + 3, ldc = n + 5
        let b = activations(count: max(1, a.columns * ldb), seed: seed)
        var c = [Float](repeating: .nan, count: max(1, a.rows * ldc))
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                matrix.multiply(bp.baseAddress!, ldb: ldb, n: n, into: cp.baseAddress!, ldc: ldc)
            }
        }
        var actual = [Float]()
        for i in 0..<a.rows {
            actual.append(contentsOf: c[(i * ldc)..<(i * ldc + n)])
            for pad in (i * ldc + n)..<(i * ldc + ldc) { #expect(c[pad].isNaN, "padding of C row \(i) was written") }
        }
        return (actual, reference(a, b, ldb: ldb, n: n))
    }

    /// Asserts `matrix` computes the same product as the dense `a` within float tolerance.
    static func expectMatches(
        _ matrix: any WeightMatrix, _ a: DenseWeights, n: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let (actual, expected) = run(matrix, reference: a, n: n)
        #expect(actual.count == expected.count, sourceLocation: sourceLocation)
        var worst = 0.0, worstIndex = -1
        for index in expected.indices {
            let error = abs(Double(actual[index]) - expected[index])
            let allowed = 1e-5 * Double(max(1, a.columns)) + 1e-4 * abs(expected[index])
            if !(error <= allowed), (error.isNaN ? .infinity : error) > worst {
                worst = error.isNaN ? .infinity : error
                worstIndex = index
            }
        }
        #expect(
            worstIndex < 0,
            "\(matrix.formatName) \(a.rows)×\(a.columns)·N=\(n): element \(worstIndex) off by \(worst)",
            sourceLocation: sourceLocation)
    }

    /// Shapes (M, K, N) covering ragged edges, N below / at / above the vector width and panel.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (3, 5, 7), (4, 8, 8), (5, 7, 9), (13, 29, 17), (8, 16, 24), (17, 40, 64),
        (16, 36, 200), (33, 70, 13), (12, 48, 385),
    ]
}
