// Tests for GearboxEngine/Broadcasting: NumPy's broadcasting rule for output shapes, and the
// collapsed row plan the element-wise operators run on, checked element by element against
// direct multi-index arithmetic.

import Testing
@testable import GearboxEngine

@Suite struct BroadcastingTests {
    @Test(arguments: [
        ([2, 3, 4], [4], [2, 3, 4]),
        ([2, 1, 4], [3, 1], [2, 3, 4]),
        ([1], [5, 6], [5, 6]),
        ([], [3], [3]),
        ([8, 1, 6, 1], [7, 1, 5], [8, 7, 6, 5]),
        ([1, 1], [1], [1, 1]),
    ])
    func compatibleShapesBroadcastAsNumPyDoes(a: [Int], b: [Int], expected: [Int]) {
        #expect(broadcastShape(a, b) == expected)
        #expect(broadcastShape(b, a) == expected)
    }

    @Test(arguments: [([3], [4]), ([2, 3], [3, 2]), ([2, 3, 4], [2, 4])])
    func incompatibleShapesHaveNoBroadcast(a: [Int], b: [Int]) {
        #expect(broadcastShape(a, b) == nil)
    }

    /// The flat index of the element of `shape` (right-aligned in `output`) that output index
    /// `index` reads, by the broadcasting rule itself.
    private func sourceIndex(_ index: [Int], output: [Int], shape: [Int]) -> Int {
        let padding = output.count - shape.count
        var flat = 0
        for axis in 0..<shape.count {
            let coordinate = shape[axis] == 1 ? 0 : index[axis + padding]
            flat = flat * shape[axis] + coordinate
        }
        return flat
    }

    @Test(arguments: [
        ([2, 3, 4], [4]),
        ([2, 3, 4], [3, 1]),
        ([2, 1, 4], [1, 3, 1]),
        ([5], [1]),
        ([1], [1]),
        ([2, 3, 1, 5], [3, 4, 1]),
        ([4, 1], [1, 4]),
    ])
    func thePlanReadsTheSameElementsAsTheBroadcastingRule(a: [Int], b: [Int]) throws {
        let output = try #require(broadcastShape(a, b))
        let plan = BroadcastPlan(output: output, a: a, b: b)
        let count = output.reduce(1, *)
        #expect(plan.rows * plan.inner == count)
        #expect(plan.aOffsets.count == plan.rows && plan.bOffsets.count == plan.rows)
        var index = [Int](repeating: 0, count: output.count)
        for flat in 0..<count {
            let row = flat / plan.inner, column = flat % plan.inner
            #expect(plan.aOffsets[row] + column * plan.aInnerStride == sourceIndex(index, output: output, shape: a),
                    "a at output \(index)")
            #expect(plan.bOffsets[row] + column * plan.bInnerStride == sourceIndex(index, output: output, shape: b),
                    "b at output \(index)")
            var axis = output.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < output[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
    }

    @Test func sameShapeInputsCollapseToOneContiguousRow() {
        let plan = BroadcastPlan(output: [2, 3, 4], a: [2, 3, 4], b: [2, 3, 4])
        #expect(plan.rows == 1 && plan.inner == 24)
        #expect(plan.aInnerStride == 1 && plan.bInnerStride == 1)
    }

    @Test func preluScalesOnlyNegativeInputs() {
        #expect(BinaryFunction.prelu(-2, 0.25) == -0.5)
        #expect(BinaryFunction.prelu(3, 0.25) == 3)
        #expect(Float.pow(3, 2) == 9 && Float.pow(9, 0.5) == 3 && Float.pow(2, 3) == 8)
    }
}
