// GearboxBenchmarks/EngineBenchmark: the measurements behind `gearbox bench engine`, each taken side
// by side in one process run: dense 3×3 convolution throughput against OpenBLAS sgemm on the
// same im2col matrix, and Gearbox against onnxruntime (a Python subprocess on the same ONNX
// file) at 1 and 2 threads on generated models (`EngineBenchmarkModel`), with an output check.
// Figures are real wall-clock times on this machine.

import Foundation
import GearboxCore
import GearboxEngine
import GearboxHardware

/// One convolution layer timed against the bare sgemm it lowers to.
public struct ConvolutionThroughput: Sendable, Codable {
    /// e.g. "3x3 64->64 @56x56".
    public var layer: String
    /// Median thread-CPU time of the whole Conv layer (packing + kernel + bias), one thread.
    public var convolutionP50Ns: Nanoseconds
    /// Median thread-CPU time of one OpenBLAS sgemm on the layer's full, prebuilt im2col matrix.
    public var sgemmP50Ns: Nanoseconds
    /// Which kernel ran the convolution ("xnnpack", "packed" or "im2col" with OpenBLAS).
    public var kernel: String
    /// sgemm time / convolution time: the convolution's throughput as a fraction of sgemm's.
    public var fractionOfSGEMM: Double
    public var convolutionGFLOPS: Double
    public var sgemmGFLOPS: Double
}

/// Gearbox and onnxruntime on the same model file, measured in alternating rounds.
public struct RuntimeComparison: Sendable, Codable {
    public var model: String
    public var threads: Int
    /// Wall-clock p50 (best round): the latency a caller sees.
    public var gearboxP50Ns: Nanoseconds
    public var onnxruntimeP50Ns: Nanoseconds?
    /// Gearbox latency / onnxruntime latency (< 1 means Gearbox is faster).
    public var latencyRatio: Double?
    /// Thread-CPU p50 (best round), one thread only: robust against other processes' load.
    public var gearboxCPUP50Ns: Nanoseconds?
    public var onnxruntimeCPUP50Ns: Nanoseconds?
    public var cpuTimeRatio: Double?
    /// Largest |Gearbox − onnxruntime| over the first output, for the same input.
    public var maxAbsoluteDifference: Float?
    /// Whether every output value is within `EngineBenchmark.outputTolerance` of onnxruntime's.
    public var outputsMatch: Bool?
    public var onnxruntimeVersion: String?
    /// Why onnxruntime figures are missing, when they are.
    public var note: String?
}

/// A generated model (seeded random weights) that `gearbox bench engine` runs against onnxruntime.
public struct EngineBenchmarkModel: Sendable {
    public let name: String
    /// Timed runs per round are max(10, runs / runsDivisor): bigger models run fewer.
    public let runsDivisor: Int
    private let make: @Sendable () -> ONNXModelBuilder

    init(_ name: String, runsDivisor: Int, _ make: @escaping @Sendable () -> ONNXModelBuilder) {
        self.name = name
        self.runsDivisor = runsDivisor
        self.make = make
    }

    public func builder() -> ONNXModelBuilder { make() }

    public func runs(of requested: Int) -> Int { runsDivisor == 1 ? requested : max(10, requested / runsDivisor) }

    /// Every model the benchmark knows, smallest first. `resNetStyleImageSize` sizes the
    /// ResNet-style model (its name carries the size).
    public static func catalogue(resNetStyleImageSize size: Int = 112) -> [EngineBenchmarkModel] {
        [
            EngineBenchmarkModel("mlp", runsDivisor: 1) { SyntheticModels.mlp() },
            EngineBenchmarkModel("fashion-mnist-cnn", runsDivisor: 1) { SyntheticModels.fashionMNISTCNN() },
            EngineBenchmarkModel("resnet8-cifar", runsDivisor: 1) { SyntheticModels.cifarResNet() },
            EngineBenchmarkModel("resnet8-cifar-0.5", runsDivisor: 1) { SyntheticModels.cifarResNet(widths: [8, 16, 32]) },
            EngineBenchmarkModel("resnet-style-\(size)", runsDivisor: 5) { SyntheticModels.resNet(imageSize: size) },
            EngineBenchmarkModel("mobilenetv2-0.5-224", runsDivisor: 2) { SyntheticModels.mobileNetV2(widthMultiplier: 0.5) },
            EngineBenchmarkModel("mobilenetv2-1.0-224", runsDivisor: 2) { SyntheticModels.mobileNetV2() },
            EngineBenchmarkModel("resnet18-224", runsDivisor: 10) { SyntheticModels.resNet18() },
            EngineBenchmarkModel("resnet34-224", runsDivisor: 20) { SyntheticModels.resNet34() },
        ]
    }

    /// What `gearbox bench engine` runs without `--models`.
    public static let defaultNames = ["fashion-mnist-cnn", "resnet8-cifar", "mobilenetv2-1.0-224", "resnet18-224"]

