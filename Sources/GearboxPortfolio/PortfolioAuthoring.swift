// GearboxPortfolio/PortfolioAuthoring: portfolios from the user's own ONNX model. `create`
// writes the dense variant and one variant per requested setting (structured channel pruning
// over the engine's channel dependency analysis, csr/bsr/ubp by VariantConversion, channel
// masks) and a manifest with hashes, MACs and params; `inspect` checks a portfolio variant by
// variant; `add` brings in a variant made elsewhere. Every variant is loaded and run by the
// engine in its declared format before it is recorded.

import Foundation
import GearboxCore
import GearboxEngine

/// Why authoring or checking a portfolio failed, classified for the exit status.
public enum PortfolioAuthoringError: Error, ClassifiedError, CustomStringConvertible, Equatable {
    /// The user's input is wrong (a flag, a model that does not fit, a duplicate name): exit 2.
    case input(String)
    /// A check found a problem, or the environment failed: exit 1.
    case failed(String)

    public var exitStatus: ExitStatus {
        switch self {
        case .input: return .inputError
        case .failed: return .failure
        }
    }

    public var description: String {
        switch self {
        case let .input(message), let .failed(message): return message
        }
    }
}

/// What `portfolio new` makes.
public struct PortfolioRequest: Sendable {
    public var name: String
    public var model: String
    public var directory: String
    public var structured: [Double] = []
    public var unstructured: [Double] = []
    public var blocks: [(BlockShape, Double)] = []
    public var unalignedBlocks: [(BlockShape, Double)] = []
    public var masked: [Double] = []
    public var importance: ChannelImportance = .l1
    /// Also make `structured-from-sparse`: the model without its all-zero channels (lossless).
    public var fromSparse = false
    /// How inputs are scaled before the model sees them, recorded as the task's `preprocess`.
    public var preprocess = PortfolioManifest.Preprocess(scale: 1, mean: 0, std: 1)

    public init(name: String, model: String, directory: String) {
        self.name = name; self.model = model; self.directory = directory
    }
}

/// One variant as checked: its manifest entry and what the engine found.
public struct VariantCheck: Codable, Sendable {
    public var name: String
    public var file: String
    public var format: String
    public var macs: Int
    public var params: Int
    public var sparsity: Double
    public var accuracy: Double?
    public var accuracySource: String?
    /// Output shapes of the engine's run.
    public var outputShapes: [[Int]]
    /// What was checked ("hash, load, run, interface"), or the problem.
    public var problems: [String]
    public var ok: Bool { problems.isEmpty }
}

public enum PortfolioAuthoring {
    static func label(_ value: Double) -> String { String(format: "%.2f", value) }

    /// The task a model solves: its one input and the class count of its one output.
    public static func task(of model: InferenceModel, dataset: String = "custom") throws -> PortfolioManifest.Task {
        guard model.inputs.count == 1, let input = model.inputs.first else {
            throw PortfolioAuthoringError.input("\(model.source): has \(model.inputs.count) inputs; a portfolio's task has exactly one")
        }
        guard model.outputs.count == 1, let output = model.outputs.first, let classes = output.shape.last else {
            throw PortfolioAuthoringError.input("\(model.source): has \(model.outputs.count) outputs; a portfolio's task has exactly one (the class scores)")
        }
        return PortfolioManifest.Task(dataset: dataset, inputName: input.name, inputShape: input.shape, classes: classes,
                                      preprocess: .init(scale: 1, mean: 0, std: 1))
    }

    // MARK: new

