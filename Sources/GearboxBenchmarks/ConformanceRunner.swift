// GearboxBenchmarks/ConformanceRunner: runs the official ONNX backend test data (Debian's
// libonnx-testdata: node/, pytorch-converted/, pytorch-operator/, simple/) through the engine
// and compares every output with the reference, using the ONNX backend tolerances. Tests the
// engine cannot run (operators, data types or attributes it lacks) are skipped with the reason.

import Foundation
import GearboxEngine

/// What to run.
public struct ConformanceOptions: Sendable {
    /// Root holding node/, pytorch-converted/, … (Debian: /usr/share/libonnx-testdata/data).
    public var dataDirectory: String
    /// Only tests whose "suite/name" matches this regular expression.
    public var filter: String?
    public var suites: [String]
    /// Worker threads per model.
    public var threads: Int
    /// ONNX backend tolerances: |actual − expected| ≤ atol + rtol · |expected|.
    public var relativeTolerance: Float
    public var absoluteTolerance: Float

    public static let defaultDataDirectory = "/usr/share/libonnx-testdata/data"
    public static let defaultSuites = ["node", "pytorch-converted", "pytorch-operator", "simple"]

    public init(dataDirectory: String = ConformanceOptions.defaultDataDirectory, filter: String? = nil,
                suites: [String] = ConformanceOptions.defaultSuites, threads: Int = 1,
                relativeTolerance: Float = 1e-3, absoluteTolerance: Float = 1e-7) {
        self.dataDirectory = dataDirectory
        self.filter = filter
        self.suites = suites
        self.threads = threads
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
    }
}

/// The outcome of one test directory.
public struct ConformanceResult: Sendable, Codable {
    public enum Status: String, Sendable, Codable { case passed, failed, skipped }
    public var suite: String
    public var name: String
    public var status: Status
    /// Why it failed or was skipped (nil when passed).
    public var reason: String?
    /// Largest |actual − expected| over all outputs and data sets (nil unless compared).
    public var maxAbsoluteError: Float?
}

/// All results and their counts.
public struct ConformanceReport: Sendable, Codable {
    public var results: [ConformanceResult]
    public var passed: Int { results.filter { $0.status == .passed }.count }
    public var failed: Int { results.filter { $0.status == .failed }.count }
    public var skipped: Int { results.filter { $0.status == .skipped }.count }
    /// "N passed, N failed, N skipped".
    public var summaryLine: String { "\(passed) passed, \(failed) failed, \(skipped) skipped" }
}