    /// The catalogue's models named in `names`, in the given order, or the first unknown name.
    public static func select(_ names: [String], resNetStyleImageSize size: Int = 112) -> Result<[EngineBenchmarkModel], UnknownName> {
        let all = catalogue(resNetStyleImageSize: size)
        var chosen: [EngineBenchmarkModel] = []
        for name in names {
            guard let model = all.first(where: { $0.name == name }) else {
                return .failure(UnknownName(name: name, known: all.map(\.name)))
            }
            chosen.append(model)
        }
        return .success(chosen)
    }

    public struct UnknownName: Error, CustomStringConvertible {
        public let name: String
        public let known: [String]
        public var description: String { "unknown model '\(name)'; choose from \(known.joined(separator: ", "))" }
    }
}

public enum EngineBenchmark {
    /// Gearbox's outputs must equal onnxruntime's within |a − b| ≤ atol + rtol · |b|.
    public static let outputTolerance = (relative: Float(1e-3), absolute: Float(1e-4))

    /// Times every step of `modelPath` on one thread (wall-clock median per step after warm-up),
    /// for the per-layer table.
    public static func layerTimes(modelPath: String, runs: Int) throws -> [StepTiming] {
        let model = try InferenceModel(contentsOf: modelPath, options: EngineOptions(threads: 1))
        model.fillInputsRandomly(seed: 11)
        return model.profileSteps(runs: runs, warmupRuns: 3)
    }

    /// The layers timed by `convolutionThroughput`: ResNet stage shapes (3×3, stride 1, pad 1).
    public static let convolutionLayers: [(channels: Int, size: Int)] = [(64, 56), (128, 28), (256, 14), (512, 7)]

