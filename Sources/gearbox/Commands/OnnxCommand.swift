// gearbox onnx: inspect ONNX models (`check`) and run the official ONNX backend tests through
// the engine (`conformance`). Parsing and printing only; the work is in GearboxEngine.

import ArgumentParser
import Foundation
import GearboxBenchmarks
import GearboxCore
import GearboxEngine

struct OnnxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onnx",
        abstract: "Inspect ONNX models and run the ONNX conformance tests.",
        subcommands: [OnnxCheckCommand.self, OnnxConformanceCommand.self]
    )
}

/// Parses NAME=1x3x224x224 into a name and a shape.
func parseShapeOption(_ text: String) throws -> (String, [Int]) {
    let parts = text.split(separator: "=", maxSplits: 1)
    guard parts.count == 2 else { throw ValidationError("--shape '\(text)': expected NAME=DxDx… (e.g. input=1x3x224x224)") }
    let fields = parts[1].lowercased().split(separator: "x")
    let dims = fields.compactMap { Int($0) }
    guard !fields.isEmpty, dims.count == fields.count, dims.allSatisfy({ $0 >= 0 }) else {
        throw ValidationError("--shape '\(text)': dimensions must be non-negative integers separated by x")
    }
    return (String(parts[0]), dims)
}

struct OnnxCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load a model and print its inputs, outputs, operators, MACs and parameters.",
        discussion: """
            Loads the model exactly as `gearbox run` would (shape inference, BatchNorm folding, \
            fusion, memory planning), so an unsupported operator or shape fails here with the node \
            and the reason. A packed variant file (.gbpk) is accepted too: its weights are mapped.

            Example:
              gearbox onnx check model.onnx
              gearbox onnx check model.csr.gbpk
              gearbox onnx check model.onnx --shape input=1x3x224x224 --json
            """
    )

    @Argument(help: "The ONNX model file (or a packed .gbpk variant).") var file: String
    @Option(name: .customLong("shape"), help: "Concrete shape for an input with symbolic dimensions: NAME=1x3x224x224 (repeatable).")
    var shapes: [String] = []
    @Flag(help: "Print JSON instead of text.") var json = false

    struct Report: Codable {
        var file: String
        var inputs: [TensorDescription]
        var outputs: [TensorDescription]
        var operators: [String: Int]
        var nodes: Int
        var steps: Int
        var macs: Int
        var parameters: Int
        var weightBytes: Int
        /// Of `weightBytes`, bytes mapped from a packed .gbpk file (0 for ONNX).
        var mappedWeightBytes: Int
        var arenaBytes: Int
        var loadMilliseconds: Double
    }

    func run() throws {
        var options = EngineOptions()
        for text in shapes {
            let (name, shape) = try parseShapeOption(text)
            options.inputShapes[name] = shape
        }
        let model = try InferenceModel(contentsOf: file, options: options)
        let s = model.statistics
        let report = Report(file: file, inputs: model.inputs, outputs: model.outputs, operators: s.operatorCounts, nodes: s.nodeCount,
                            steps: s.stepCount, macs: s.macs, parameters: s.parameters, weightBytes: model.weightBytes,
                            mappedWeightBytes: model.mappedWeightBytes, arenaBytes: model.arenaBytes, loadMilliseconds: Double(model.loadDuration.components.attoseconds) / 1e15
                                + Double(model.loadDuration.components.seconds) * 1e3)
        if json {
            let data = try JSONFile.encoder().encode(report)
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("model      \(file)")
        for input in model.inputs { print("input      \(input)") }
        for output in model.outputs { print("output     \(output)") }
        print("operators  " + s.operatorCounts.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))
        print("nodes      \(s.nodeCount) (\(s.stepCount) steps after folding and fusion)")
        print("MACs       \(s.macs.formatted()) (\(String(format: "%.3f", Double(s.macs) / 1e9)) G)")
        print("parameters \(s.parameters.formatted())")
        let mapped = model.mappedWeightBytes > 0 ? " (\(model.mappedWeightBytes.formatted()) B mapped from the packed file, not copied)" : ""
        print("memory     weights \(model.weightBytes.formatted()) B\(mapped), arena \(model.arenaBytes.formatted()) B")
        print("load       \(String(format: "%.2f", report.loadMilliseconds)) ms")
    }
}

struct OnnxConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run the official ONNX backend tests the engine supports and compare outputs.",
        discussion: """
            Runs every test under DIR/{node,pytorch-converted,pytorch-operator,simple} (Debian \
            package libonnx-testdata) whose operators the engine implements, compares each output \
            with rtol 1e-3 and atol 1e-7, and skips the rest with the reason. Ends with the line \
            "N passed, N failed, N skipped"; exits 1 when any test fails.

            Example:
              gearbox onnx conformance
              gearbox onnx conformance --filter 'node/test_conv' --verbose
            """
    )

    @Option(name: .customLong("data-dir"), help: "Directory holding node/, pytorch-converted/, … ")
    var dataDirectory = ConformanceOptions.defaultDataDirectory
    @Option(help: "Only tests whose suite/name matches this regular expression.") var filter: String?
    @Option(help: "Worker threads per model.") var threads = 1
    @Flag(help: "Print every test, including skipped ones with their reason.") var verbose = false
    @Flag(help: "Print the full report as JSON.") var json = false

    func run() throws {
        let options = ConformanceOptions(dataDirectory: dataDirectory, filter: filter, threads: threads)
        let report = try Conformance.run(options) { result in
            guard !json else { return }
            if result.status == .failed || verbose {
                print("\(result.status.rawValue.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0)) \(result.suite)/\(result.name)"
                      + (result.reason.map { ": \($0)" } ?? ""))
            }
        }
        if json {
            struct Output: Codable { var summary: String; var passed, failed, skipped: Int; var results: [ConformanceResult] }
            let data = try JSONFile.encoder().encode(Output(summary: report.summaryLine, passed: report.passed, failed: report.failed,
                                                            skipped: report.skipped, results: report.results))
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.summaryLine)
        }
        if report.failed > 0 { throw CommandError.failure("\(report.failed) conformance test(s) failed") }
    }
}
