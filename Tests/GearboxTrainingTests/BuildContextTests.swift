// Tests for BuildContext's checkpoints: a step saved with the same settings is restored instead of
// rerun, a checkpoint made with other settings is ignored and replaced, `--fresh` reruns it, and
// the stable key hash does not change between runs.

import Foundation
import GearboxTestSupport
import Testing
@testable import GearboxTraining

private let dataPresent = FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/train-images-idx3-ubyte.gz")

@Suite(.enabled(if: dataPresent, "needs dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"))
struct BuildContextTests {
    /// A quick CNN build on 64 training and 16 test examples, one thread.
    static func context(in scratch: ScratchDirectory, method: PruningMethod = .dnnshifter, seed: UInt64 = 3,
                        fresh: Bool = false, log: @escaping (String) -> Void = { _ in }) throws -> BuildContext {
        var plan = BuildPlan.make(quick: true, model: .cnn)
        plan.trainExamples = 64
        plan.testExamples = 16
        let options = PortfolioBuildOptions(method: method, outputDirectory: scratch.file("out"),
                                            workDirectory: scratch.file("work"), quick: true, seed: seed, fresh: fresh,
                                            threads: 1, plan: plan)
        return try BuildContext(options: options, log: log)
    }

    /// Runs the step `name` with `key`; the body sets every weight to `value` and counts its runs.
    static func step(_ context: BuildContext, key: String, value: Float, runs: inout Int) throws -> Network {
        let network = context.makeNetwork(seed: 1)
        try context.checkpointed("step", network, key: key) {
            runs += 1
            for parameter in network.parameters { parameter.value = [Float](repeating: value, count: parameter.value.count) }
            return ["value": String(value)]
        }
        return network
    }

    @Test func aStepWithTheSameSettingsIsRestoredInsteadOfRerun() throws {
        let scratch = ScratchDirectory("build-context")
        var lines: [String] = []
        let context = try Self.context(in: scratch) { lines.append($0) }
        #expect(context.train.count == 64 && context.test.count == 16)
        #expect(context.testDescription.contains("first 16 images"))
        var runs = 0
        _ = try Self.step(context, key: "settings A", value: 0.5, runs: &runs)
        let restored = try Self.step(context, key: "settings A", value: 9, runs: &runs)
        #expect(runs == 1)
        #expect(restored.parameters.allSatisfy { $0.value.allSatisfy { $0 == 0.5 } })
        #expect(lines.contains { $0.contains("resumed step") })
    }

    @Test func aCheckpointWithOtherSettingsIsIgnoredAndReplaced() throws {
        let scratch = ScratchDirectory("build-context")
        var lines: [String] = []
        let context = try Self.context(in: scratch) { lines.append($0) }
        var runs = 0
        _ = try Self.step(context, key: "settings A", value: 0.5, runs: &runs)
        let rerun = try Self.step(context, key: "settings B", value: 2, runs: &runs)
        #expect(runs == 2)
        #expect(rerun.parameters.allSatisfy { $0.value.allSatisfy { $0 == 2 } })
        #expect(lines.contains { $0.contains("made with other settings") })
        // The replacement is what a third run with B restores.
        _ = try Self.step(context, key: "settings B", value: 7, runs: &runs)
        #expect(runs == 2)
    }

    @Test func freshRerunsAStepThatWasCheckpointed() throws {
        let scratch = ScratchDirectory("build-context")
        var runs = 0
        _ = try Self.step(try Self.context(in: scratch), key: "settings A", value: 0.5, runs: &runs)
        let again = try Self.step(try Self.context(in: scratch, fresh: true), key: "settings A", value: 3, runs: &runs)
        #expect(runs == 2)
        #expect(again.parameters.allSatisfy { $0.value.allSatisfy { $0 == 3 } })
    }

    @Test func theKeyHashIsFNV1aAndStable() {
        // FNV-1a 64 of the empty string is its offset basis; of "a" a published test vector.
        #expect("".hashValueStable == "cbf29ce484222325")
        #expect("a".hashValueStable == "af63dc4c8601ec8c")
    }
}
