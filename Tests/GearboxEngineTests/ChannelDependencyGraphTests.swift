// Tests for GearboxEngine/ChannelDependencyGraph: which layer makes which channel elements, which
// tensor slices each element indexes, how residual Adds tie elements into classes, how depthwise
// Convs, Concat and flattening Reshapes carry them, and what blocks an element (model input and
// output, an operator the analysis does not follow, weights shared by two nodes).

import Testing
@testable import GearboxEngine

@Suite struct ChannelDependencyGraphTests {
    static func analyse(_ b: ONNXModelBuilder) throws -> ChannelDependencyGraph {
        let graph = try ONNXImporter.graph(from: try b.serializedData(), source: b.graphName)
        return try ChannelDependencyGraph(graph: graph, source: b.graphName)
    }

    static func w(_ shape: [Int], _ seed: UInt64) -> Tensor { Tensor.random(shape: shape, seed: seed, in: -0.5...0.5) }

    /// The elements of the source named `name` ("input x" for a graph input, else a node name).
    static func elements(_ d: ChannelDependencyGraph, _ name: String) throws -> [Int] {
        Array(try #require(d.sources.first { $0.name == name }, "no source \(name)").range)
    }

    /// "initializer[axis]" of every member indexed by exactly `positions`, sorted.
    static func slices(_ d: ChannelDependencyGraph, _ positions: [Int]) -> [String] {
        d.members.filter { $0.positions == positions }.map { "\($0.initializer)[\($0.axis)]" }.sorted()
    }

    /// Ends a graph on `y`: global average pool → flatten → fc with `outputs` features.
    static func classifier(_ b: inout ONNXModelBuilder, _ y: String, channels: Int, outputs: Int, seed: UInt64 = 99) {
        let features = b.flatten(b.globalAveragePool(y))
        b.addOutput(b.linear(features, weights: w([outputs, channels], seed), name: "fc"))
    }

    // MARK: Chains

    /// x [1, 2, 8, 8] → c1 (4 filters) → BatchNorm → ReLU → c2 (6 filters) → pool → flatten → fc (3).
    @Test func aChainGivesEachLayerItsOwnElementsAndCarriesThemThroughBatchNormAndReLU() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 2, 8, 8])
        var y = b.conv("x", weights: Self.w([4, 2, 3, 3], 1), bias: Self.w([4], 2), pads: [1, 1, 1, 1], name: "c1")
        y = b.batchNormalization(y, scale: Self.w([4], 3), bias: Self.w([4], 4), mean: Self.w([4], 5),
                                 variance: Tensor(shape: [4], repeating: 1), name: "bn")
        y = b.conv(b.relu(y), weights: Self.w([6, 4, 3, 3], 6), pads: [1, 1, 1, 1], name: "c2")
        Self.classifier(&b, y, channels: 6, outputs: 3)
        let d = try Self.analyse(b)

        // BatchNorm, ReLU, pooling and Flatten make no channels of their own.
        #expect(d.sources.map(\.name) == ["input x", "c1", "c2", "fc"])
        #expect(d.sources.map(\.range.count) == [2, 4, 6, 3])
        let x = try Self.elements(d, "input x"), c1 = try Self.elements(d, "c1")
        let c2 = try Self.elements(d, "c2"), fc = try Self.elements(d, "fc")
        // Nothing ties two elements: each of the 15 is its own class.
        #expect((0..<15).allSatisfy { d.find($0) == $0 })
        // c1's channels index its filters and bias, the four BatchNorm vectors and c2's input axis.
        #expect(Self.slices(d, c1) == ["bn.bias[0]", "bn.mean[0]", "bn.scale[0]", "bn.var[0]", "c1.bias[0]", "c1.weight[0]", "c2.weight[1]"])
        #expect(Self.slices(d, x) == ["c1.weight[1]"])
        // fc is a Gemm with transB: [out, in], so c2's channels are its axis 1.
        #expect(Self.slices(d, c2) == ["c2.weight[0]", "fc.weight[1]"])
        #expect(Self.slices(d, fc) == ["fc.weight[0]"])
        #expect(d.members.first { $0.initializer == "bn.scale" }?.role == .batchNormScale)
        #expect(d.members.first { $0.initializer == "bn.mean" }?.role == .statistic)
        // Only the model's input and output channels are blocked.
        #expect(Set(d.blocked.keys) == Set(x + fc))
        #expect(d.blocked[x[0]] == "model input channels")
        #expect(d.blocked[fc[0]] == "model output fc.out")
        // BatchNorm's shift maps 0 elsewhere; ReLU and average pooling keep 0.
        #expect(d.notZeroPreserving == Set(c1))
        #expect(d.fixes.isEmpty)
    }

    // MARK: Residual ties

    /// x → s (8) → ReLU r → b1 (8) → ReLU → b2 (8) → Add(b2, r) → ReLU → head (5, 1×1) → pool → flatten → fc (2).
    static func residual() -> ONNXModelBuilder {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 3, 8, 8])
        let r = b.relu(b.conv("x", weights: w([8, 3, 3, 3], 1), pads: [1, 1, 1, 1], name: "s"))
        let inner = b.relu(b.conv(r, weights: w([8, 8, 3, 3], 2), pads: [1, 1, 1, 1], name: "b1"))
        let sum = b.add(b.conv(inner, weights: w([8, 8, 3, 3], 3), pads: [1, 1, 1, 1], name: "b2"), r)
        let head = b.conv(b.relu(sum), weights: w([5, 8, 1, 1], 4), name: "head")
        classifier(&b, head, channels: 5, outputs: 2)
        return b
    }

    @Test func aResidualAddTiesItsBranchesChannelByChannel() throws {
        let d = try Self.analyse(Self.residual())
        let s = try Self.elements(d, "s"), b1 = try Self.elements(d, "b1"), b2 = try Self.elements(d, "b2")
        // Channel i of the shortcut and channel i of b2 are one class, and only with each other.
        #expect(s.map(d.find) == b2.map(d.find))
        #expect(Set(s.map(d.find)).count == 8)
        #expect(Set(b1.map(d.find)).count == 8)
        #expect(Set(s.map(d.find)).isDisjoint(with: b1.map(d.find)))
        // head reads the sum: its input axis is indexed by the tied classes in channel order.
        let headInput = try #require(d.members.first { $0.initializer == "head.weight" && $0.axis == 1 })
        #expect(headInput.role == .consumer)
        #expect(headInput.positions.map(d.find) == s.map(d.find))
        // An Add of two branches maps 0 + 0 to 0; no BatchNorm here.
        #expect(d.notZeroPreserving.isEmpty)
        #expect(Set(d.blocked.keys) == Set(try Self.elements(d, "input x") + Self.elements(d, "fc")))
    }

    @Test func theTiedBranchesArePrunedAsOneGroup() throws {
        let b = Self.residual()
        let groups = try StructuredPruning(onnx: try b.serializedData(), source: b.graphName).groups
        // input, shortcut s + b2, b1, head, fc.
        #expect(groups.count == 5)
        let tied = try #require(groups.first { $0.producers.contains("s") })
        #expect(tied.producers == ["s", "b2"])
        #expect(tied.channels == 8)
        #expect(tied.prunable)
        #expect(Set(tied.members) == ["s.weight[0]", "b2.weight[0]", "b1.weight[1]", "head.weight[1]"])
        let inner = try #require(groups.first { $0.producers == ["b1"] })
        #expect(inner.channels == 8 && inner.prunable)
        #expect(groups.first { $0.producers == ["fc"] }?.prunable == false)
    }

    // MARK: Operators that carry channels

    /// x → c1 (6, 1×1) → depthwise dw (6 groups) → ReLU → c2 (4, 1×1) → pool → flatten → fc (2).
    @Test func aDepthwiseConvCarriesItsInputChannelsAndFixesItsGroupCount() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 2, 6, 6])
        let c1out = b.conv("x", weights: Self.w([6, 2, 1, 1], 1), name: "c1")
        let dw = b.conv(c1out, weights: Self.w([6, 1, 3, 3], 2), bias: Self.w([6], 3), pads: [1, 1, 1, 1], group: 6, name: "dw")
        let c2out = b.conv(b.relu(dw), weights: Self.w([4, 6, 1, 1], 4), name: "c2")
        Self.classifier(&b, c2out, channels: 4, outputs: 2)
        let d = try Self.analyse(b)

        #expect(d.sources.map(\.name) == ["input x", "c1", "c2", "fc"])
        let c1 = try Self.elements(d, "c1")
        // Filter c of dw and its bias belong to channel c of c1.
        #expect(Self.slices(d, c1) == ["c1.weight[0]", "c2.weight[1]", "dw.bias[0]", "dw.weight[0]"])
        #expect(d.fixes.count == 1)
        if case let .depthwiseGroup(node, positions)? = d.fixes.first {
            #expect(node == 1)
            #expect(positions == c1)
        } else {
            Issue.record("expected a depthwise group fix, got \(d.fixes)")
        }
        #expect(Set(c1).isDisjoint(with: d.blocked.keys))
    }

    /// x → c1 (3) and c2 (2), both 1×1 → Concat on channels → c3 (4) → pool → flatten → fc (2).
    @Test func aChannelConcatLaysItsInputsElementsEndToEnd() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 2, 6, 6])
        let c1out = b.conv("x", weights: Self.w([3, 2, 1, 1], 1), name: "c1")
        let c2out = b.conv("x", weights: Self.w([2, 2, 1, 1], 2), name: "c2")
        b.addNode("Concat", inputs: [c1out, c2out], outputs: ["cat"], name: "cat", attributes: ["axis": .int(1)])
        let c3out = b.conv("cat", weights: Self.w([4, 5, 1, 1], 3), name: "c3")
        Self.classifier(&b, c3out, channels: 4, outputs: 2)
        let d = try Self.analyse(b)

        let c3Input = try #require(d.members.first { $0.initializer == "c3.weight" && $0.axis == 1 })
        #expect(c3Input.positions == (try Self.elements(d, "c1")) + (try Self.elements(d, "c2")))
        // Concat on channels ties nothing.
        #expect((0..<(d.sources.last?.range.upperBound ?? 0)).allSatisfy { d.find($0) == $0 })
    }

    /// x [1, 1, 4, 4] → c1 (2) → 2×2 max pool → Reshape to the constant [1, 8] → fc (3).
    @Test func aFlatteningReshapeRepeatsEachChannelOverItsPixelsAndRewritesItsShape() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 1, 4, 4])
        let pooled = b.maxPool(b.conv("x", weights: Self.w([2, 1, 3, 3], 1), pads: [1, 1, 1, 1], name: "c1"), kernel: [2, 2], strides: [2, 2])
        b.addInitializer("flat.shape", int64s: [1, 8], shape: [2])
        b.addNode("Reshape", inputs: [pooled, "flat.shape"], outputs: ["flat"], name: "flat")
        b.addOutput(b.linear("flat", weights: Self.w([3, 8], 2), name: "fc"))
        let d = try Self.analyse(b)

        let c1 = try Self.elements(d, "c1")
        let fcInput = try #require(d.members.first { $0.initializer == "fc.weight" && $0.axis == 1 })
        // Features 0–3 are channel 0's 2×2 pixels, features 4–7 channel 1's.
        #expect(fcInput.positions == [c1[0], c1[0], c1[0], c1[0], c1[1], c1[1], c1[1], c1[1]])
        #expect(d.fixes.count == 1)
        if case let .flattenShape(initializer)? = d.fixes.first {
            #expect(initializer == "flat.shape")
        } else {
            Issue.record("expected a flatten shape fix, got \(d.fixes)")
        }
        #expect(Set(c1).isDisjoint(with: d.blocked.keys))
    }

    /// x → c1 (4) + shift [1,4,1,1] → c2 (4) · gain [4,1,1] → c3 (4) → Sigmoid → c4 (3) → Clip[0, 6] → pool → flatten → fc (2).
    @Test func constantOperandsAreSlicedAlongTheirChannelAxisAndOperatorsThatMoveZeroAreRecorded() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 2, 6, 6])
        b.addInitializer("shift", Self.w([1, 4, 1, 1], 1))
        b.addInitializer("gain", Self.w([4, 1, 1], 2))
        b.addInitializer("lo", Tensor(shape: [], scalars: [0]))
        b.addInitializer("hi", Tensor(shape: [], scalars: [6]))
        let shifted = b.add(b.conv("x", weights: Self.w([4, 2, 1, 1], 3), name: "c1"), "shift")
        let scaled = b.binary("Mul", b.conv(shifted, weights: Self.w([4, 4, 1, 1], 4), name: "c2"), "gain")
        let squashed = b.unary("Sigmoid", b.conv(scaled, weights: Self.w([4, 4, 1, 1], 5), name: "c3"))
        let c4out = b.conv(squashed, weights: Self.w([3, 4, 1, 1], 6), name: "c4")
        b.addNode("Clip", inputs: [c4out, "lo", "hi"], outputs: ["clipped"], name: "clip")
        Self.classifier(&b, "clipped", channels: 3, outputs: 2)
        let d = try Self.analyse(b)

        let c1 = try Self.elements(d, "c1"), c2 = try Self.elements(d, "c2"), c3 = try Self.elements(d, "c3")
        // shift [1, 4, 1, 1] is indexed on axis 1; gain [4, 1, 1] broadcasts as [1, 4, 1, 1], so on its axis 0.
        #expect(Self.slices(d, c1) == ["c1.weight[0]", "c2.weight[1]", "shift[1]"])
        #expect(Self.slices(d, c2) == ["c2.weight[0]", "c3.weight[1]", "gain[0]"])
        #expect(d.members.first { $0.initializer == "gain" }?.role == .perChannel)
        // Adding a constant and Sigmoid (σ(0) = ½) move 0; Mul by a constant and Clip to [0, 6] keep it.
        #expect(d.notZeroPreserving == Set(c1 + c3))
        #expect(d.members.allSatisfy { $0.initializer != "lo" && $0.initializer != "hi" })
    }

    // MARK: Blocking

    /// x → c1 (4, 1×1) → g (4, 3×3, 2 groups) → c3 (3, 1×1) → pool → flatten → fc (2).
    @Test func aGroupedConvBlocksWhatReachesItAndWhatItMakes() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 2, 6, 6])
        let c1out = b.conv("x", weights: Self.w([4, 2, 1, 1], 1), name: "c1")
        let gout = b.conv(c1out, weights: Self.w([4, 2, 3, 3], 2), pads: [1, 1, 1, 1], group: 2, name: "g")
        let c3out = b.conv(gout, weights: Self.w([3, 4, 1, 1], 3), name: "c3")
        Self.classifier(&b, c3out, channels: 3, outputs: 2)
        let d = try Self.analyse(b)

        #expect(d.sources.map(\.name) == ["input x", "c1", "g", "c3", "fc"])
        let why = "Conv g: grouped convolution with 2 groups over 4 channels is not followed"
        let c1 = try Self.elements(d, "c1"), g = try Self.elements(d, "g"), c3 = try Self.elements(d, "c3")
        #expect(c1.allSatisfy { d.blocked[$0] == why })
        #expect(g.count == 4 && g.allSatisfy { d.blocked[$0] == why })
        #expect(Set(c3).isDisjoint(with: d.blocked.keys))
        #expect(d.members.allSatisfy { $0.initializer != "g.weight" })
    }

    /// x → a (4, 1×1) → ReLU → p (4, 1×1, weights "shared") → ReLU → q (4, 1×1, the same "shared") → pool → flatten → fc (2).
    @Test func weightsReadByTwoNodesBlockEveryElementTheyIndex() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 2, 6, 6])
        b.addInitializer("shared", Self.w([4, 4, 1, 1], 2))
        let aout = b.relu(b.conv("x", weights: Self.w([4, 2, 1, 1], 1), name: "a"))
        b.addNode("Conv", inputs: [aout, "shared"], outputs: ["p.out"], name: "p", attributes: ["kernel_shape": .ints([1, 1])])
        b.addNode("Conv", inputs: [b.relu("p.out"), "shared"], outputs: ["q.out"], name: "q", attributes: ["kernel_shape": .ints([1, 1])])
        Self.classifier(&b, "q.out", channels: 4, outputs: 2)
        let d = try Self.analyse(b)

        let why = "weights shared are shared by several nodes"
        // a's channels are p's input axis, p's and q's are the shared filters; fc's own weights are not shared.
        for name in ["a", "p", "q"] {
            #expect(try Self.elements(d, name).allSatisfy { d.blocked[$0] == why }, "\(name)")
        }
        #expect(try Self.elements(d, "fc").allSatisfy { d.blocked[$0] == "model output fc.out" })
    }
}
