// GearboxTraining/PortfolioEvaluation: `gearbox portfolio eval` and `portfolio new --eval`.
// Reads the user's labelled data (a NumPy `.npz` with `x` and `y`, or `idx:IMAGES,LABELS`),
// preprocesses it as the portfolio's task says (or as given), runs every variant over it with
// the engine in its declared format, and writes top-1 or top-5 accuracy with its source into
// portfolio.json atomically.

import Foundation
import GearboxCore
import GearboxEngine
import GearboxPortfolio

/// Labelled examples for evaluation, preprocessed into float32 inputs.
public struct EvaluationData: Sendable {
    /// Examples × per-example elements, row-major.
    public var inputs: [Float]
    public var labels: [Int]
    public var elementsPerExample: Int
    /// "DATA (N examples)" for accuracySource.
    public var description: String
    public var count: Int { labels.count }

    /// Reads `spec` (a `.npz` path or `idx:IMAGES,LABELS`) for a task with `inputShape` (batch
    /// first) and `classes`, applying `preprocess`: x = (value × scale − mean) / std.
    public init(spec: String, inputShape: [Int], classes: Int, preprocess: PortfolioManifest.Preprocess) throws {
        let x: NumPyArray, y: NumPyArray
        let source: String
        if spec.hasPrefix("idx:") {
            let parts = spec.dropFirst(4).split(separator: ",").map(String.init)
            guard parts.count == 2 else {
                throw TrainingError.badSetting(name: "data", reason: "'\(spec)': give idx:IMAGES,LABELS (IDX files, gzip or not)")
            }
            let images = try IDXFile.read(path: parts[0]), labels = try IDXFile.read(path: parts[1])
            x = NumPyArray(shape: images.shape, values: .uint8(images.values))
            y = NumPyArray(shape: labels.shape, values: .uint8(labels.values))
            source = parts[0]
        } else {
            let arrays = try NumPyArchive.read(path: spec)
            guard let xs = arrays["x"], let ys = arrays["y"] else {
                throw TrainingError.badDataset(path: spec, reason: "needs arrays 'x' (inputs) and 'y' (labels); it has \(arrays.keys.sorted().map { "'\($0)'" }.joined(separator: ", "))")
            }
            x = xs; y = ys
            source = spec
        }
        let perExample = inputShape.dropFirst().reduce(1, *)
        guard let n = x.shape.first, x.count == n * perExample, Array(x.shape.dropFirst()).reduce(1, *) == perExample else {
            throw TrainingError.badDataset(path: source, reason: "x has shape \(x.shape); the task needs N × \(Array(inputShape.dropFirst()))")
        }
        guard y.shape.count == 1, y.shape[0] == n, let labels = y.integers else {
            throw TrainingError.badDataset(path: source, reason: "y has shape \(y.shape) of \(y.dtype); it must hold \(n) integer labels")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= Int64(classes) }) {
            throw TrainingError.badDataset(path: source, reason: "label \(bad) is outside 0..<\(classes)")
        }
        let (scale, mean, std) = (Float(preprocess.scale), Float(preprocess.mean), Float(preprocess.std))
        guard std != 0 else { throw TrainingError.badSetting(name: "preprocess", reason: "std must not be 0") }
        inputs = x.floats.map { ($0 * scale - mean) / std }
        self.labels = labels.map { Int($0) }
        elementsPerExample = perExample
        description = "\(source) (\(n) examples)"
    }
}

public enum PortfolioEvaluation {
    /// One variant's measured accuracy.
    public struct Result: Codable, Sendable {
        public var variant: String
        public var format: String
        public var accuracy: Double
        public var source: String
    }

    /// Runs every variant of `portfolio` over `data` and returns top-`top` accuracies.
    public static func evaluate(_ portfolio: Portfolio, data: EvaluationData, top: Int) throws -> [Result] {
        guard top == 1 || top == 5 else { throw TrainingError.badSetting(name: "top", reason: "\(top): use 1 or 5") }
        let backend = EngineBackend()
        defer { backend.releaseAll() }
        return try portfolio.variants.map { variant in
            let runner = try backend.load(variant, from: portfolio)
            try runner.activate()
            guard let engine = runner as? EngineRunner else {
                throw PortfolioError.cannotLoad(variant: variant.name, path: portfolio.path(of: variant), reason: "not an engine variant")
            }
            let model = engine.model
            guard let input = model.inputs.first, let output = model.outputs.first, let batch = input.shape.first, batch >= 1,
                  input.elementCount == batch * data.elementsPerExample else {
                throw PortfolioError.cannotLoad(variant: variant.name, path: portfolio.path(of: variant),
                                                reason: "its input does not take \(data.elementsPerExample) values per example")
            }
            let classes = output.elementCount / batch
            var correct = 0
            var start = 0
            while start < data.count {
                let n = min(batch, data.count - start)
                model.withInputBuffer(at: 0) { buffer in
                    for i in 0..<buffer.count { buffer[i] = 0 }
                    for i in 0..<(n * data.elementsPerExample) { buffer[i] = data.inputs[start * data.elementsPerExample + i] }
                }
                try runner.runOnce()
                model.withOutputBuffer(at: 0) { scores in
                    for b in 0..<n {
                        let row = Array(scores[(b * classes)..<((b + 1) * classes)])
                        let label = data.labels[start + b]
                        // Rank of the label: how many classes score higher (ties favour lower indices, as argmax does).
                        let higher = row.indices.filter { row[$0] > row[label] || (row[$0] == row[label] && $0 < label) }.count
                        if higher < top { correct += 1 }
                    }
                }
                start += n
            }
            let accuracy = data.count == 0 ? 0 : Double(correct) / Double(data.count)
            let mask = variant.mask.map { " mask \($0)" } ?? ""
            return Result(variant: variant.name, format: variant.format.rawValue, accuracy: accuracy,
                          source: "gearbox engine (\(variant.format.rawValue)\(mask)) top-\(top) on \(data.description)")
        }
    }

    /// Evaluates and writes the accuracies into the portfolio's manifest atomically.
    public static func evaluateAndRecord(directory: String, data spec: String, top: Int,
                                         preprocess: PortfolioManifest.Preprocess?) throws -> [Result] {
        let portfolio = try Portfolio.open(directory: directory)
        var manifest = portfolio.manifest
        let data = try EvaluationData(spec: spec, inputShape: manifest.task.inputShape, classes: manifest.task.classes,
                                      preprocess: preprocess ?? manifest.task.preprocess)
        let results = try evaluate(portfolio, data: data, top: top)
        for result in results {
            guard let index = manifest.variants.firstIndex(where: { $0.name == result.variant }) else { continue }
            manifest.variants[index].accuracy = result.accuracy
            manifest.variants[index].accuracySource = result.source
        }
        try JSONFile.write(manifest, to: portfolio.manifestPath)
        return results
    }
}
