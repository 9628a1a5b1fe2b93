// gearbox portfolio new / check / add / eval: portfolios from the user's own ONNX model. Parsing and
// printing only; GearboxPortfolio's PortfolioAuthoring does the work.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxEngine
import GearboxPortfolio
import GearboxTraining

/// Prints checked variants as a table.
func printVariantTable(_ checks: [VariantCheck]) {
    let header = ["variant", "format", "MACs", "params", "sparsity", "accuracy", "check"]
    let rows = checks.map { c in
        [c.name, c.format, "\(c.macs)", "\(c.params)", String(format: "%.2f", c.sparsity),
         c.accuracy.map { String(format: "%.4f", $0) } ?? "null", c.ok ? "ok" : c.problems.joined(separator: "; ")]
    }
    let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
    for row in [header] + rows {
        print(row.indices.map { i in row[i].padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}

struct PortfolioNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Make a portfolio from your own ONNX model.",
        discussion: """
            Writes the dense variant plus one variant per setting: structured channel pruning \
            at each ratio (the channel dependency analysis of the graph decides which channels \
            go together; groups it cannot follow are left whole), magnitude (csr), aligned block \
            (bsr) and unaligned block (ubp) sparsity, and channel masks sharing one file. Every \
            variant is loaded and run by the engine in its format; structured pruning at 1.0 \
            must reproduce the original's outputs. portfolio.json records files, hashes, MACs, \
            params and formats; accuracy is null until measured (structured pruning without \
            fine-tuning loses accuracy: bring fine-tuned variants with 'gearbox portfolio add').

            Example:
              gearbox portfolio new mynet --from model.onnx --structured 0.5,0.75 --unstructured 0.8 \\
                --blocks 4x4:0.8 --ubp 4x4:0.8 --masked 0.5,1
            """
    )

    @Argument(help: "Portfolio name.")
    var name: String

    @Option(help: "The dense ONNX model.")
    var from: String

    @Option(help: "Structured keep ratios in (0, 1], e.g. 0.5,0.75.")
    var structured: String?

    @Option(help: "Unstructured (csr) sparsities in [0, 1], e.g. 0.8.")
    var unstructured: String?

    @Option(help: "Aligned block (bsr) settings RxC:S, e.g. 4x4:0.8.")
    var blocks: String?

    @Option(help: "Unaligned block (ubp) settings RxC:S, e.g. 4x4:0.8.")
    var ubp: String?

    @Option(help: "Channel mask fractions in (0, 1], e.g. 0.5,1.")
    var masked: String?

    @Flag(help: "Also make structured-from-sparse: the model without its all-zero channels (lossless, checked).")
    var fromSparse = false

    @Option(help: "Channel importance for structured pruning: l1, l2 or bn.")
    var importance: String = "l1"

    @Option(help: "Labelled data to measure accuracy on: a .npz with x and y, or idx:IMAGES,LABELS.")
    var eval: String?

    @Option(help: "With --eval: preprocessing scale=S,mean=M,std=D (default: none, x as stored).")
    var preprocess: String?

    @Option(help: "Output directory (default Portfolios/NAME).")
    var out: String?

    @Flag(help: "Print the manifest and checks as JSON.")
    var json = false

    static func fractions(_ text: String?, flag: String, range: ClosedRange<Double>, excludeZero: Bool) throws -> [Double] {
        guard let text else { return [] }
        return try text.split(separator: ",").map { part in
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let value = Double(trimmed), range.contains(value), !(excludeZero && value == 0) else {
                throw ValidationError("--\(flag) '\(text)': give comma-separated fractions in \(excludeZero ? "(0, 1]" : "[0, 1]"), e.g. 0.5,0.75")
            }
            return value
        }
    }

    static func blockSettings(_ text: String?, flag: String) throws -> [(BlockShape, Double)] {
        guard let text else { return [] }
        return try text.split(separator: ",").map { part in
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, let shape = try? BlockShape(parsing: String(pieces[0])), let sparsity = Double(pieces[1]),
                  (0...1).contains(sparsity) else {
                throw ValidationError("--\(flag) '\(text)': give comma-separated RxC:S settings, e.g. 4x4:0.8")
            }
            return (shape, sparsity)
        }
    }

    func run() throws {
        guard let importance = ChannelImportance(rawValue: importance) else {
            throw ValidationError("--importance '\(importance)': choose l1, l2 or bn")
        }
        if let problem = SafeName.problem(name) { throw ValidationError("portfolio name '\(name)': \(problem)") }
        var request = PortfolioRequest(name: name, model: from, directory: out ?? "Portfolios/\(name)")
        request.structured = try Self.fractions(structured, flag: "structured", range: 0...1, excludeZero: true)
        request.unstructured = try Self.fractions(unstructured, flag: "unstructured", range: 0...1, excludeZero: false)
        request.masked = try Self.fractions(masked, flag: "masked", range: 0...1, excludeZero: true)
        request.blocks = try Self.blockSettings(blocks, flag: "blocks")
        request.unalignedBlocks = try Self.blockSettings(ubp, flag: "ubp")
        request.importance = importance
        request.fromSparse = fromSparse
        // --preprocess goes with --eval: it is how the evaluation data is read, so the task records it.
        if eval != nil, let preprocess { request.preprocess = try PortfolioEvalCommand.parsePreprocess(preprocess) }

        var (manifest, checks) = try PortfolioAuthoring.create(request)
        if let eval {
            // Evaluation preprocesses as the task just written says, and records accuracies in it.
            let results = try PortfolioEvaluation.evaluateAndRecord(directory: request.directory, data: eval, top: 1, preprocess: nil)
            manifest = try JSONFile.read(PortfolioManifest.self, from: request.directory + "/" + Portfolio.manifestFileName)
            for index in checks.indices {
                if let result = results.first(where: { $0.variant == checks[index].name }) {
                    checks[index].accuracy = result.accuracy
                    checks[index].accuracySource = result.source
                }
            }
        }
        if json {
            struct Output: Encodable { var directory: String; var manifest: PortfolioManifest; var checks: [VariantCheck] }
            print(String(decoding: try JSONFile.encoder().encode(Output(directory: request.directory, manifest: manifest, checks: checks)), as: UTF8.self))
            return
        }
        let accuracyNote = eval.map { "accuracy measured by the engine on \($0)" } ?? "accuracy not measured"
        print("\(request.directory)/\(Portfolio.manifestFileName): \(manifest.variants.count) variants from \(request.model) (MACs and params computed by the engine; \(accuracyNote))")
        printVariantTable(checks)
    }
}

struct PortfolioCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check every variant of a portfolio: file and hash, engine load and run, task interface.",
        discussion: "Exit status 1 when any variant has a problem, 2 when the manifest cannot be read."
    )

    @Argument(help: "The portfolio directory (holding portfolio.json).")
    var directory: String

    @Flag(help: "Print the checks as JSON.")
    var json = false

    func run() throws {
        let dir = Portfolio.directoryPath(directory)
        let manifestPath = dir + "/" + Portfolio.manifestFileName
        let manifest: PortfolioManifest
        manifest = try JSONFile.read(PortfolioManifest.self, from: manifestPath)
        let portfolio = Portfolio(directory: dir, manifest: manifest)
        var checks = PortfolioAuthoring.inspect(portfolio)
        let manifestProblem = PortfolioAuthoring.manifestProblem(portfolio)
        if json {
            struct Output: Encodable { var portfolio: String; var ok: Bool; var manifestProblem: String?; var variants: [VariantCheck] }
            let ok = manifestProblem == nil && checks.allSatisfy(\.ok)
            print(String(decoding: try JSONFile.encoder().encode(Output(portfolio: dir, ok: ok, manifestProblem: manifestProblem, variants: checks)), as: UTF8.self))
        } else {
            print("\(manifestPath): \(manifest.name), task \(manifest.task.inputName) \(manifest.task.inputShape) → \(manifest.task.classes) classes")
            printVariantTable(checks)
            for check in checks { print("  \(check.name): accuracy \(check.accuracy.map { String(format: "%.4f", $0) } ?? "null") (\(check.accuracySource ?? "no source"))") }
        }
        checks.removeAll { $0.ok }
        if let manifestProblem { throw PortfolioAuthoringError.failed(manifestProblem) }
        if let first = checks.first {
            throw PortfolioAuthoringError.failed(
                "variant '\(first.name)': \(first.problems.joined(separator: "; "))\(checks.count > 1 ? " (and \(checks.count - 1) more variants)" : "")")
        }
    }
}

