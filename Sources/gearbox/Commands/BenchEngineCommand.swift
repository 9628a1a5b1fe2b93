// gearbox bench engine: engine speed as ratios measured side by side in one run — dense 3×3
// convolution vs OpenBLAS sgemm on the same im2col matrix, Gearbox vs onnxruntime on generated
// models (small CNNs, MobileNetV2, ResNet-18/34) at 1 and 2 threads with an output check, and a
// per-layer table (time, GMAC/s) of the slowest model; with --xnnpack-subgraph, Gearbox vs the
// same model as one XNNPACK subgraph runtime on a pthreadpool.

import ArgumentParser
import Foundation
import GearboxBenchmarks
import GearboxCore
import GearboxEngine

struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Engine speed: dense conv vs sgemm, Gearbox vs onnxruntime.",
        discussion: """
            Prints, from one run on this machine: (1) single-threaded 3×3 convolution throughput as \
            a fraction of OpenBLAS sgemm on the same im2col matrix (target ≥ 0.6), on the thread's \
            CPU clock, alternating the two; (2) Gearbox latency / onnxruntime latency for each model \
            of --models, generated deterministically with seeded random weights, at 1 and 2 threads, \
            in alternating rounds (best round's p50 each; with 2 threads Gearbox's workers are \
            pinned one per core, onnxruntime places its own), and whether Gearbox's output equals \
            onnxruntime's within rtol 1e-3 / atol 1e-4; (3) the time and GMAC/s of every step of \
            the slowest model, single-threaded. onnxruntime runs in a Python subprocess (pip install \
            onnxruntime onnx numpy) on the same ONNX file and input. With one thread the \
            thread-CPU-time ratio is printed too: it is steadier than wall time when other \
            processes load the machine.

            With --xnnpack-subgraph, also (4): each model translated into one XNNPACK subgraph \
            (NHWC, BatchNorm folded, XNNPACK's runtime on a pthreadpool of the same thread count) \
            against Gearbox's engine (XNNPACK's operator API on Gearbox's worker pool), in alternating \
            rounds (best round's p50 each; layout conversions outside the timed region) with the \
            load average; the benchmark fails if the two outputs differ beyond rtol 1e-3 / atol 1e-4. \
            Models the translation does not cover (Softmax, Flatten of a wider image) are listed as skipped.

            Models: mlp, fashion-mnist-cnn, resnet8-cifar, resnet8-cifar-0.5, resnet-style-<image-size>, \
            mobilenetv2-0.5-224, mobilenetv2-1.0-224, resnet18-224, resnet34-224.

            Example:
              gearbox bench engine
              gearbox bench engine --models mobilenetv2-1.0-224,resnet18-224 --runs 50 --json
              gearbox bench engine --xnnpack-subgraph --skip-onnxruntime --models resnet8-cifar,mobilenetv2-1.0-224,resnet18-224
            """
    )

    @Option(help: "Timed runs per measurement (bigger models use a fraction of this, at least 10).") var runs = 200
    @Option(help: "Alternating Gearbox/onnxruntime rounds per configuration.") var rounds = 3
    @Option(help: "Image size of the ResNet-style model.") var imageSize = 112
    @Option(help: "Comma-separated models to compare (default: \(EngineBenchmarkModel.defaultNames.joined(separator: ",")))")
    var models = EngineBenchmarkModel.defaultNames.joined(separator: ",")
    @Option(help: "Python interpreter with onnxruntime.") var python = "python3"
    @Option(help: "Keep the generated models here (default: a temporary directory).") var workDir: String?
    @Flag(help: "Skip the onnxruntime comparison.") var skipOnnxruntime = false
    @Flag(help: "Also compare Gearbox with each model run as one XNNPACK subgraph (pthreadpool), at 1 and 2 threads.")
    var xnnpackSubgraph = false
    @Flag(help: "Print JSON.") var json = false

    struct Report: Codable {
        var date: String
        var machine: String
        var blasCore: String
        var convolution: [ConvolutionThroughput]
        var runtimes: [RuntimeComparison]
        /// The model of `layers` (the slowest at one thread).
        var layersModel: String?
        var layers: [StepTiming]?
        /// With --xnnpack-subgraph: Gearbox vs the XNNPACK subgraph runtime, and the models skipped (why).
        var xnnpackSubgraph: [SubgraphComparison]?
        var xnnpackSubgraphSkipped: [String: String]?
        /// Load averages when the XNNPACK subgraph comparison started and ended.
        var xnnpackSubgraphLoad: [String]?
        var source: MeasurementSource
    }

    private var selectedModels: Result<[EngineBenchmarkModel], EngineBenchmarkModel.UnknownName> {
        EngineBenchmarkModel.select(models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                                    resNetStyleImageSize: imageSize)
    }

    func validate() throws {
        if case let .failure(unknown) = selectedModels { throw ValidationError("--models: \(unknown)") }
        guard imageSize >= 32 else { throw ValidationError("--image-size must be at least 32, e.g. 112") }
    }

    func run() throws {
        let directory = workDir ?? NSTemporaryDirectory() + "/gearbox-bench-engine-\(getpid())"
        // The scratch models go whether the benchmark finishes or fails.
        defer { if workDir == nil { try? FileManager.default.removeItem(atPath: directory) } }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if !json { print("machine: \(machineDescription()), OpenBLAS core \(InferenceModel.blasCoreName)") }
        let convolution = try EngineBenchmark.convolutionThroughput(runs: max(10, runs / 10))
        if !json {
            print("\n3x3 convolution vs OpenBLAS sgemm on the same im2col matrix (1 thread, thread-CPU p50)")
            for c in convolution {
                print(String(format: "  %-22@ conv (%@) %8.3f ms (%5.1f GFLOP/s)  sgemm %8.3f ms (%5.1f GFLOP/s)  fraction %.2f",
                             c.layer as NSString, c.kernel as NSString, c.convolutionP50Ns.milliseconds, c.convolutionGFLOPS,
                             c.sgemmP50Ns.milliseconds, c.sgemmGFLOPS, c.fractionOfSGEMM))
            }
        }
        var comparisons: [RuntimeComparison] = []
        let models = try selectedModels.get()
        if !json && !skipOnnxruntime {
            print("\nGearbox vs onnxruntime (same model file and input; best of \(rounds) alternating rounds' p50)")
        }
        var paths: [String: String] = [:]
        for model in models {
            let path = directory + "/\(model.name).onnx"
            try model.builder().write(to: path)
            paths[model.name] = path
        }
        for model in models where !skipOnnxruntime {
            let name = model.name, count = model.runs(of: runs)
            let path = paths[name] ?? ""
            for threads in [1, 2] {
                let c = try EngineBenchmark.compareWithOnnxRuntime(modelPath: path, name: name, threads: threads, runs: count,
                                                                   rounds: rounds, python: python, workDirectory: directory)
                comparisons.append(c)
                if !json {
                    if let ort = c.onnxruntimeP50Ns, let ratio = c.latencyRatio {
                        var line = String(format: "  %-22@ %d thread%@  wall: gearbox %8.3f ms  onnxruntime %8.3f ms  ratio %.2f",
                                          name as NSString, threads, threads == 1 ? " " : "s", c.gearboxP50Ns.milliseconds,
                                          ort.milliseconds, ratio)
                        if let ours = c.gearboxCPUP50Ns, let theirs = c.onnxruntimeCPUP50Ns, let cpuRatio = c.cpuTimeRatio {
                            line += String(format: " | CPU: %8.3f ms vs %8.3f ms  ratio %.2f", ours.milliseconds, theirs.milliseconds, cpuRatio)
                        }
                        line += String(format: "  max|diff| %.2g", Double(c.maxAbsoluteDifference ?? .nan))
                        line += c.outputsMatch == true ? "  outputs match" : "  OUTPUTS DIFFER (rtol 1e-3, atol 1e-4)"
                        print(line)
                    } else {
                        print("  \(name) \(threads) thread(s): gearbox \(c.gearboxP50Ns.milliseconds) ms; onnxruntime unavailable: \(c.note ?? "?")")
                    }
                }
            }
        }
        var subgraph: (rows: [SubgraphComparison], skipped: [String: String], load: [String])? = nil
        if xnnpackSubgraph { subgraph = try compareWithXNNPACKSubgraph(models, paths: paths) }
        // The per-layer table: the slowest model at one thread (the last one without onnxruntime runs).
        let slowest = comparisons.filter { $0.threads == 1 }.max { $0.gearboxP50Ns < $1.gearboxP50Ns }?.model ?? models.last?.name
        var layers: [StepTiming]? = nil
        if let slowest, let path = paths[slowest], let model = models.first(where: { $0.name == slowest }) {
            let steps = try EngineBenchmark.layerTimes(modelPath: path, runs: max(5, model.runs(of: runs) / 2))
            layers = steps
            if !json { printLayers(steps, model: slowest) }
        }
        let report = Report(date: ISO8601DateFormatter().string(from: Date()), machine: machineDescription(),
                            blasCore: InferenceModel.blasCoreName, convolution: convolution, runtimes: comparisons,
                            layersModel: layers == nil ? nil : slowest, layers: layers, xnnpackSubgraph: subgraph?.rows,
                            xnnpackSubgraphSkipped: subgraph?.skipped, xnnpackSubgraphLoad: subgraph?.load, source: .real)
        if json { print(String(decoding: try JSONFile.encoder().encode(report), as: UTF8.self)) }
    }

    /// Section (4): each model at 1 and 2 threads; an output mismatch throws (fails the bench).
    private func compareWithXNNPACKSubgraph(_ models: [EngineBenchmarkModel], paths: [String: String]) throws
        -> (rows: [SubgraphComparison], skipped: [String: String], load: [String]) {
        let startLoad = LoadAverage.current()?.text ?? "unknown"
        if !json {
            print("\nGearbox engine vs XNNPACK subgraph runtime (same model and input; pthreadpool of the same size; "
                  + "best of \(rounds) alternating rounds' p50; load average \(startLoad))")
        }
        guard XNNPACKSubgraphBenchmark.isAvailable else {
            if !json { print("  XNNPACK did not initialise on this CPU: nothing to compare") }
            return ([], Dictionary(uniqueKeysWithValues: models.map { ($0.name, "XNNPACK unavailable") }), [startLoad])
        }
        var rows: [SubgraphComparison] = [], skipped: [String: String] = [:]
        for model in models {
            guard let path = paths[model.name] else { continue }
            do {
                _ = try XNNPACKSubgraphPlan(contentsOf: path)
            } catch let error as XNNPACKSubgraphError {
                skipped[model.name] = "\(error)"
                if !json { print("  \(model.name): skipped, not translatable (\(error))") }
                continue
            }
            for threads in [1, 2] {
                let c = try XNNPACKSubgraphBenchmark.compare(modelPath: path, name: model.name, threads: threads,
                                                             runs: model.runs(of: runs), rounds: rounds)
                rows.append(c)
                if !json {
                    print(String(format: "  %-22@ %d thread%@  gearbox %8.3f ms  subgraph %8.3f ms  ratio gearbox/subgraph %.2f  max|diff| %.2g  outputs match",
                                 c.model as NSString, threads, threads == 1 ? " " : "s", c.gearboxP50Ns.milliseconds,
                                 c.subgraphP50Ns.milliseconds, c.latencyRatio, Double(c.maxAbsoluteDifference)))
                }
            }
        }
        let endLoad = LoadAverage.current()?.text ?? "unknown"
        if !json { print("  load average at the end: \(endLoad)") }
        return (rows, skipped, [startLoad, endLoad])
    }

    private func printLayers(_ steps: [StepTiming], model: String) {
        let total = max(1, steps.reduce(.zero) { $0 + $1.p50Ns })
        print("\nPer-layer times of \(model) (1 thread, wall p50 per step; fused BatchNorm/activation/Add run inside the Conv)")
        for step in steps {
            let rate = step.gigaMACsPerSecond.map { String(format: "%7.2f GMAC/s", $0) } ?? ""
            print(String(format: "  %-34@ %-8@ %-15@ %8.3f ms %5.1f%%  ", step.node as NSString, step.opType as NSString,
                         (step.kernel ?? "") as NSString, step.p50Ns.milliseconds, 100 * (step.p50Ns / total)) + rate)
        }
        // Totals per kernel: where the time goes.
        var byKernel: [String: (ns: Nanoseconds, macs: Int)] = [:]
        for step in steps { byKernel[step.kernel ?? step.opType, default: (.zero, 0)].ns += step.p50Ns; byKernel[step.kernel ?? step.opType, default: (.zero, 0)].macs += step.macs }
        for (kernel, sum) in byKernel.sorted(by: { $0.value.ns > $1.value.ns }) {
            let rate = sum.macs > 0 ? String(format: "  %7.2f GMAC/s", Double(sum.macs) / max(sum.ns, 1).value) : ""
            print(String(format: "  total %-28@ %8.3f ms %5.1f%%", kernel as NSString, sum.ns.milliseconds, 100 * (sum.ns / total)) + rate)
        }
    }

    private func machineDescription() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
            .trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) CPUs"
    }
}
