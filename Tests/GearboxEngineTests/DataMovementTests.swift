// Tests for the data-movement kernels (Transpose, Concat, Pad) against hand-computed results
// and a direct index-mapping reference, across ranks up to the engine's limit of 6.

import Testing
@testable import GearboxEngine

/// Row-major multi-index of `flat` in `shape`.
private func multiIndex(_ flat: Int, in shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}

/// Row-major flat offset of `index` in `shape`.
private func flatOffset(_ index: [Int], in shape: [Int]) -> Int {
    zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
}

/// Output element at index `o` is input element at `i` with `i[perm[a]] = o[a]`.
private func referenceTranspose(_ x: Tensor, _ perm: [Int]) -> Tensor {
    let outShape = perm.map { x.shape[$0] }
    let xs = x.scalars
    return Tensor(shape: outShape) { flat in
        let o = multiIndex(flat, in: outShape)
        var i = [Int](repeating: 0, count: perm.count)
        for (a, p) in perm.enumerated() { i[p] = o[a] }
        return xs[flatOffset(i, in: x.shape)]
    }
}

/// Runs a one-node model whose only run-time input is `x`.
private func runSingle(_ x: Tensor, build: (inout ONNXModelBuilder) -> Void) throws -> Tensor {
    var b = ONNXModelBuilder()
    b.addInput("x", shape: x.shape)
    build(&b)
    b.addOutput("y")
    return try #require(try load(b).run(["x": x]).values.first)
}

@Suite struct DataMovementTests {
    // MARK: Transpose

    @Test func transposeOfAMatrixSwapsRowsAndColumns() throws {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let y = try runSingle(x) { $0.addNode("Transpose", inputs: ["x"], outputs: ["y"], attributes: ["perm": .ints([1, 0])]) }
        #expect(y.shape == [3, 2])
        #expect(y.scalars == [1, 4, 2, 5, 3, 6])
    }

    @Test func transposeWithoutPermReversesTheAxes() throws {
        let x = Tensor(shape: [2, 3, 4]) { Float($0) }
        let y = try runSingle(x) { $0.addNode("Transpose", inputs: ["x"], outputs: ["y"]) }
        #expect(y.shape == [4, 3, 2])
        // y[k, j, i] = x[i, j, k] = 12i + 4j + k; first row runs over i.
        #expect(Array(y.scalars.prefix(4)) == [0, 12, 4, 16])
        #expect(y.scalars == referenceTranspose(x, [2, 1, 0]).scalars)
    }

    @Test(arguments: [
        [0, 2, 3, 1],           // NCHW → NHWC
        [0, 3, 1, 2],           // NHWC → NCHW
        [1, 0, 2],
        [2, 0, 1],
        [5, 4, 3, 2, 1, 0],     // rank 6, the engine's maximum
        [0, 1, 2, 4, 3],        // only the last two axes swap
    ])
    func transposeMatchesIndexMapping(perm: [Int]) throws {
        let shapes: [Int: [Int]] = [3: [3, 4, 5], 4: [2, 3, 4, 5], 5: [2, 1, 3, 4, 5], 6: [2, 3, 1, 2, 3, 2]]
        let x = Tensor.random(shape: shapes[perm.count]!, seed: 7)
        let y = try runSingle(x) { $0.addNode("Transpose", inputs: ["x"], outputs: ["y"], attributes: ["perm": .ints(perm)]) }
        let expected = referenceTranspose(x, perm)
        #expect(y.shape == expected.shape)
        #expect(bits(y) == bits(expected))
    }

