// Tests for the load-time rewrites of `GraphFusion` on small hand-built models: BatchNormalization
// folded into the Conv before it, a residual Add folded into the Conv producing one operand,
// activations folded into the epilogue of their producer, and each rewrite refused when the
// intermediate value has another reader or the shapes or order do not allow it. Each fused plan
// is checked by its operator list and against the unfused plan's outputs.

import Testing
@testable import GearboxEngine

@Suite struct GraphFusionTests {
    static let unfused = EngineOptions(fusesOperators: false)

    /// The operator types of the plan's steps, without layout conversions.
    static func ops(_ model: InferenceModel) -> [String] {
        model.planLabels.map(\.opType).filter { $0 != "LayoutConversion" }
    }

    /// Loads `b` fused and unfused, checks that every output agrees within `tolerance`, and
    /// returns the fused model's and the unfused model's operator types.
    static func compare(_ b: ONNXModelBuilder, tolerance: Float = 1e-5, seed: UInt64 = 9) throws -> (fused: [String], plain: [String]) {
        let fused = try load(b), plain = try load(b, unfused)
        fused.fillInputsRandomly(seed: seed)
        plain.fillInputsRandomly(seed: seed)
        fused.run()
        plain.run()
        #expect(fused.outputs.map(\.name) == plain.outputs.map(\.name))
        for port in plain.outputs {
            let a = try fused.output(named: port.name), e = try plain.output(named: port.name)
            #expect(a.shape == e.shape, "\(port.name)")
            #expect(maxRelativeError(a, e) < tolerance, "\(port.name): fused and unfused plans disagree")
        }
        return (ops(fused), ops(plain))
    }

    static func count(_ op: String, _ list: [String]) -> Int { list.count(where: { $0 == op }) }

    static func convWeights(_ out: Int, _ input: Int, seed: UInt64) -> Tensor { Tensor.random(shape: [out, input, 3, 3], seed: seed) }

    /// BatchNormalization parameters with a clearly non-trivial scale and shift.
    static func batchNorm(_ b: inout ONNXModelBuilder, _ x: String, channels: Int, seed: UInt64) -> String {
        b.batchNormalization(x, scale: Tensor.random(shape: [channels], seed: seed, in: 0.5...2),
                             bias: Tensor.random(shape: [channels], seed: seed + 1, in: -1...1),
                             mean: Tensor.random(shape: [channels], seed: seed + 2, in: -0.5...0.5),
                             variance: Tensor.random(shape: [channels], seed: seed + 3, in: 0.25...2))
    }

    // MARK: BatchNormalization