    /// Times each 3×3 layer as a one-node model and its bare sgemm, alternating, single-threaded,
    /// on the calling thread's CPU clock (so that other processes' load does not skew the ratio).
    public static func convolutionThroughput(runs: Int = 30, layers: [(channels: Int, size: Int)] = convolutionLayers,
                                             kernel: DenseConvolutionKernel = .automatic) throws -> [ConvolutionThroughput] {
        BLAS.useSingleThread()
        var results: [ConvolutionThroughput] = []
        for (c, size) in layers {
            var builder = ONNXModelBuilder(graphName: "conv3x3")
            builder.addInput("x", shape: [1, c, size, size])
            let y = builder.conv("x", weights: Tensor.random(shape: [c, c, 3, 3], seed: 7, in: -0.05...0.05),
                                 bias: Tensor.random(shape: [c], seed: 8), pads: [1, 1, 1, 1])
            builder.addOutput(y)
            var options = EngineOptions(threads: 1)
            options.denseConvolutionKernel = kernel
            let model = try InferenceModel(onnx: try builder.serializedData(), source: "conv3x3", options: options)
            model.fillInputsRandomly(seed: 1)
            let k = c * 9, n = size * size
            let a = Tensor.random(shape: [c, k], seed: 3), b = Tensor.random(shape: [k, n], seed: 4)
            var out = Tensor(zeros: [c, n])
            var convSamples: [Int] = [], gemmSamples: [Int] = []
            for _ in 0..<3 { model.run() }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        // Never nil: the operands are not empty.
                        guard let a = pa.baseAddress, let b = pb.baseAddress, let product = pc.baseAddress else { return }
                        for round in 0..<(runs + 3) {
                            var t = (ThreadCPUClock.nowNs() ?? 0)
                            BLAS.sgemm(m: c, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: product, ldc: n)
                            let gemm = Int((ThreadCPUClock.nowNs() ?? 0) - t)
                            t = (ThreadCPUClock.nowNs() ?? 0)
                            model.run()
                            let conv = Int((ThreadCPUClock.nowNs() ?? 0) - t)
                            if round >= 3 { gemmSamples.append(gemm); convSamples.append(conv) }
                        }
                    }
                }
            }
            let conv = TimedRunsSummary(nanoseconds: convSamples).p50Ns
            let gemm = TimedRunsSummary(nanoseconds: gemmSamples).p50Ns
            let flops = 2.0 * Double(c) * Double(k) * Double(n)
            let convNs = max(conv.value, 1), gemmNs = max(gemm.value, 1)
            results.append(ConvolutionThroughput(layer: "3x3 \(c)->\(c) @\(size)x\(size)", convolutionP50Ns: conv, sgemmP50Ns: gemm,
                                                 kernel: model.convolutionKernels.keys.first ?? "?",
                                                 fractionOfSGEMM: gemmNs / convNs, convolutionGFLOPS: flops / convNs, sgemmGFLOPS: flops / gemmNs))
        }
        return results
    }

    /// Times `modelPath` in Gearbox (in process) and in onnxruntime (subprocess) with the same
    /// seeded input: `rounds` alternating rounds of `runs` timed runs each after warm-up; each
    /// side's figure is its best round's p50. Also compares their first outputs.
    public static func compareWithOnnxRuntime(modelPath: String, name: String, threads: Int, runs: Int, rounds: Int = 3,
                                              python: String = "python3", workDirectory: String) throws -> RuntimeComparison {
        // With several threads Gearbox's workers go one per core, as `gearbox profile` runs them: left
        // to the scheduler, two workers now and then share a core and a small model's p50 doubles.
        let pinning: (any WorkerPinning)? = threads > 1 ? HardwareWorkerPinning(.cores) : nil
        let model = try InferenceModel(contentsOf: modelPath, options: EngineOptions(threads: threads, pinning: pinning))
        model.fillInputsRandomly(seed: 11)
        let inputPath = workDirectory + "/\(name)-input.pb"
        let input = model.withInputBuffer(at: 0) { buffer in
            Tensor(shape: model.inputs[0].shape, scalars: Array(buffer))
        }
        try input.writeTensorProto(to: inputPath, name: model.inputs[0].name)
        var comparison = RuntimeComparison(model: name, threads: threads, gearboxP50Ns: Nanoseconds(Double.infinity))
        let outputPath = workDirectory + "/\(name)-ort-output-\(threads).pb"
        var ortFailure: String? = nil
        for _ in 0..<max(1, rounds) {
            try model.pinCallingThread()
            let wall = model.measureLatency(runs: runs, warmupRuns: max(3, runs / 10))
            // onnxruntime's process inherits this thread's CPU mask: give it every CPU back.
            if pinning != nil { _ = try ThreadPinning.unbindCurrentThread() }
            comparison.gearboxP50Ns = min(comparison.gearboxP50Ns, wall.p50Ns)
            if threads == 1 {
                let cpu = model.measureLatency(runs: runs, warmupRuns: 1, clock: .threadCPU)
                comparison.gearboxCPUP50Ns = min(comparison.gearboxCPUP50Ns ?? cpu.p50Ns, cpu.p50Ns)
            }
            guard ortFailure == nil else { continue }
            do {
                let report = try OnnxRuntimeBaseline.run(python: python, model: modelPath,
                                                         input: inputPath, output: outputPath, threads: threads, runs: runs)
                comparison.onnxruntimeP50Ns = min(comparison.onnxruntimeP50Ns ?? report.p50Ns, report.p50Ns)
                if threads == 1 { comparison.onnxruntimeCPUP50Ns = min(comparison.onnxruntimeCPUP50Ns ?? report.cpuP50Ns, report.cpuP50Ns) }
                comparison.onnxruntimeVersion = report.version
            } catch {
                ortFailure = "\(error)"
            }
        }
        comparison.note = ortFailure
        if let ort = comparison.onnxruntimeP50Ns { comparison.latencyRatio = comparison.gearboxP50Ns.value / max(ort.value, 1) }
        if let ours = comparison.gearboxCPUP50Ns, let ort = comparison.onnxruntimeCPUP50Ns {
            comparison.cpuTimeRatio = ours.value / max(ort.value, 1)
        }
        if ortFailure == nil, let reference = try? Tensor(contentsOfTensorProto: outputPath) {
            model.run()
            let ours = try model.output(named: model.outputs[0].name)
            if reference.count == ours.count {
                comparison.maxAbsoluteDifference = ours.maxAbsoluteDifference(to: reference)
                comparison.outputsMatch = Conformance.compare(ours, reference, rtol: outputTolerance.relative,
                                                              atol: outputTolerance.absolute).firstMismatch == nil
            } else {
                comparison.outputsMatch = false
            }
        }
        return comparison
    }
}

/// onnxruntime in a Python subprocess, timed the same way (perf_counter_ns around each run).
enum OnnxRuntimeBaseline {
    struct Report: Decodable { var p50Ns: Nanoseconds; var cpuP50Ns: Nanoseconds; var samples: Int; var version: String }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The baseline script, shipped as a resource of this module (run by path, never rewritten).
    static var scriptPath: String? { Bundle.module.path(forResource: "onnxruntime_bench", ofType: "py") }

    static func run(python: String, model: String, input: String, output: String, threads: Int, runs: Int) throws -> Report {
        guard let path = scriptPath else {
            throw Failure(description: "onnxruntime_bench.py is missing from the GearboxBenchmarks resources (rebuild gearbox)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, path, model, input, output, "\(threads)", "\(runs)"]
        let pipe = Pipe(), errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        do { try process.run() } catch { throw Failure(description: "cannot start \(python): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(separator: "\n").last else {
            throw Failure(description: "onnxruntime baseline printed nothing (\(errorText.split(separator: "\n").last ?? "no error output"))")
        }
        if let failure = try? JSONDecoder().decode([String: String].self, from: Data(line.utf8)), let message = failure["error"] {
            throw Failure(description: message)
        }
        do { return try JSONDecoder().decode(Report.self, from: Data(line.utf8)) } catch {
            throw Failure(description: "unexpected onnxruntime baseline output: \(line.prefix(200))")
        }
    }
}