    @Test func transposeRejectsAPermThatIsNotAPermutation() {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [2, 3])
        b.addNode("Transpose", inputs: ["x"], outputs: ["y"], attributes: ["perm": .ints([0, 0])])
        b.addOutput("y")
        #expect(throws: (any Error).self) { try load(b) }
    }

    // MARK: Concat

    @Test func concatAlongTheFirstAxisAppendsRows() throws {
        var b = ONNXModelBuilder()
        b.addInput("a", shape: [1, 2])
        b.addInput("c", shape: [2, 2])
        b.addNode("Concat", inputs: ["a", "c"], outputs: ["y"], attributes: ["axis": .int(0)])
        b.addOutput("y")
        let y = try #require(try load(b).run(["a": Tensor(shape: [1, 2], scalars: [1, 2]),
                                              "c": Tensor(shape: [2, 2], scalars: [3, 4, 5, 6])]).values.first)
        #expect(y.shape == [3, 2])
        #expect(y.scalars == [1, 2, 3, 4, 5, 6])
    }

    @Test func concatAlongTheLastAxisInterleavesEachRow() throws {
        var b = ONNXModelBuilder()
        b.addInput("a", shape: [2, 1])
        b.addInput("c", shape: [2, 2])
        b.addInput("d", shape: [2, 3])
        b.addNode("Concat", inputs: ["a", "c", "d"], outputs: ["y"], attributes: ["axis": .int(-1)])
        b.addOutput("y")
        let y = try #require(try load(b).run(["a": Tensor(shape: [2, 1], scalars: [1, 2]),
                                              "c": Tensor(shape: [2, 2], scalars: [10, 11, 20, 21]),
                                              "d": Tensor(shape: [2, 3], scalars: [100, 101, 102, 200, 201, 202])]).values.first)
        #expect(y.shape == [2, 6])
        #expect(y.scalars == [1, 10, 11, 100, 101, 102, 2, 20, 21, 200, 201, 202])
    }

    @Test func concatOfChannelsMatchesIndexMapping() throws {
        // [2, 3, 4, 5] ++ [2, 1, 4, 5] on axis 1: output channel c < 3 comes from a, c = 3 from b.
        let a = Tensor.random(shape: [2, 3, 4, 5], seed: 1), c = Tensor.random(shape: [2, 1, 4, 5], seed: 2)
        var b = ONNXModelBuilder()
        b.addInput("a", shape: a.shape)
        b.addInput("c", shape: c.shape)
        b.addNode("Concat", inputs: ["a", "c"], outputs: ["y"], attributes: ["axis": .int(1)])
        b.addOutput("y")
        let y = try #require(try load(b, EngineOptions(threads: 2)).run(["a": a, "c": c]).values.first)
        #expect(y.shape == [2, 4, 4, 5])
        let av = a.scalars, cv = c.scalars
        let expected = Tensor(shape: [2, 4, 4, 5]) { flat in
            let i = multiIndex(flat, in: [2, 4, 4, 5])
            return i[1] < 3 ? av[flatOffset(i, in: [2, 3, 4, 5])] : cv[flatOffset([i[0], 0, i[2], i[3]], in: [2, 1, 4, 5])]
        }
        #expect(bits(y) == bits(expected))
    }

    @Test func concatRejectsShapesThatDifferOutsideTheAxis() {
        var b = ONNXModelBuilder()
        b.addInput("a", shape: [2, 3])
        b.addInput("c", shape: [3, 3])
        b.addNode("Concat", inputs: ["a", "c"], outputs: ["y"], attributes: ["axis": .int(1)])
        b.addOutput("y")
        #expect(throws: (any Error).self) { try load(b) }
    }

    // MARK: Pad

    private func pad(_ x: Tensor, pads: [Int64], mode: String, value: Float? = nil, axes: [Int64]? = nil) throws -> Tensor {
        try runSingle(x) { b in
            b.addInitializer("pads", int64s: pads, shape: [pads.count])
            var inputs = ["x", "pads"]
            if let value {
                b.addInitializer("value", Tensor(shape: [], scalars: [value]))
                inputs.append("value")
            }
            if let axes {
                if value == nil { inputs.append("") }
                b.addInitializer("axes", int64s: axes, shape: [axes.count])
                inputs.append("axes")
            }
            b.addNode("Pad", inputs: inputs, outputs: ["y"], attributes: ["mode": .string(mode)])
        }
    }

    @Test func constantPadSurroundsAMatrixWithTheValue() throws {
        // [[1, 2], [3, 4]] with one row above, one column on the right, value 9.
        let y = try pad(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), pads: [1, 0, 0, 1], mode: "constant", value: 9)
        #expect(y.shape == [3, 3])
        #expect(y.scalars == [9, 9, 9, 1, 2, 9, 3, 4, 9])
    }

    @Test func edgePadRepeatsBorderRowsAndColumns() throws {
        let y = try pad(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), pads: [1, 1, 1, 1], mode: "edge")
        #expect(y.shape == [4, 4])
        #expect(y.scalars == [1, 1, 2, 2,
                              1, 1, 2, 2,
                              3, 3, 4, 4,
                              3, 3, 4, 4])
    }

    @Test func reflectPadMirrorsWithoutRepeatingTheBorder() throws {
        // Rows [1 2 3], [4 5 6], [7 8 9]; two reflected rows above and one column either side.
        let y = try pad(Tensor(shape: [3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9]), pads: [2, 1, 0, 1], mode: "reflect")
        #expect(y.shape == [5, 5])
        #expect(y.scalars == [8, 7, 8, 9, 8,
                              5, 4, 5, 6, 5,
                              2, 1, 2, 3, 2,
                              5, 4, 5, 6, 5,
                              8, 7, 8, 9, 8])
    }

    @Test func negativePadsCrop() throws {
        let y = try pad(Tensor(shape: [3, 4]) { Float($0) }, pads: [-1, 0, 0, -2], mode: "constant")
        #expect(y.shape == [2, 2])
        #expect(y.scalars == [4, 5, 8, 9])
    }

    @Test func padAxesInputPadsOnlyTheNamedAxes() throws {
        // Axis −1 of a [2, 2, 2] tensor: one zero before, two after, on each innermost row.
        let y = try pad(Tensor(shape: [2, 2, 2]) { Float($0 + 1) }, pads: [1, 2], mode: "constant", axes: [-1])
        #expect(y.shape == [2, 2, 5])
        #expect(y.scalars == [0, 1, 2, 0, 0, 0, 3, 4, 0, 0, 0, 5, 6, 0, 0, 0, 7, 8, 0, 0])
    }

    @Test func padRejectsCroppingMoreThanTheInput() {
        #expect(throws: (any Error).self) {
            try pad(Tensor(shape: [2, 2], repeating: 1), pads: [0, -3, 0, 0], mode: "constant")
        }
    }
}