struct PortfolioAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a variant made elsewhere (ONNX or .gbpk) to a portfolio.",
        discussion: """
            The file is copied into the portfolio directory when it is outside it. Refused (exit \
            2, one line): a model whose input or outputs differ from the portfolio's task, a \
            name the portfolio has already, a format the file does not load in.

            Example:
              gearbox portfolio add Portfolios/mynet finetuned-0.5.onnx --name finetuned-0.50 --accuracy 0.91
            """
    )

    @Argument(help: "The portfolio directory.")
    var directory: String

    @Argument(help: "The variant's file (.onnx or .gbpk).")
    var file: String

    @Option(help: "Variant name (default: the file name without extension).")
    var name: String?

    @Option(help: "Top-1 accuracy as a fraction, measured elsewhere.")
    var accuracy: Double?

    @Option(help: "Weight format: dense, csr, bsr, ubp or masked.")
    var format: String = "dense"

    @Option(help: "For --format masked: the kept channel fraction, e.g. 0.5.")
    var mask: String?

    func run() throws {
        guard let format = PortfolioManifest.Format(rawValue: format) else {
            throw ValidationError("--format '\(format)': choose \(PortfolioManifest.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let dir = Portfolio.directoryPath(directory)
        let variant = try PortfolioAuthoring.add(directory: dir, file: file, name: name, accuracy: accuracy, format: format, mask: mask)
        print("\(dir)/\(Portfolio.manifestFileName): added '\(variant.name)' (\(variant.format.rawValue), \(variant.macs) MACs, \(variant.params) params, file \(variant.file))")
    }
}

struct PortfolioEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure every variant's accuracy on labelled data with the engine and record it in portfolio.json.",
        discussion: """
            DATA is a NumPy .npz with arrays x (N × the input shape without batch; float32 or \
            uint8) and y (N integer labels), or idx:IMAGES,LABELS (IDX files, gzip or not). \
            Inputs are preprocessed as the portfolio's task.preprocess says, or as \
            --preprocess scale=S,mean=M,std=D says: x = (value × scale − mean) / std.

            Example:
              gearbox portfolio eval Portfolios/mynet --data test.npz --top 1
            """
    )

    @Argument(help: "The portfolio directory.")
    var directory: String

    @Option(help: "Labelled data: a .npz with x and y, or idx:IMAGES,LABELS.")
    var data: String

    @Option(help: "Top-k accuracy: 1 or 5.")
    var top: Int = 1

    @Option(help: "Preprocessing scale=S,mean=M,std=D (default: the portfolio's task.preprocess).")
    var preprocess: String?

    @Flag(help: "Print the results as JSON.")
    var json = false

    static func parsePreprocess(_ text: String) throws -> PortfolioManifest.Preprocess {
        var values: [String: Double] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, ["scale", "mean", "std"].contains(pair[0]), let value = Double(pair[1]) else {
                throw ValidationError("--preprocess '\(text)': give scale=S,mean=M,std=D, e.g. scale=0.00392156862745098,mean=0.286,std=0.353")
            }
            values[pair[0]] = value
        }
        guard (values["std"] ?? 1) != 0 else { throw ValidationError("--preprocess '\(text)': std must not be 0") }
        return .init(scale: values["scale"] ?? 1, mean: values["mean"] ?? 0, std: values["std"] ?? 1)
    }

    func run() throws {
        guard top == 1 || top == 5 else { throw ValidationError("--top \(top): use 1 or 5") }
        let results = try PortfolioEvaluation.evaluateAndRecord(
            directory: Portfolio.directoryPath(directory), data: data, top: top, preprocess: try preprocess.map(Self.parsePreprocess))
        if json {
            print(String(decoding: try JSONFile.encoder().encode(results), as: UTF8.self))
            return
        }
        for result in results {
            print("\(result.variant.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(format: "%.4f", result.accuracy))  \(result.source)")
        }
    }
}