    /// Writes the portfolio of `request` and returns its manifest and the checks of its variants.
    public static func create(_ request: PortfolioRequest) throws -> (PortfolioManifest, [VariantCheck]) {
        let manifestPath = request.directory + "/" + Portfolio.manifestFileName
        guard !FileManager.default.fileExists(atPath: manifestPath) else {
            throw PortfolioAuthoringError.input("\(manifestPath) already exists; choose another --out or remove that portfolio first")
        }
        let original: InferenceModel
        do { original = try InferenceModel(contentsOf: request.model) } catch {
            throw PortfolioAuthoringError.input("\(request.model): the engine cannot load it: \(error)")
        }
        var task = try Self.task(of: original)
        task.preprocess = request.preprocess
        if !request.masked.isEmpty, let grouped = original.weightLayers.first(where: { $0.description.groupCount > 1 }) {
            throw PortfolioAuthoringError.input(
                "\(request.model): --masked needs ungrouped Conv layers, but \(grouped.description.nodeName) is a grouped (e.g. depthwise) Conv; drop --masked for this model")
        }
        do { try FileManager.default.createDirectory(atPath: request.directory, withIntermediateDirectories: true) } catch {
            throw PortfolioAuthoringError.failed("cannot create \(request.directory): \(error.localizedDescription)")
        }
        var written: [String] = []
        func path(_ file: String) -> String { request.directory + "/" + file }
        do {
            var variants: [PortfolioManifest.Variant] = []
            let denseCost = ModelCost.dense(original)
            func copy(to file: String) throws {
                let target = path(file)
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: request.model, toPath: target)
                written.append(target)
            }
            try copy(to: "dense.onnx")
            variants.append(.init(name: "dense", file: "dense.onnx", format: .dense, method: "dense", sparsity: 0,
                                  params: denseCost.params, macs: denseCost.macs, accuracy: nil, accuracySource: nil))
            /// Writes a structurally pruned (smaller, dense) model as variant `name`.
            func addStructured(_ data: Data, params: Int, macs: Int, name: String, method: String) throws {
                let file = "\(name).onnx"
                try AtomicFile.write(data, to: path(file))
                written.append(path(file))
                variants.append(.init(
                    name: name, file: file, format: .dense, method: method,
                    sparsity: max(0, 1 - Double(params) / Double(max(1, denseCost.params))),
                    params: params, macs: macs, accuracy: nil, accuracySource: nil))
            }
            if !request.structured.isEmpty {
                let pruning = try StructuredPruning(contentsOf: request.model)
                for ratio in request.structured {
                    let (data, report) = try pruning.prune(.ratio(ratio, importance: request.importance))
                    try addStructured(data, params: report.params, macs: report.macs, name: "structured-\(label(ratio))",
                                      method: "structured-\(request.importance.rawValue)")
                }
            }
            if request.fromSparse {
                let (data, report) = try StructuredPruning(contentsOf: request.model).prune(.zeroChannels)
                try addStructured(data, params: report.params, macs: report.macs, name: "structured-from-sparse",
                                  method: "structured-zero-channels")
            }
            let sparse: [(WeightFormat, BlockShape?, Double, String, String)] =
                request.unstructured.map { (.csr, nil, $0, "csr-\(label($0))", "magnitude") }
                + request.blocks.map { (.bsr, $0.0, $0.1, "bsr-\($0.0)-\(label($0.1))", "block-magnitude") }
                + request.unalignedBlocks.map { (.ubp, $0.0, $0.1, "ubp-\($0.0)-\(label($0.1))", "ubp") }
            for (format, block, sparsity, name, method) in sparse {
                let file = name + ".onnx"
                let conversion = try VariantConversion(request: .init(format: format, block: block, sparsity: sparsity))
                let report = try conversion.convert(file: request.model, to: path(file))
                written.append(path(file))
                written.append(VariantConversion.reportPath(for: path(file)))
                let cost = try ModelCost.nonzero(onnxFile: path(file))
                variants.append(.init(name: name, file: file, format: PortfolioManifest.Format(rawValue: format.rawValue) ?? .dense,
                                      method: method, sparsity: report.achievedSparsity, params: cost.params, macs: cost.macs,
                                      accuracy: nil, accuracySource: nil, block: block?.description))
            }
            if !request.masked.isEmpty {
                try copy(to: "masked.onnx")
                for fraction in request.masked.sorted() {
                    let cost = try ModelCost.masked(onnxFile: path("masked.onnx"), fraction: fraction)
                    variants.append(.init(name: "masked-\(label(fraction))", file: "masked.onnx", format: .masked, method: "channel-mask",
                                          sparsity: max(0, 1 - Double(cost.params) / Double(max(1, denseCost.params))),
                                          params: cost.params, macs: cost.macs, accuracy: nil, accuracySource: nil, mask: label(fraction)))
                }
            }
            for index in variants.indices { variants[index].sha256 = try FileDigest.sha256Hex(ofFileAt: path(variants[index].file)) }
            let manifest = PortfolioManifest(name: request.name, task: task, variants: variants)
            let portfolio = Portfolio(directory: request.directory, manifest: manifest)
            try portfolio.checkConsistency()
            let checks = inspect(portfolio)
            if let bad = checks.first(where: { !$0.ok }) {
                throw PortfolioAuthoringError.failed("variant '\(bad.name)': \(bad.problems.joined(separator: "; ")); nothing written")
            }
            try JSONFile.write(manifest, to: manifestPath)
            return (manifest, checks)
        } catch {
            for file in written { try? FileManager.default.removeItem(atPath: file) }
            if let error = error as? PortfolioAuthoringError { throw error }
            if let error = error as? PortfolioError { throw PortfolioAuthoringError.failed("\(error)") }
            if let error = error as? FileFormatError, case .cannotWrite = error { throw PortfolioAuthoringError.failed("\(error)") }
            throw PortfolioAuthoringError.input("\(request.model): \(error)")
        }
    }

    // MARK: check

    /// What is wrong with the manifest as a whole (duplicate names, no variants, ...), if anything.
    public static func manifestProblem(_ portfolio: Portfolio) -> String? {
        do { try portfolio.checkConsistency() } catch { return "\(error)" }
        return nil
    }

    /// Checks every variant: file present with its hash, loadable and runnable in its format by
    /// the engine, the task's input and class count.
    public static func inspect(_ portfolio: Portfolio) -> [VariantCheck] {
        let backend = EngineBackend()
        defer { backend.releaseAll() }
        return portfolio.variants.indices.map { index in
            let variant = portfolio.variants[index]
            var check = VariantCheck(
                name: variant.name, file: variant.file, format: variant.format.rawValue, macs: variant.macs, params: variant.params,
                sparsity: variant.sparsity, accuracy: variant.accuracy, accuracySource: variant.accuracySource, outputShapes: [], problems: [])
            let path: String
            do { path = try portfolio.checkedFile(ofVariantAt: index) } catch {
                check.problems.append("\(error)")
                return check
            }
            if variant.sha256 == nil { check.problems.append("no sha256 in the manifest") }
            do {
                let runner = try backend.load(variant, from: portfolio)
                try runner.activate()
                try runner.runOnce()
                if let engine = runner as? EngineRunner {
                    check.outputShapes = engine.model.outputs.map(\.shape)
                    if let problem = Portfolio.interfaceProblem(
                        inputs: engine.model.inputs, outputs: engine.model.outputs, task: portfolio.manifest.task) {
                        check.problems.append("\(path): \(problem)")
                    }
                }
            } catch {
                check.problems.append("\(error)")
            }
            return check
        }
    }

    // MARK: add

    /// Adds the model in `file` as a variant of the portfolio in `directory` (copied in when it
    /// is outside), after checking it solves the portfolio's task and loads in its format.
    public static func add(
        directory: String, file: String, name: String?, accuracy: Double?, format: PortfolioManifest.Format, mask: String?
    ) throws -> PortfolioManifest.Variant {
        let manifestPath = directory + "/" + Portfolio.manifestFileName
        var manifest: PortfolioManifest
        do { manifest = try JSONFile.read(PortfolioManifest.self, from: manifestPath) } catch {
            throw PortfolioAuthoringError.input("\(manifestPath): \(JSONFile.shortReason(error)) (make one with 'gearbox portfolio new')")
        }
        let fileName = (file as NSString).lastPathComponent
        let variantName = name ?? (fileName as NSString).deletingPathExtension
        guard !manifest.variants.contains(where: { $0.name == variantName }) else {
            throw PortfolioAuthoringError.input("\(manifestPath): a variant named '\(variantName)' exists already; choose another --name")
        }
        if let accuracy, !(0...1).contains(accuracy) {
            throw PortfolioAuthoringError.input("--accuracy \(accuracy): give a fraction in [0, 1], e.g. 0.91")
        }
        if (mask != nil) != (format == .masked) {
            throw PortfolioAuthoringError.input("--mask goes with --format masked (and masked needs --mask, e.g. --mask 0.5)")
        }
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw PortfolioAuthoringError.input("\(file): no such file or not readable")
        }
        let model: InferenceModel
        do { model = try InferenceModel(contentsOf: file) } catch {
            throw PortfolioAuthoringError.input("\(file): the engine cannot load it: \(error)")
        }
        let task = manifest.task
        if let problem = Portfolio.interfaceProblem(inputs: model.inputs, outputs: model.outputs, task: task) {
            throw PortfolioAuthoringError.input("\(file): \(problem)")
        }
        let source = URL(fileURLWithPath: file).standardizedFileURL.path
        let inside = URL(fileURLWithPath: directory).standardizedFileURL.path + "/"
        let target = directory + "/" + fileName
        var copied = false
        if !source.hasPrefix(inside) {
            guard !FileManager.default.fileExists(atPath: target) else {
                throw PortfolioAuthoringError.input("\(target) exists already; rename \(file) or choose another portfolio")
            }
            do { try FileManager.default.copyItem(atPath: file, toPath: target) } catch {
                throw PortfolioAuthoringError.failed("cannot copy \(file) to \(target): \(error.localizedDescription)")
            }
            copied = true
        }
        let relative = source.hasPrefix(inside) ? String(source.dropFirst(inside.count)) : fileName
        do {
            let cost: ModelCost
            if PackedVariantFile.isPacked(path: target) {
                cost = ModelCost.dense(model)
            } else {
                switch format {
                case .dense: cost = ModelCost.dense(model)
                case .masked: cost = try ModelCost.masked(onnxFile: directory + "/" + relative, fraction: Double(mask ?? "") ?? 1)
                case .csr, .bsr, .ubp: cost = try ModelCost.nonzero(onnxFile: directory + "/" + relative)
                }
            }
            let denseParams = manifest.variants.first { $0.format == .dense }?.params ?? cost.params
            let variant = PortfolioManifest.Variant(
                name: variantName, file: relative, format: format, method: "added",
                sparsity: min(1, max(0, 1 - Double(cost.params) / Double(max(1, denseParams)))), params: cost.params, macs: cost.macs,
                accuracy: accuracy, accuracySource: accuracy == nil ? nil : "given with gearbox portfolio add --accuracy",
                sha256: try FileDigest.sha256Hex(ofFileAt: directory + "/" + relative), mask: mask)
            let updated = PortfolioManifest(name: manifest.name, task: task, variants: manifest.variants + [variant])
            let portfolio = Portfolio(directory: directory, manifest: updated)
            if let check = inspect(Portfolio(directory: directory, manifest: PortfolioManifest(name: manifest.name, task: task, variants: [variant]))).first,
               !check.ok {
                throw PortfolioAuthoringError.input("\(file): \(check.problems.joined(separator: "; "))")
            }
            try portfolio.checkConsistency()
            manifest = updated
            try JSONFile.write(manifest, to: manifestPath)
            return variant
        } catch {
            if copied { try? FileManager.default.removeItem(atPath: target) }
            if let error = error as? PortfolioAuthoringError { throw error }
            if let error = error as? FileFormatError, case .cannotWrite = error { throw PortfolioAuthoringError.failed("\(error)") }
            throw PortfolioAuthoringError.input("\(file): \(error)")
        }
    }
}
