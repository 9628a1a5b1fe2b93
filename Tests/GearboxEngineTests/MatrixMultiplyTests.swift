// Tests for Gemm and MatMul against a direct triple loop in Double: transA/transB, alpha/beta,
// every broadcastable shape of C, both the weight-layer path (constant B) and the run-time
// operand path, and MatMul's batch broadcasting and 1-D operands.

import Testing
@testable import GearboxEngine

/// Y = alpha · op(A) · op(B) + beta · C, C broadcast to M×N by NumPy rules (C's shape ≤ 2-D).
private func referenceGemm(_ a: Tensor, _ b: Tensor, _ c: Tensor?, transA: Bool, transB: Bool, alpha: Float, beta: Float) -> Tensor {
    let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
    let n = transB ? b.shape[0] : b.shape[1]
    let av = a.scalars, bv = b.scalars, cv = c?.scalars ?? []
    let cShape = c.map { [Int](repeating: 1, count: 2 - $0.shape.count) + $0.shape } ?? [1, 1]
    return Tensor(shape: [m, n]) { index in
        let i = index / n, j = index % n
        var sum = 0.0
        for p in 0..<k {
            let x = transA ? av[p * m + i] : av[i * k + p]
            let y = transB ? bv[j * k + p] : bv[p * n + j]
            sum += Double(x) * Double(y)
        }
        var result = Double(alpha) * sum
        if c != nil {
            let ci = cShape[0] == 1 ? 0 : i, cj = cShape[1] == 1 ? 0 : j
            result += Double(beta) * Double(cv[ci * cShape[1] + cj])
        }
        return Float(result)
    }
}

/// NumPy matmul of A[..., M, K] and B[..., K, N] with broadcast batch axes; 1-D operands are
/// promoted (A to 1×K, B to K×1) and the promoted axis removed from the result.
private func referenceMatMul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let aShape = a.shape.count == 1 ? [1] + a.shape : a.shape
    let bShape = b.shape.count == 1 ? b.shape + [1] : b.shape
    let m = aShape[aShape.count - 2], k = aShape[aShape.count - 1], n = bShape[bShape.count - 1]
    let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
    let rank = max(aBatch.count, bBatch.count)
    let aPad = [Int](repeating: 1, count: rank - aBatch.count) + aBatch
    let bPad = [Int](repeating: 1, count: rank - bBatch.count) + bBatch
    let batch = zip(aPad, bPad).map { max($0, $1) }
    var outShape = batch
    if a.shape.count > 1 { outShape.append(m) }
    if b.shape.count > 1 { outShape.append(n) }
    let av = a.scalars, bv = b.scalars
    func flat(_ index: [Int], in shape: [Int]) -> Int {
        zip(index, shape).reduce(0) { $0 * $1.1 + ($1.1 == 1 ? 0 : $1.0) }
    }
    return Tensor(shape: outShape) { index in
        let j = index % n, i = (index / n) % m
        var rest = index / (m * n)
        var batchIndex = [Int](repeating: 0, count: rank)
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            batchIndex[axis] = rest % batch[axis]
            rest /= batch[axis]
        }
        let aBase = flat(batchIndex, in: aPad) * m * k, bBase = flat(batchIndex, in: bPad) * k * n
        var sum = 0.0
        for p in 0..<k { sum += Double(av[aBase + i * k + p]) * Double(bv[bBase + p * n + j]) }
        return Float(sum)
    }
}

@Suite struct MatrixMultiplyTests {
    struct GemmCase: CustomTestStringConvertible, Sendable {
        var transA: Bool, transB: Bool
        var cShape: [Int]?
        var testDescription: String { "transA \(transA) transB \(transB) C \(cShape.map { "\($0)" } ?? "none")" }
    }

    static let m = 5, k = 7, n = 6
    static let gemmCases: [GemmCase] = [
        GemmCase(transA: false, transB: false, cShape: [n]),
        GemmCase(transA: true, transB: false, cShape: [m, n]),
        GemmCase(transA: false, transB: true, cShape: [m, 1]),
        GemmCase(transA: true, transB: true, cShape: [1, n]),
        GemmCase(transA: false, transB: true, cShape: [1]),
        GemmCase(transA: true, transB: false, cShape: nil),
    ]

    private static func operands(_ c: GemmCase) -> (a: Tensor, b: Tensor, c: Tensor?) {
        (Tensor.random(shape: c.transA ? [k, m] : [m, k], seed: 21),
         Tensor.random(shape: c.transB ? [n, k] : [k, n], seed: 22),
         c.cShape.map { Tensor.random(shape: $0, seed: 23) })
    }

    private static func attributes(_ c: GemmCase) -> [String: ONNXModelBuilder.Attribute] {
        ["transA": .int(c.transA ? 1 : 0), "transB": .int(c.transB ? 1 : 0), "alpha": .float(0.5), "beta": .float(-2)]
    }