    @Test func batchNormFoldsIntoThePrecedingConv() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 3, 10, 10])
        let c = b.conv("x", weights: Self.convWeights(8, 3, seed: 1), bias: Tensor.random(shape: [8], seed: 2), pads: [1, 1, 1, 1])
        let bn = Self.batchNorm(&b, c, channels: 8, seed: 3)
        b.addOutput(bn)
        let (fused, plain) = try Self.compare(b)
        #expect(fused == ["Conv"])
        #expect(plain == ["Conv", "BatchNormalization"])
    }

    @Test func batchNormFoldsIntoAConvWithoutBias() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4, 8, 8])
        let c = b.conv("x", weights: Self.convWeights(4, 1, seed: 4), pads: [1, 1, 1, 1], group: 4)
        let bn = Self.batchNorm(&b, c, channels: 4, seed: 5)
        b.addOutput(bn)
        let (fused, _) = try Self.compare(b)
        #expect(fused == ["Conv"], "a depthwise Conv without bias takes the shift as its bias")
    }

    @Test func batchNormOfAConvOutputReadTwiceIsNotFolded() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 3, 8, 8])
        let c = b.conv("x", weights: Self.convWeights(6, 3, seed: 6), pads: [1, 1, 1, 1])
        let bn = Self.batchNorm(&b, c, channels: 6, seed: 7)
        b.addOutput(bn)
        b.addOutput(c)  // the Conv's own result is also wanted
        let (fused, _) = try Self.compare(b)
        #expect(Self.count("BatchNormalization", fused) == 1)
    }

    @Test func batchNormAfterAnActivationIsNotFolded() throws {
        // Conv → Relu → BN: folding the BN into the Conv would move it before the Relu.
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 3, 8, 8])
        let c = b.relu(b.conv("x", weights: Self.convWeights(5, 3, seed: 8), pads: [1, 1, 1, 1]))
        let bn = Self.batchNorm(&b, c, channels: 5, seed: 9)
        b.addOutput(bn)
        let (fused, _) = try Self.compare(b)
        #expect(Self.count("BatchNormalization", fused) == 1)
        #expect(Self.count("Relu", fused) == 0, "the Relu still runs in the Conv's epilogue")
    }

    @Test func batchNormOfAGraphInputTakesAnActivation() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4, 6, 6])
        let bn = Self.batchNorm(&b, "x", channels: 4, seed: 10)
        b.addOutput(b.relu(bn))
        let (fused, plain) = try Self.compare(b)
        #expect(fused == ["BatchNormalization"], "the Relu runs in the BatchNormalization's epilogue")
        #expect(plain == ["BatchNormalization", "Relu"])
    }

    // MARK: Residual Add

    @Test func aResidualAddFoldsIntoTheConv() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 6, 9, 9])
        let c = b.conv("x", weights: Self.convWeights(6, 6, seed: 11), bias: Tensor.random(shape: [6], seed: 12), pads: [1, 1, 1, 1])
        b.addOutput(b.add(c, "x"))
        let (fused, plain) = try Self.compare(b)
        #expect(fused == ["Conv"])
        #expect(plain == ["Conv", "Add"])
    }

    @Test func aResidualAddFoldsWhicheverSideTheConvIsOn() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 6, 9, 9])
        let c = b.conv("x", weights: Self.convWeights(6, 6, seed: 13), pads: [1, 1, 1, 1])
        b.addOutput(b.add("x", c))
        let (fused, _) = try Self.compare(b)
        #expect(fused == ["Conv"])
    }

    @Test func addOfTwoConvsFoldsIntoOneOfThem() throws {
        // A ResNet projection shortcut: conv(x) + conv'(x).
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4, 8, 8])
        let main = b.conv("x", weights: Self.convWeights(8, 4, seed: 14), pads: [1, 1, 1, 1])
        let shortcut = b.conv("x", weights: Tensor.random(shape: [8, 4, 1, 1], seed: 15))
        b.addOutput(b.relu(b.add(main, shortcut)))
        let (fused, plain) = try Self.compare(b)
        #expect(fused == ["Conv", "Conv"], "the Add and the Relu run in the second Conv's epilogue")
        #expect(plain == ["Conv", "Conv", "Add", "Relu"])
    }

    @Test func convBatchNormAddReluBecomesOneConv() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 8, 7, 7])
        let c = b.conv("x", weights: Self.convWeights(8, 8, seed: 16), pads: [1, 1, 1, 1])
        let bn = Self.batchNorm(&b, c, channels: 8, seed: 17)
        b.addOutput(b.relu(b.add(bn, "x")))
        let (fused, plain) = try Self.compare(b)
        #expect(fused == ["Conv"])
        #expect(plain == ["Conv", "BatchNormalization", "Add", "Relu"])
    }

    @Test func aBroadcastingAddIsNotFolded() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4, 6, 6])
        b.addInitializer("shift", Tensor.random(shape: [1, 4, 1, 1], seed: 18))
        let c = b.conv("x", weights: Self.convWeights(4, 4, seed: 19), pads: [1, 1, 1, 1])
        b.addOutput(b.add(c, "shift"))
        let (fused, _) = try Self.compare(b)
        #expect(Self.count("Add", fused) == 1, "the other operand is not the Conv's shape")
    }

    @Test func addingAConvOutputToItselfIsNotFolded() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4, 6, 6])
        let c = b.conv("x", weights: Self.convWeights(4, 4, seed: 20), pads: [1, 1, 1, 1])
        b.addOutput(b.add(c, c))
        let (fused, _) = try Self.compare(b)
        #expect(Self.count("Add", fused) == 1)
    }

    @Test func aConvOutputReadTwiceKeepsItsAdd() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4, 6, 6])
        let c = b.conv("x", weights: Self.convWeights(4, 4, seed: 21), pads: [1, 1, 1, 1])
        b.addOutput(b.add(c, "x"))
        b.addOutput(b.unary("Neg", c))
        let (fused, _) = try Self.compare(b)
        #expect(Self.count("Add", fused) == 1)
    }

    @Test func anOperandComputedAfterTheConvIsNotReadBeforeItExists() throws {
        // The Neg runs after the Conv: the Conv cannot add it in its epilogue.
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 4, 6, 6])
        let c = b.conv("x", weights: Self.convWeights(4, 4, seed: 22), pads: [1, 1, 1, 1])
        let n = b.unary("Neg", "x")
        b.addOutput(b.add(c, n))
        let (fused, _) = try Self.compare(b)
        let conv = try #require(fused.firstIndex(of: "Conv")), neg = try #require(fused.firstIndex(of: "Neg"))
        #expect(neg < conv || Self.count("Add", fused) == 1, "either the Neg moved before the Conv or the Add stays: \(fused)")
    }

    // MARK: Activations

    struct ActivationCase: CustomTestStringConvertible, Sendable {
        var op: String
        var attributes: [String: Float] = [:]
        var testDescription: String { op }
    }

    static let fusable: [ActivationCase] = [
        ActivationCase(op: "Relu"), ActivationCase(op: "LeakyRelu", attributes: ["alpha": 0.1]), ActivationCase(op: "Sigmoid"),
        ActivationCase(op: "HardSigmoid", attributes: ["alpha": 0.3, "beta": 0.4]), ActivationCase(op: "Tanh"), ActivationCase(op: "Clip"),
    ]

    static func applying(_ a: ActivationCase, to x: String, _ b: inout ONNXModelBuilder) -> String {
        if a.op == "Clip" {
            b.addInitializer("lo", Tensor(shape: [], scalars: [-0.5]))
            b.addInitializer("hi", Tensor(shape: [], scalars: [0.5]))
            b.addNode("Clip", inputs: [x, "lo", "hi"], outputs: ["clipped"])
            return "clipped"
        }
        return b.unary(a.op, x, attributes: a.attributes.mapValues { .float($0) })
    }

    @Test(arguments: fusable)
    func fusableActivationsRunInTheConvEpilogue(_ a: ActivationCase) throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 3, 8, 8])
        let c = b.conv("x", weights: Self.convWeights(8, 3, seed: 23), bias: Tensor.random(shape: [8], seed: 24), pads: [1, 1, 1, 1])
        let activated = Self.applying(a, to: c, &b)
        b.addOutput(activated)
        let (fused, plain) = try Self.compare(b)
        #expect(fused == ["Conv"])
        #expect(plain == ["Conv", a.op])
    }

    @Test(arguments: fusable)
    func fusableActivationsRunInTheGemmEpilogue(_ a: ActivationCase) throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [2, 12])
        let y = b.linear("x", weights: Tensor.random(shape: [5, 12], seed: 25), bias: Tensor.random(shape: [5], seed: 26))
        let activated = Self.applying(a, to: y, &b)
        b.addOutput(activated)
        let (fused, plain) = try Self.compare(b)
        #expect(fused == ["Gemm"])
        #expect(plain == ["Gemm", a.op])
    }

    @Test func anActivationRunsInTheEpilogueOfAnElementwiseAdd() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 64])
        b.addInput("y", shape: [1, 64])
        b.addOutput(b.unary("Sigmoid", b.add("x", "y")))
        let (fused, plain) = try Self.compare(b)
        #expect(fused == ["Add"])
        #expect(plain == ["Add", "Sigmoid"])
    }

    @Test(arguments: ["Exp", "Softplus", "Neg", "Abs"])
    func otherElementwiseFunctionsStayAsTheirOwnSteps(op: String) throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 3, 6, 6])
        b.addOutput(b.unary(op, b.conv("x", weights: Self.convWeights(4, 3, seed: 27), pads: [1, 1, 1, 1])))
        let (fused, _) = try Self.compare(b)
        #expect(fused == ["Conv", op])
    }

    @Test func anActivationOfAValueReadTwiceIsNotFused() throws {
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 3, 6, 6])
        let c = b.conv("x", weights: Self.convWeights(4, 3, seed: 28), pads: [1, 1, 1, 1])
        b.addOutput(b.relu(c))
        b.addOutput(c)
        let (fused, _) = try Self.compare(b)
        #expect(Self.count("Relu", fused) == 1)
        let model = try load(b)
        model.fillInputsRandomly(seed: 4)
        model.run()
        let raw = try model.output(named: c)
        #expect(raw.scalars.contains { $0 < 0 }, "the Conv's own output is not clamped by the Relu")
    }

    @Test func onlyOneActivationIsFusedIntoAProducer() throws {
        // Conv → Relu → Sigmoid: the Relu joins the Conv, the Sigmoid stays its own step.
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 3, 6, 6])
        b.addOutput(b.unary("Sigmoid", b.relu(b.conv("x", weights: Self.convWeights(4, 3, seed: 29), pads: [1, 1, 1, 1]))))
        let (fused, _) = try Self.compare(b)
        #expect(fused == ["Conv", "Sigmoid"])
    }
}
