// gearbox run: runs a model on TensorProto inputs (or seeded random ones), saves the outputs
// as TensorProto files and, with --repeat, times N runs after warm-up (p50/p99).

import ArgumentParser
import Foundation
import GearboxCore
import GearboxEngine

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on TensorProto inputs and time it.",
        discussion: """
            Inputs come from TensorProto files (--input NAME=x.pb, like the ONNX test data's \
            input_0.pb); inputs not given are filled with seeded uniform values in [-1, 1]. \
            Outputs are written as DIR/output_K.pb. With --repeat N, N runs after warm-up are \
            timed on the monotonic clock (real wall time on this machine) and p50/p99 printed.

            Example:
              gearbox run model.onnx --input input=x.pb --save-outputs out/
              gearbox run model.onnx --threads 2 --pin 0,1 --repeat 200 --json
              gearbox run model.csr.gbpk --repeat 200   (packed variant: weights mapped, not copied)
            """
    )

    @Argument(help: "The ONNX model file (or a packed .gbpk variant).") var file: String
    @Option(name: .customLong("input"), help: "NAME=FILE.pb: a TensorProto for input NAME (repeatable).") var inputFiles: [String] = []
    @Option(name: .customLong("shape"), help: "NAME=1x3x224x224 for inputs with symbolic dimensions (repeatable).") var shapes: [String] = []
    @Option(help: "Worker threads (the calling thread included).") var threads = 1
    @Option(help: "Pin workers: a CPU list (worker K on the K-th CPU, e.g. 0,1), 'cores' (worker K on core K) or 'kind:N' (CPU kind N).")
    var pin: String?
    @Option(help: "Time this many runs after warm-up and print p50/p99 (at most 10000000).") var `repeat`: Int?
    @Option(help: "Untimed runs before timing.") var warmup = 5
    @Option(help: "Seed for random inputs.") var seed: UInt64 = 1
    @Option(help: "What --repeat measures: wall (latency) or threadCPU (CPU time of the calling thread; steadier on a busy machine).")
    var clock: TimingClock = .wall
    @Option(name: .customLong("format"), help: "Weight format for Conv/Gemm weights (dense unless formats are registered).") var weightFormat = "dense"
    @Option(name: .customLong("dense-kernel"), help: "Dense convolution kernel: automatic (XNNPACK, else packed), packed (Gearbox's own) or openBLAS.")
    var denseKernel: DenseConvolutionKernel = .automatic
    @Option(name: .customLong("save-outputs"), help: "Directory for output_K.pb files.") var saveOutputs: String?
    @Flag(name: .customLong("no-winograd"), help: "Run 3×3 stride-1 layers on XNNPACK instead of Winograd F(2×2, 3×3) (for comparisons).")
    var noWinograd = false
    @Flag(name: .customLong("no-banded-blocks"), help: "Run each layer of an inverted-residual block over the whole tensor instead of in row bands (for comparisons).")
    var noBandedBlocks = false
    @Flag(name: .customLong("profile-steps"), help: "With --repeat: also print the median time of each step (node) and its GMAC/s.") var profileSteps = false
    @Flag(help: "Print JSON.") var json = false

    struct OutputInfo: Codable { var name: String; var shape: [Int]; var file: String?; var head: [Float] }
    struct Report: Codable {
        var model: String
        var threads: Int
        var pinned: String?
        var inputs: [TensorDescription]
        var outputs: [OutputInfo]
        var loadNs: Int
        var samples: Int?
        var p50Ns: Nanoseconds?
        var p99Ns: Nanoseconds?
        var minNs: Nanoseconds?
        var meanNs: Nanoseconds?
        var source: MeasurementSource?
        var steps: [StepTiming]?
    }

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        // Each timed run keeps one sample: the bound keeps their array under 80 MB.
        if let r = `repeat`, !(1...10_000_000).contains(r) { throw ValidationError("--repeat must be 1...10000000") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
    }

    func run() throws {
        var options = EngineOptions(threads: threads, weightFormat: weightFormat)
        options.denseConvolutionKernel = denseKernel
        options.winogradConvolutions = !noWinograd
        options.bandsInvertedResiduals = !noBandedBlocks
        if let pin {
            guard let placement = WorkerPlacement(parsing: pin) else {
                throw ValidationError("--pin '\(pin)': expected a CPU list (0,1), 'cores' or 'kind:N'")
            }
            if case let .processingUnits(cpus) = placement, cpus.count < threads {
                throw ValidationError("--pin lists \(cpus.count) CPUs for \(threads) threads")
            }
            options.pinning = HardwareWorkerPinning(placement)
        }
        for text in shapes {
            let (name, shape) = try parseShapeOption(text)
            options.inputShapes[name] = shape
        }
        var given: [String: Tensor] = [:]
        for text in inputFiles {
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--input '\(text)': expected NAME=FILE.pb") }
            let tensor = try Tensor(contentsOfTensorProto: String(parts[1]))
            given[String(parts[0])] = tensor
            options.inputShapes[String(parts[0])] = tensor.shape
        }
        let model = try InferenceModel(contentsOf: file, options: options)
        if !model.pinningErrors.isEmpty { throw EngineError.invalidOption(name: "--pin", reason: model.pinningErrors.joined(separator: "; ")) }
        try model.pinCallingThread()
        model.fillInputsRandomly(seed: seed)
        for (name, tensor) in given { try model.setInput(name, tensor) }
        model.run()
        var outputs: [OutputInfo] = []
        for (index, description) in model.outputs.enumerated() {
            let tensor = try model.output(named: description.name)
            let path = saveOutputs.map { $0 + "/output_\(index).pb" }
            if let path { try tensor.writeTensorProto(to: path, name: description.name) }
            outputs.append(OutputInfo(name: description.name, shape: description.shape, file: path, head: Array(tensor.scalars.prefix(8))))
        }
        let latency = `repeat`.map { model.measureLatency(runs: $0, warmupRuns: warmup, clock: clock) }
        let steps = profileSteps ? model.profileSteps(runs: `repeat` ?? 10, warmupRuns: 1, clock: clock) : nil
        let load = model.loadDuration.components
        let report = Report(model: file, threads: threads, pinned: pin, inputs: model.inputs,
                            outputs: outputs, loadNs: Int(load.seconds) * 1_000_000_000 + Int(load.attoseconds / 1_000_000_000),
                            samples: latency?.samples, p50Ns: latency?.p50Ns, p99Ns: latency?.p99Ns, minNs: latency?.minNs,
                            meanNs: latency?.meanNs, source: latency?.source, steps: steps)
        if json {
            print(String(decoding: try JSONFile.encoder().encode(report), as: UTF8.self))
            return
        }
        for input in model.inputs { print("input   \(input)\(given[input.name] == nil ? " (random, seed \(seed))" : "")") }
        for output in outputs {
            print("output  \(output.name) [\(output.shape.map(String.init).joined(separator: "x"))] "
                  + output.head.map { String(format: "%.5g", $0) }.joined(separator: " ") + (output.head.count < Tensor.elementCount(output.shape) ? " …" : "")
                  + (output.file.map { " → \($0)" } ?? ""))
        }
        if let steps {
            let total = max(1, steps.reduce(.zero) { $0 + $1.p50Ns })
            for step in steps {
                let rate = step.gigaMACsPerSecond.map { String(format: " %7.2f GMAC/s", $0) } ?? ""
                print(String(format: "step    %-28@ %-20@ %9.3f ms %5.1f%%", step.node as NSString, step.opType as NSString,
                             step.p50Ns.milliseconds, 100 * (step.p50Ns / total)) + rate)
            }
        }
        if let latency {
            print(String(format: "latency p50 %.3f ms  p99 %.3f ms  min %.3f ms  (%d runs after %d warm-up, %d thread%@, %@)",
                         latency.p50Ns.milliseconds, latency.p99Ns.milliseconds, latency.minNs.milliseconds,
                         latency.samples, warmup, threads, threads == 1 ? "" : "s", latency.source.rawValue)
                  + (clock == .wall ? "" : ", thread CPU time"))
        }
    }
}

extension DenseConvolutionKernel: ExpressibleByArgument {}
extension TimingClock: ExpressibleByArgument {}

