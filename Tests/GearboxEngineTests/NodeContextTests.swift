// Tests for NodeContext, what an operator's lowering sees of its node: typed attribute accessors
// with their defaults and accepted forms, the checks on inputs and outputs, output definitions
// and views, axis normalisation, and constant folding at load — each error naming the node.

import Testing
@testable import GearboxEngine

@Suite struct NodeContextTests {
    /// A context for node "n1" (op "Foo") in a compiler whose values are `values` (name → constant
    /// or, when nil, a run-time graph input of that shape).
    static func context(attributes: [String: AttributeValue] = [:], inputs: [String] = [], outputs: [String] = ["y"],
                        values: [(name: String, shape: [Int], constant: ConstantTensor?)] = []) -> NodeContext {
        let graph = Graph(name: "g", nodes: [], initializers: [:], inputs: [], outputs: [], opsetVersion: 13)
        let compiler = ModelCompiler(graph: graph, options: EngineOptions(), source: "test.onnx")
        for value in values {
            _ = compiler.define(value.name, shape: value.shape, type: value.constant?.elementType ?? .float, constant: value.constant,
                                isGraphInput: value.constant == nil)
        }
        let node = GraphNode(name: "n1", opType: "Foo", domain: "", inputs: inputs, outputs: outputs, attributes: attributes)
        return NodeContext(node: node, label: NodeLabel(name: "n1", opType: "Foo"), compiler: compiler)
    }

    /// The reason of an invalid- or unsupported-node error naming node n1, or nil for other errors.
    static func reason(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let EngineError.invalidNode(node, op, reason) where node == "n1" && op == "Foo" {
            return "invalid: " + reason
        } catch let EngineError.unsupportedNode(node, op, reason) where node == "n1" && op == "Foo" {
            return "unsupported: " + reason
        } catch {
            return nil
        }
    }

    // MARK: Attributes

    @Test func attributeAccessorsReturnDefaultsAndAcceptTheirSingleValueForms() throws {
        let c = Self.context(attributes: ["axis": .ints([2]), "alpha": .int(3), "mode": .string("edge"), "pads": .int(1), "scales": .float(0.5)])
        #expect(try c.int("axis", default: 0) == 2, "a one-element list reads as an int")
        #expect(try c.int("missing", default: 7) == 7)
        #expect(try c.float("alpha", default: 0) == 3, "an int reads as a float")
        #expect(try c.float("missing", default: 0.25) == 0.25)
        #expect(try c.string("mode", default: "constant") == "edge")
        #expect(try c.string("missing", default: "constant") == "constant")
        #expect(try c.ints("pads") == [1], "an int reads as a one-element list")
        #expect(try c.ints("missing") == nil)
        #expect(try c.floats("scales") == [0.5])
        #expect(try c.floats("missing") == nil)
        #expect(c.has("mode") && !c.has("missing"))
    }

    @Test func attributesOfTheWrongKindAreInvalidAndNameTheAttribute() {
        let c = Self.context(attributes: ["axis": .string("x"), "alpha": .string("y"), "mode": .int(1), "pads": .float(1), "scales": .string("z"),
                                          "list": .ints([1, 2])])
        #expect(Self.reason { _ = try c.int("axis", default: 0) } == "invalid: attribute 'axis' should be an int")
        #expect(Self.reason { _ = try c.int("list", default: 0) } == "invalid: attribute 'list' should be an int", "two values are not one")
        #expect(Self.reason { _ = try c.float("alpha", default: 0) } == "invalid: attribute 'alpha' should be a float")
        #expect(Self.reason { _ = try c.string("mode", default: "") } == "invalid: attribute 'mode' should be a string")
        #expect(Self.reason { _ = try c.ints("pads") } == "invalid: attribute 'pads' should be a list of ints")
        #expect(Self.reason { _ = try c.floats("scales") } == "invalid: attribute 'scales' should be a list of floats")
    }

    @Test func unknownAndUnsupportedAttributesAreRefused() throws {
        let known = Self.context(attributes: ["axis": .int(1)])
        try known.allowAttributes(["axis", "keepdims"])
        // The first unknown name in sorted order, so the message is the same on every run.
        let unknown = Self.context(attributes: ["zeta": .int(1), "beta": .int(2), "axis": .int(1)])
        #expect(Self.reason { try unknown.allowAttributes(["axis"]) } == "unsupported: attribute 'beta'")
        let graphValued = Self.context(attributes: ["body": .unsupported(kind: "GRAPH")])
        #expect(Self.reason { try graphValued.allowAttributes(["body"]) } == "unsupported: attribute 'body' of kind GRAPH")
    }

    // MARK: Inputs and outputs