    @Test(arguments: gemmCases)
    func gemmWithRunTimeOperandsMatchesReference(_ g: GemmCase) throws {
        let (a, bT, cT) = Self.operands(g)
        var b = ONNXModelBuilder()
        b.addInput("a", shape: a.shape)
        b.addInput("b", shape: bT.shape)
        var inputs = ["a": a, "b": bT]
        if let cT {
            b.addInput("c", shape: cT.shape)
            inputs["c"] = cT
        }
        b.addNode("Gemm", inputs: cT == nil ? ["a", "b"] : ["a", "b", "c"], outputs: ["y"], attributes: Self.attributes(g))
        b.addOutput("y")
        let model = try load(b)
        #expect(model.weightLayers.isEmpty)
        let y = try #require(try model.run(inputs).values.first)
        #expect(y.shape == [Self.m, Self.n])
        #expect(maxRelativeError(y, referenceGemm(a, bT, cT, transA: g.transA, transB: g.transB, alpha: 0.5, beta: -2)) < 1e-5)
    }

    @Test(arguments: gemmCases)
    func gemmWithConstantWeightsMatchesReference(_ g: GemmCase) throws {
        let (a, bT, cT) = Self.operands(g)
        var b = ONNXModelBuilder()
        b.addInput("a", shape: a.shape)
        b.addInitializer("b", bT)
        if let cT { b.addInitializer("c", cT) }
        b.addNode("Gemm", inputs: cT == nil ? ["a", "b"] : ["a", "b", "c"], outputs: ["y"], attributes: Self.attributes(g))
        b.addOutput("y")
        for threads in [1, 2] {
            let model = try load(b, EngineOptions(threads: threads))
            #expect(model.weightLayers.count == 1)
            let y = try #require(try model.run(["a": a]).values.first)
            #expect(y.shape == [Self.m, Self.n])
            #expect(maxRelativeError(y, referenceGemm(a, bT, cT, transA: g.transA, transB: g.transB, alpha: 0.5, beta: -2)) < 1e-5,
                    "threads \(threads)")
        }
    }

    @Test func gemmBetaZeroIgnoresC() throws {
        let a = Tensor.random(shape: [3, 4], seed: 1), w = Tensor.random(shape: [4, 2], seed: 2)
        var b = ONNXModelBuilder()
        b.addInput("a", shape: [3, 4])
        b.addInitializer("b", w)
        b.addInitializer("c", Tensor(shape: [2], repeating: 1000))
        b.addNode("Gemm", inputs: ["a", "b", "c"], outputs: ["y"], attributes: ["beta": .float(0)])
        b.addOutput("y")
        let y = try #require(try load(b).run(["a": a]).values.first)
        #expect(maxRelativeError(y, referenceGemm(a, w, nil, transA: false, transB: false, alpha: 1, beta: 0)) < 1e-5)
    }

    @Test func gemmRejectsOperandsThatDisagreeOnK() {
        var b = ONNXModelBuilder()
        b.addInput("a", shape: [3, 4])
        b.addInput("b", shape: [5, 2])
        b.addNode("Gemm", inputs: ["a", "b"], outputs: ["y"])
        b.addOutput("y")
        #expect(throws: (any Error).self) { try load(b) }
    }

    @Test(arguments: [
        ([2, 1, 3, 4], [3, 4, 5]),  // batch broadcast both ways → [2, 3, 3, 5]
        ([4], [2, 4, 5]),           // 1-D A → [2, 5]
        ([2, 3, 4], [4]),           // 1-D B → [2, 3]
        ([1, 3, 4], [2, 4, 6]),     // size-1 batch axis of A repeats
    ])
    func matMulWithRunTimeOperandsBroadcastsBatches(aShape: [Int], bShape: [Int]) throws {
        let a = Tensor.random(shape: aShape, seed: 31), bT = Tensor.random(shape: bShape, seed: 32)
        var b = ONNXModelBuilder()
        b.addInput("a", shape: aShape)
        b.addInput("b", shape: bShape)
        b.addOutput(b.binary("MatMul", "a", "b"))
        let y = try #require(try load(b).run(["a": a, "b": bT]).values.first)
        let expected = referenceMatMul(a, bT)
        #expect(y.shape == expected.shape)
        #expect(maxRelativeError(y, expected) < 1e-5)
    }

    @Test(arguments: [[2, 3, 4], [4], [7, 4]])
    func matMulWithConstantWeightsMatchesReference(aShape: [Int]) throws {
        let a = Tensor.random(shape: aShape, seed: 41), w = Tensor.random(shape: [4, 5], seed: 42)
        var b = ONNXModelBuilder()
        b.addInput("a", shape: aShape)
        b.addInitializer("w", w)
        b.addNode("MatMul", inputs: ["a", "w"], outputs: ["y"])
        b.addOutput("y")
        let model = try load(b)
        #expect(model.weightLayers.count == 1)
        let y = try #require(try model.run(["a": a]).values.first)
        #expect(y.shape == Array(aShape.dropLast()) + [5])
        #expect(maxRelativeError(y, referenceMatMul(a, w)) < 1e-5)
    }

    @Test func matMulExactOnSmallIntegers() throws {
        // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]], exact in Float.
        var b = ONNXModelBuilder()
        b.addInput("a", shape: [2, 2])
        b.addInput("b", shape: [2, 2])
        b.addOutput(b.binary("MatMul", "a", "b"))
        let y = try #require(try load(b).run(["a": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]),
                                              "b": Tensor(shape: [2, 2], scalars: [5, 6, 7, 8])]).values.first)
        #expect(y.scalars == [19, 22, 43, 50])
    }
}
