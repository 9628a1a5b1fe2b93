// GearboxBenchmarks/XNNPACKSubgraphBenchmark: the measurement behind `gearbox bench engine
// --xnnpack-subgraph` — Gearbox's engine (XNNPACK operator API on Gearbox's worker pool) against
// the same ONNX model translated into one XNNPACK subgraph run by XNNPACK's runtime on a
// pthreadpool, at the same thread count, in alternating rounds, after checking that both give
// the same output for the same input.

import Foundation
import GearboxCore
import GearboxEngine

/// Gearbox's engine and the XNNPACK subgraph runtime on one model at one thread count.
public struct SubgraphComparison: Sendable, Codable {
    public var model: String
    public var threads: Int
    /// Wall-clock p50 (best round) of `InferenceModel.run()`.
    public var gearboxP50Ns: Nanoseconds
    /// Wall-clock p50 (best round) of `xnn_invoke_runtime` (layout conversions are outside it).
    public var subgraphP50Ns: Nanoseconds
    /// Gearbox / subgraph (> 1 means the subgraph runtime is faster).
    public var latencyRatio: Double
    /// Largest |subgraph − Gearbox| over the output; within `EngineBenchmark.outputTolerance`
    /// (else the comparison throws instead of returning).
    public var maxAbsoluteDifference: Float
    /// Nodes of the translated subgraph (before XNNPACK fuses clamps).
    public var subgraphNodes: Int
    public var runs: Int
    public var rounds: Int
}

public enum XNNPACKSubgraphBenchmark {
    /// Whether XNNPACK initialises on this CPU (initialised through the engine, whose counting
    /// allocator must be the first one XNNPACK sees).
    public static var isAvailable: Bool { XNNPACKSupport.isAvailable }

    /// Times `modelPath` in Gearbox and as an XNNPACK subgraph runtime with `threads` threads:
    /// `rounds` alternating rounds of `runs` timed runs after max(3, runs/10) warm-up runs; each
    /// side's figure is its best round's p50, as in `EngineBenchmark.compareWithOnnxRuntime`.
    /// - Throws: `XNNPACKSubgraphError.outputMismatch` when the outputs differ, any translation or
    ///   XNNPACK error, or the engine's load error.
    public static func compare(modelPath: String, name: String, threads: Int, runs: Int, rounds: Int = 3) throws -> SubgraphComparison {
        let plan = try XNNPACKSubgraphPlan(contentsOf: modelPath)
        let model = try InferenceModel(contentsOf: modelPath, options: EngineOptions(threads: threads))
        let runtime = try XNNPACKSubgraphRuntime(plan: plan, threads: threads)
        model.fillInputsRandomly(seed: 11)
        let difference = try checkOutputs(model: model, runtime: runtime, name: name)
        var gearbox = Nanoseconds(Double.infinity), subgraph = Nanoseconds(Double.infinity)
        let warmup = max(3, runs / 10)
        for _ in 0..<max(1, rounds) {
            gearbox = min(gearbox, model.measureLatency(runs: runs, warmupRuns: warmup).p50Ns)
            subgraph = min(subgraph, try measureLatency(runtime, runs: runs, warmupRuns: warmup).p50Ns)
        }
        return SubgraphComparison(model: name, threads: threads, gearboxP50Ns: gearbox, subgraphP50Ns: subgraph,
                                  latencyRatio: gearbox.value / max(subgraph.value, 1), maxAbsoluteDifference: difference,
                                  subgraphNodes: plan.nodeCount, runs: runs, rounds: max(1, rounds))
    }

    /// Runs both on the engine's current input (copied to the runtime, NCHW → NHWC) and compares
    /// their first outputs within `EngineBenchmark.outputTolerance`; returns the largest |difference|.
    public static func checkOutputs(model: InferenceModel, runtime: XNNPACKSubgraphRuntime, name: String) throws -> Float {
        model.withInputBuffer(at: 0) { runtime.setInput(nchw: UnsafeBufferPointer($0)) }
        model.run()
        try runtime.invoke()
        let engine = try model.output(named: model.outputs[0].name)
        let ours = runtime.outputTensor()
        guard engine.count == ours.count else {
            throw XNNPACKSubgraphError.unsupported(node: "<graph>", reason: "output has \(ours.count) values, the engine's \(engine.count)")
        }
        let tolerance = EngineBenchmark.outputTolerance
        let comparison = Conformance.compare(ours, engine, rtol: tolerance.relative, atol: tolerance.absolute)
        if let bad = comparison.firstMismatch {
            throw XNNPACKSubgraphError.outputMismatch(model: name, threads: runtime.threads, index: bad.index, subgraph: bad.actual,
                                                      engine: bad.expected, maxAbsoluteDifference: comparison.maxError)
        }
        return comparison.maxError
    }

    /// `InferenceModel.measureLatency` for the subgraph runtime: warm-up, then `runs` wall-clock
    /// timed invocations.
    static func measureLatency(_ runtime: XNNPACKSubgraphRuntime, runs: Int, warmupRuns: Int) throws -> TimedRunsSummary {
        for _ in 0..<max(0, warmupRuns) { try runtime.invoke() }
        var samples = [Int](repeating: 0, count: max(0, runs))
        for i in 0..<samples.count {
            let start = MonotonicClock.nowNs()
            try runtime.invoke()
            samples[i] = Int(MonotonicClock.nowNs() - start)
        }
        return TimedRunsSummary(nanoseconds: samples)
    }
}