    @Test func omittedInputsAreNilAndRequiredOnesNameTheirRole() throws {
        let c = Self.context(inputs: ["x", "", "w"], values: [("x", [2], nil), ("w", [2], .float(Tensor(shape: [2], scalars: [1, 2])))])
        #expect(c.inputCount == 3)
        #expect(c.optionalInput(0) != nil)
        #expect(c.optionalInput(1) == nil, "an empty name marks an omitted input")
        #expect(c.optionalInput(5) == nil)
        #expect(Self.reason { _ = try c.input(1, "bias") } == "invalid: missing required input 1 (bias)")
        #expect(try c.floatConstantInput(2, "weights").scalars == [1, 2])
        #expect(Self.reason { _ = try c.constantInput(0, "shape") }
            == "unsupported: input 0 (shape) 'x' must be known at load (a constant), but is computed at run time; bind graph input 'x' as a constant at load")
    }

    @Test func integerInputsAreRefusedWhereFloatsAreComputed() {
        let c = Self.context(inputs: ["i"], values: [("i", [3], .integer(shape: [3], values: [1, 2, 3], type: .int64))])
        #expect(Self.reason { _ = try c.floatInput(0, "data") } == "unsupported: input 0 (data) has element type int64; the engine computes in float32")
        #expect(Self.reason { _ = try c.floatConstantInput(0, "data") } == "unsupported: input 0 (data) has element type int64, expected float32")
    }

    @Test func outputsBeyondWhatTheEngineProducesAreRefused() throws {
        let c = Self.context(outputs: ["y", "", "mask"])
        try c.allowOutputs(3)
        // Output 1 is omitted, so only output 2 is refused.
        #expect(Self.reason { try c.allowOutputs(1, "training only") } == "unsupported: output 2 'mask' (training only)")
        #expect(Self.reason { try Self.context(outputs: ["y", ""]).allowOutputs(1) } == nil, "omitted optional outputs are fine")
        #expect(Self.reason { _ = try c.outputName(1) } == "invalid: missing output 1")
    }

    @Test func outputShapesAreCheckedBeforeAnythingIsDefined() throws {
        let c = Self.context()
        #expect(try c.checkedCount([2, 3, 4]) == 24)
        #expect(try c.checkedCount([]) == 1, "a scalar has one element")
        #expect(Self.reason { _ = try c.checkedCount([2, -1]) } == "invalid: computed a negative dimension in shape [2, -1]")
        #expect(Self.reason { _ = try c.checkedCount([1 << 20, 1 << 20]) } == "invalid: output shape [1048576, 1048576] is too large")
        let before = c.compiler.values.count
        #expect(Self.reason { try c.defineOutput(0, shape: [Int.max, 2]) } != nil)
        #expect(c.compiler.values.count == before, "nothing was defined")
        let id = try c.defineOutput(0, shape: [3, 4])
        #expect(c.compiler.values[id].name == "y" && c.compiler.values[id].shape == [3, 4])
    }

    @Test func viewsOfRunTimeValuesAliasAndViewsOfConstantsAreConstants() throws {
        let runtime = Self.context(inputs: ["x"], values: [("x", [2, 3], nil)])
        let x = try runtime.input(0, "data")
        try runtime.defineAlias(0, of: x, shape: [6])
        let y = try #require(runtime.compiler.ids["y"])
        #expect(runtime.compiler.aliasOf[y] == x && runtime.compiler.values[y].shape == [6])
        #expect(Self.reason { try runtime.defineAlias(0, of: x, shape: [5]) } == "invalid: cannot view [2, 3] as [5]")

        let constant = Self.context(inputs: ["c"], values: [("c", [2, 2], .float(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])))])
        try constant.defineAlias(0, of: try constant.input(0, "data"), shape: [4])
        let folded = try #require(constant.compiler.ids["y"])
        guard case let .float(t)? = constant.compiler.values[folded].constant else {
            Issue.record("a view of a constant should be a constant")
            return
        }
        #expect(t.shape == [4] && t.scalars == [1, 2, 3, 4])
        #expect(constant.compiler.aliasOf[folded] == nil)
    }

    @Test func negativeAxesCountFromTheEndAndOutOfRangeOnesNameTheAxis() throws {
        let c = Self.context()
        #expect(try c.axis(-1, rank: 4) == 3)
        #expect(try c.axis(0, rank: 4) == 0)
        #expect(try c.axis(0, rank: 0) == 0, "a scalar's axis 0 is accepted")
        #expect(Self.reason { _ = try c.axis(4, rank: 4) } == "invalid: axis 4 is out of range for rank 4")
        #expect(Self.reason { _ = try c.axis(-5, rank: 4, what: "split axis") } == "invalid: split axis -5 is out of range for rank 4")
    }

    // MARK: Folding

    @Test func operationsOnConstantsRunOnceAtLoad() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4])
        b.addInitializer("c", Tensor(shape: [1, 4], scalars: [-1, 2, -3, 4]))
        // Relu(c) is known at load; only the Add with the run-time input remains a step.
        b.addOutput(b.add("x", b.unary("Relu", "c")))
        let model = try load(b)
        #expect(model.planLabels.map(\.opType) == ["Add"])
        let y = try #require(try model.run(["x": Tensor(shape: [1, 4], scalars: [10, 10, 10, 10])]).values.first)
        #expect(y.scalars == [10, 12, 10, 14])
    }
}