/// Runs the ONNX backend tests.
public enum Conformance {
    /// Whether the test data is installed at `directory`.
    public static func dataAvailable(at directory: String = ConformanceOptions.defaultDataDirectory) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/node")
    }

    /// Runs every matching test; `progress` sees each result as it completes.
    /// - Throws: `EngineError.cannotRead` when the data directory is missing; bad filters throw `invalidOption`.
    public static func run(_ options: ConformanceOptions = ConformanceOptions(),
                           progress: ((ConformanceResult) -> Void)? = nil) throws -> ConformanceReport {
        let fm = FileManager.default
        guard fm.fileExists(atPath: options.dataDirectory) else {
            throw EngineError.cannotRead(path: options.dataDirectory, reason: "no ONNX test data here (apt-get install libonnx-testdata, or pass --data-dir)")
        }
        let regex: Regex<AnyRegexOutput>?
        do { regex = try options.filter.map { try Regex($0) } } catch {
            throw EngineError.invalidOption(name: "filter", reason: "'\(options.filter ?? "")' is not a valid regular expression")
        }
        var results: [ConformanceResult] = []
        for suite in options.suites {
            let directory = options.dataDirectory + "/" + suite
            guard let names = try? fm.contentsOfDirectory(atPath: directory) else { continue }
            for name in names.sorted() {
                let id = suite + "/" + name
                if let regex, (try? regex.firstMatch(in: id)) == nil { continue }
                guard fm.fileExists(atPath: directory + "/" + name + "/model.onnx") else { continue }
                let result = runTest(suite: suite, name: name, directory: directory + "/" + name, options: options)
                results.append(result)
                progress?(result)
            }
        }
        return ConformanceReport(results: results)
    }

    static func runTest(suite: String, name: String, directory: String, options: ConformanceOptions) -> ConformanceResult {
        var result = ConformanceResult(suite: suite, name: name, status: .passed, reason: nil, maxAbsoluteError: nil)
        func finish(_ status: ConformanceResult.Status, _ reason: String) -> ConformanceResult {
            result.status = status
            result.reason = reason
            return result
        }
        let graph: Graph
        do { graph = try ONNXImporter.graph(fromFile: directory + "/model.onnx") } catch let error as EngineError {
            return finish(isSkippable(error) ? .skipped : .failed, error.description)
        } catch { return finish(.failed, "\(error)") }
        // Skip early on operators the engine lacks, so the reason names them all.
        let missing = Set(graph.nodes.map(\.opType)).subtracting(OperatorCatalog.operatorTypes).sorted()
        if !missing.isEmpty { return finish(.skipped, "unsupported operator\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", "))") }
        if let output = graph.outputs.first(where: { $0.elementType != .float && $0.elementType != .undefined }) {
            return finish(.skipped, "output '\(output.name)' is \(output.elementType); the engine produces float32")
        }
        let fm = FileManager.default
        let sets = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("test_data_set_") }.sorted()
        guard !sets.isEmpty else { return finish(.skipped, "no test_data_set_* directories") }
        let parameterInputs = OperatorCatalog.parameterInputNames(of: graph)
        var worst: Float = 0
        for set in sets {
            let setDirectory = directory + "/" + set
            var engineOptions = EngineOptions(threads: options.threads)
            var feeds: [String: Tensor] = [:]
            do {
                for (index, input) in graph.inputs.enumerated() {
                    let path = setDirectory + "/input_\(index).pb"
                    guard fm.fileExists(atPath: path) else { continue }
                    let file = try TensorProtoFile(contentsOf: path)
                    if let tensor = file.floatTensor, !parameterInputs.contains(input.name) {
                        engineOptions.inputShapes[input.name] = tensor.shape
                        feeds[input.name] = tensor
                    } else {
                        engineOptions.bindConstantInput(input.name, from: file)
                    }
                }
            } catch let error as EngineError {
                return finish(isSkippable(error) ? .skipped : .failed, "\(set): \(error.description)")
            } catch { return finish(.failed, "\(set): \(error)") }
            let model: InferenceModel
            do {
                model = try InferenceModel(graph: graph, source: directory + "/model.onnx", options: engineOptions)
            } catch let error as EngineError {
                return finish(isSkippable(error) ? .skipped : .failed, error.description)
            } catch { return finish(.failed, "\(error)") }
            let outputs: [String: Tensor]
            do { outputs = try model.run(feeds) } catch { return finish(.failed, "\(set): \(error)") }
            for (index, output) in graph.outputs.enumerated() {
                let path = setDirectory + "/output_\(index).pb"
                let expected: TensorProtoFile
                do { expected = try TensorProtoFile(contentsOf: path) } catch let error as EngineError {
                    return finish(isSkippable(error) ? .skipped : .failed, "\(set): expected output: \(error.description)")
                } catch { return finish(.failed, "\(error)") }
                guard let reference = expected.floatTensor else {
                    return finish(.skipped, "expected output \(index) is \(expected.elementTypeName)")
                }
                guard let actual = outputs[output.name] else { return finish(.failed, "\(set): output '\(output.name)' missing") }
                guard actual.shape == reference.shape else {
                    return finish(.failed, "\(set): output '\(output.name)' has shape \(actual.shape), expected \(reference.shape)")
                }
                let comparison = compare(actual, reference, rtol: options.relativeTolerance, atol: options.absoluteTolerance)
                worst = max(worst, comparison.maxError)
                result.maxAbsoluteError = worst
                if let bad = comparison.firstMismatch {
                    return finish(.failed, "\(set): output '\(output.name)'[\(bad.index)] = \(bad.actual), expected \(bad.expected) (max |error| \(comparison.maxError))")
                }
            }
        }
        return result
    }

    static func isSkippable(_ error: EngineError) -> Bool {
        switch error {
        case .unsupportedNode, .unsupportedOpset: return true
        default: return false
        }
    }

    struct Comparison {
        var maxError: Float = 0
        var firstMismatch: (index: Int, actual: Float, expected: Float)?
    }

    static func compare(_ actual: Tensor, _ expected: Tensor, rtol: Float, atol: Float) -> Comparison {
        var comparison = Comparison()
        actual.withUnsafeBufferPointer { a in
            expected.withUnsafeBufferPointer { e in
                for i in 0..<a.count {
                    let x = a[i], y = e[i]
                    if x.isNaN && y.isNaN { continue }
                    if x == y { continue }
                    let error = abs(x - y)
                    if !error.isNaN { comparison.maxError = max(comparison.maxError, error) }
                    if !(error <= atol + rtol * abs(y)), comparison.firstMismatch == nil {
                        comparison.firstMismatch = (i, x, y)
                    }
                }
            }
        }
        return comparison
    }
}
