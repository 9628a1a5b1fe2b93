// Tests for the element-wise functions (`Activation`, `UnaryStep`): every case against its
// textbook formula in Double, the edges (sign of zero, large magnitudes, thresholds), in-place
// and out-of-place application, which functions may be fused and which are clamps, and the
// step's tasks covering the whole value.

import Foundation
import Testing
@testable import GearboxEngine

@Suite struct ActivationTests {
    /// Inputs over the whole real line, with the points where the functions change behaviour.
    static let inputs: [Float] = [-1000, -100, -20.5, -6, -3, -2.5, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 2.5, 3, 6, 19.9, 20, 20.1, 50, 100, 1000]
    /// Inputs inside the domains of log, sqrt and reciprocal.
    static let positive: [Float] = [1e-6, 1e-3, 0.25, 0.5, 1, 2, 3.75, 10, 1e3, 1e6]

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var activation: Activation
        var positiveOnly = false
        var reference: @Sendable (Double) -> Double
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "identity", activation: .identity) { $0 },
        Case(name: "relu", activation: .relu) { max($0, 0) },
        Case(name: "leakyRelu", activation: .leakyRelu(alpha: 0.1)) { $0 < 0 ? 0.1 * $0 : $0 },
        Case(name: "clip", activation: .clip(min: -1.5, max: 2)) { min(max($0, -1.5), 2) },
        Case(name: "sigmoid", activation: .sigmoid) { 1 / (1 + Foundation.exp(-$0)) },
        Case(name: "hardSigmoid", activation: .hardSigmoid(alpha: 0.2, beta: 0.5)) { min(max(0.2 * $0 + 0.5, 0), 1) },
        Case(name: "hardSwish", activation: .hardSwish) { $0 * min(max($0 + 3, 0), 6) / 6 },
        Case(name: "tanh", activation: .tanh) { Foundation.tanh($0) },
        Case(name: "neg", activation: .neg) { -$0 },
        Case(name: "abs", activation: .abs) { Swift.abs($0) },
        Case(name: "exp", activation: .exp) { Foundation.exp($0) },
        Case(name: "log", activation: .log, positiveOnly: true) { Foundation.log($0) },
        Case(name: "sqrt", activation: .sqrt, positiveOnly: true) { $0.squareRoot() },
        Case(name: "reciprocal", activation: .reciprocal, positiveOnly: true) { 1 / $0 },
        Case(name: "floor", activation: .floor) { $0.rounded(.down) },
        Case(name: "ceil", activation: .ceil) { $0.rounded(.up) },
        Case(name: "elu", activation: .elu(alpha: 1.5)) { $0 < 0 ? 1.5 * (Foundation.exp($0) - 1) : $0 },
        Case(name: "selu", activation: .selu(alpha: 1.6732632, gamma: 1.050701)) { 1.050701 * ($0 <= 0 ? 1.6732632 * (Foundation.exp($0) - 1) : $0) },
        Case(name: "softplus", activation: .softplus) { max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) },
        Case(name: "softsign", activation: .softsign) { $0 / (1 + Swift.abs($0)) },
        Case(name: "thresholdedRelu", activation: .thresholdedRelu(alpha: 1)) { $0 > 1 ? $0 : 0 },
    ]

    /// Applies `a` out of place and in place; returns both results.
    static func apply(_ a: Activation, _ x: [Float]) -> (outOfPlace: [Float], inPlace: [Float]) {
        var out = [Float](repeating: .nan, count: x.count), inPlace = x
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                a.apply(from: s, to: d, x.count)
            }
        }
        inPlace.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            a.apply(base, p.count)
        }
        return (out, inPlace)
    }

    @Test(arguments: cases)
    func everyFunctionMatchesItsFormula(_ c: Case) {
        let x = c.positiveOnly ? Self.positive : Self.inputs
        let (y, inPlace) = Self.apply(c.activation, x)
        for (input, output) in zip(x, y) {
            let expected = Float(c.reference(Double(input)))
            if expected.isInfinite || output.isInfinite {
                #expect(output == expected, "\(c.name)(\(input)) = \(output), expected \(expected)")
            } else {
                let error = abs(output - expected) / max(1, abs(expected))
                #expect(error < 2e-6, "\(c.name)(\(input)) = \(output), expected \(expected)")
            }
        }
        #expect(inPlace.map(\.bitPattern) == y.map(\.bitPattern), "\(c.name): in place gives the same bits")
    }

    @Test func exactFunctionsAreExact() {
        // No rounding is involved in these: the results must be exact.
        for c in Self.cases where ["identity", "relu", "clip", "neg", "abs", "floor", "ceil", "thresholdedRelu"].contains(c.name) {
            let (y, _) = Self.apply(c.activation, Self.inputs)
            #expect(y == Self.inputs.map { Float(c.reference(Double($0))) }, "\(c.name)")
        }
    }

    @Test func sigmoidAndSoftplusStayFiniteAtLargeMagnitudes() {
        let x: [Float] = [-1e30, -1000, -89, 89, 1000, 1e30]
        let sigmoid = Self.apply(.sigmoid, x).outOfPlace
        #expect(sigmoid.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        #expect(sigmoid.first == 0 && sigmoid.last == 1)
        #expect(zip(sigmoid, sigmoid.dropFirst()).allSatisfy { $0 <= $1 }, "monotonic")
        let softplus = Self.apply(.softplus, [-1000, 30, 100, 1e30]).outOfPlace
        #expect(softplus == [0, 30, 100, 1e30], "softplus(x) is x above 20 and vanishes far below 0")
        let hardSwish = Self.apply(.hardSwish, [-3, -4, 3, 4]).outOfPlace
        #expect(hardSwish == [0, 0, 3, 4], "zero from -3 down, the identity from 3 up")
    }

    @Test func identityCopiesAndLeavesTheRestAlone() {
        let x: [Float] = [1, -2, .infinity, -0.0, 5]
        var out: [Float] = [9, 9, 9, 9, 9, 9]
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                Activation.identity.apply(from: s, to: d, 4)
            }
        }
        #expect(out.map(\.bitPattern) == ([1, -2, .infinity, -0.0, 9, 9] as [Float]).map(\.bitPattern))
    }

    @Test func onlyEpilogueFunctionsAreFusable() {
        let fusable: Set<String> = ["identity", "relu", "leakyRelu", "clip", "sigmoid", "hardSigmoid", "hardSwish", "tanh"]
        for c in Self.cases { #expect(c.activation.isFusable == fusable.contains(c.name), "\(c.name)") }
    }

    @Test func clampBoundsDescribeExactlyTheClampingFunctions() throws {
        let identity = try #require(Activation.identity.clampBounds)
        #expect(identity.lower == -.infinity && identity.upper == .infinity)
        let relu = try #require(Activation.relu.clampBounds)
        #expect(relu.lower == 0 && relu.upper == .infinity)
        let clip = try #require(Activation.clip(min: -1, max: 6).clampBounds)
        #expect(clip.lower == -1 && clip.upper == 6)
        // Applying a clamp through its bounds gives the function itself.
        for c in Self.cases {
            guard let bounds = c.activation.clampBounds else { continue }
            let (y, _) = Self.apply(c.activation, Self.inputs)
            #expect(y == Self.inputs.map { min(max($0, bounds.lower), bounds.upper) }, "\(c.name)")
        }
        for c in Self.cases where !["identity", "relu", "clip"].contains(c.name) {
            #expect(c.activation.clampBounds == nil, "\(c.name) is not a clamp")
        }
    }

    @Test(arguments: [0, 1, 7, 16_384, 16_385, 40_000, 100_003])
    func theStepCoversTheWholeValueTaskByTask(count: Int) {
        let src = UnsafeMutablePointer<Float>.allocate(capacity: count + 1), dst = UnsafeMutablePointer<Float>.allocate(capacity: count + 1)
        defer { src.deallocate(); dst.deallocate() }
        for i in 0...count { src[i] = Float(i % 97) - 48 }
        dst.initialize(repeating: .nan, count: count + 1)
        let step = UnaryStep(src: src, dst: dst, count: count, activation: .relu)
        #expect(count == 0 ? step.split.tasks == 0 : step.split.tasks >= 1 && step.split.perTask <= 16_384)
        for task in (0..<step.split.tasks).reversed() { step.perform(task: task, worker: 0) }
        #expect((0..<count).allSatisfy { dst[$0] == max(src[$0], 0) })
        #expect(dst[count].isNaN, "nothing written past the value")
    }

    @Test func theStepGivesTheSameBitsOnTwoWorkers() {
        let count = 70_001
        let x = Tensor.random(shape: [count], seed: 5, in: -4...4).scalars
        let pool = WorkerPool(workerCount: 2, pinning: nil)
        var results: [[UInt32]] = []
        for workers in [nil, pool] {
            let src = UnsafeMutablePointer<Float>.allocate(capacity: count), dst = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { src.deallocate(); dst.deallocate() }
            src.initialize(from: x, count: count)
            dst.initialize(repeating: .nan, count: count)
            let step = UnaryStep(src: src, dst: dst, count: count, activation: .hardSwish)
            if let workers { step.execute(workers) } else { for t in 0..<step.split.tasks { step.perform(task: t, worker: 0) } }
            results.append(UnsafeBufferPointer(start: dst, count: count).map(\.bitPattern))
        }
        #expect(results[0] == results[1])
        #expect(!results[0].contains { Float(bitPattern: $0).isNaN })
    }

    @Test func unaryOperationsBuildStepsThatRunThroughAModel() throws {
        // Elu, Selu and ThresholdedRelu with their attributes, end to end.
        var b = ONNXModelBuilder()
        b.addInput("x", shape: [1, 64])
        b.addOutput(b.unary("Elu", "x", attributes: ["alpha": .float(0.5)]))
        b.addOutput(b.unary("ThresholdedRelu", "x", attributes: ["alpha": .float(0.25)]))
        b.addOutput(b.unary("Softsign", "x"))
        let model = try load(b)
        let x = Tensor.random(shape: [1, 64], seed: 6, in: -3...3)
        let outputs = try model.run(["x": x])
        let names = model.outputs.map(\.name)
        let elu = try #require(outputs[names[0]]), thresholded = try #require(outputs[names[1]]), softsign = try #require(outputs[names[2]])
        for (i, v) in x.scalars.enumerated() {
            #expect(abs(elu.scalars[i] - (v < 0 ? 0.5 * (Foundation.exp(v) - 1) : v)) < 1e-6)
            #expect(thresholded.scalars[i] == (v > 0.25 ? v : 0))
            #expect(abs(softsign.scalars[i] - v / (1 + abs(v))) < 1e-6)
        }
    }
}
