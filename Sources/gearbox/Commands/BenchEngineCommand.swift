// gearbox bench engine: engine speed as ratios measured side by side in one run — dense 3×3
// convolution vs OpenBLAS sgemm on the same im2col matrix, and Gearbox vs onnxruntime on a
// ResNet-style model and a Fashion-MNIST-sized CNN at 1 and 2 threads.

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
            CPU clock, alternating the two; (2) Gearbox latency / onnxruntime latency for a \
            ResNet-style model and a Fashion-MNIST CNN, both generated deterministically with random \
            weights, at 1 and 2 threads (target ≤ 1.2), in alternating rounds (best round's p50 \
            each). onnxruntime runs in a Python subprocess (pip install onnxruntime onnx numpy) on \
            the same ONNX file and input. With one thread the thread-CPU-time ratio is printed too: \
            it is steadier than wall time when other processes load the machine.

            Example:
              gearbox bench engine
              gearbox bench engine --runs 50 --json
            """
    )

    @Option(help: "Timed runs per measurement (ResNet uses a fifth of this, at least 10).") var runs = 200
    @Option(help: "Alternating Gearbox/onnxruntime rounds per configuration.") var rounds = 3
    @Option(help: "Image size of the ResNet-style model.") var imageSize = 112
    @Option(help: "Python interpreter with onnxruntime.") var python = "python3"
    @Option(help: "Keep the generated models here (default: a temporary directory).") var workDir: String?
    @Flag(help: "Skip the onnxruntime comparison.") var skipOnnxruntime = false
    @Flag(help: "Print JSON.") var json = false

    struct Report: Codable {
        var date: String
        var machine: String
        var blasCore: String
        var convolution: [ConvolutionThroughput]
        var runtimes: [RuntimeComparison]
        var source: MeasurementSource
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
                             c.layer as NSString, c.kernel as NSString, Double(c.convolutionP50Ns) / 1e6, c.convolutionGFLOPS,
                             Double(c.sgemmP50Ns) / 1e6, c.sgemmGFLOPS, c.fractionOfSGEMM))
            }
        }
        var comparisons: [RuntimeComparison] = []
        let models: [(String, ONNXModelBuilder, Int)] = [
            ("fashion-mnist-cnn", SyntheticModels.fashionMNISTCNN(), runs),
            ("resnet-style-\(imageSize)", SyntheticModels.resNet(imageSize: imageSize), max(10, runs / 5)),
        ]
        if !json && !skipOnnxruntime {
            print("\nGearbox vs onnxruntime (same model file and input; best of \(rounds) alternating rounds' p50)")
        }
        for (name, builder, count) in models where !skipOnnxruntime {
            let path = directory + "/\(name).onnx"
            try builder.write(to: path)
            for threads in [1, 2] {
                let c = try EngineBenchmark.compareWithOnnxRuntime(modelPath: path, name: name, threads: threads, runs: count,
                                                                   rounds: rounds, python: python, workDirectory: directory)
                comparisons.append(c)
                if !json {
                    if let ort = c.onnxruntimeP50Ns, let ratio = c.latencyRatio {
                        var line = String(format: "  %-22@ %d thread%@  wall: gearbox %8.3f ms  onnxruntime %8.3f ms  ratio %.2f",
                                          name as NSString, threads, threads == 1 ? " " : "s", Double(c.gearboxP50Ns) / 1e6,
                                          Double(ort) / 1e6, ratio)
                        if let ours = c.gearboxCPUP50Ns, let theirs = c.onnxruntimeCPUP50Ns, let cpuRatio = c.cpuTimeRatio {
                            line += String(format: " | CPU: %8.3f ms vs %8.3f ms  ratio %.2f", Double(ours) / 1e6, Double(theirs) / 1e6, cpuRatio)
                        }
                        line += String(format: "  max|diff| %.2g", Double(c.maxAbsoluteDifference ?? .nan))
                        print(line)
                    } else {
                        print("  \(name) \(threads) thread(s): gearbox \(Double(c.gearboxP50Ns) / 1e6) ms; onnxruntime unavailable: \(c.note ?? "?")")
                    }
                }
            }
        }
        let report = Report(date: ISO8601DateFormatter().string(from: Date()), machine: machineDescription(),
                            blasCore: InferenceModel.blasCoreName, convolution: convolution, runtimes: comparisons, source: .real)
        if json { print(String(decoding: try JSONFile.encoder().encode(report), as: UTF8.self)) }
    }

    private func machineDescription() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
            .trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) CPUs"
    }
}
