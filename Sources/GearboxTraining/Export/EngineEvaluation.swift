// GearboxTraining/EngineEvaluation: the engine's view of an exported variant: load the ONNX
// file in the variant's weight format (csr, bsr, ubp, masked at a level, or dense), run every
// test image through it in batches, and time single-image inferences. Portfolio accuracies come
// from here, never from the trainer.

import Foundation
import GearboxEngine
import GearboxPortfolio

/// How to load a variant file into the engine.
struct EngineLoad {
    var path: String
    var format: PortfolioManifest.Format
    var block: String?
    /// For masked: every fraction the shared weights serve, and the one to select.
    var maskFractions: [Double] = []
    var maskFraction: Double?

    /// Loads the file as it is (batch 1, as exported) with `threads` workers.
    func model(threads: Int) throws -> InferenceModel {
        var options = EngineOptions(threads: threads, weightFormat: format.rawValue)
        if let block {
            guard let shape = WeightBlockShape(parsing: block) else {
                throw TrainingError.badSetting(name: "block", reason: "'\(block)' is not RxC")
            }
            options.weightBlock = shape
        }
        if format == .masked {
            let fractions = maskFractions.sorted()
            let selection = try MaskSelection(levelCount: fractions.count)
            if let f = maskFraction, let level = fractions.firstIndex(of: f) { try selection.select(level: level) }
            options.weightFormats = WeightFormatRegistry([try MaskedFormatFactory(selection: selection, fractions: fractions)])
        } else {
            options.weightFormats = .prunedFormats
        }
        return try InferenceModel(contentsOf: path, options: options)
    }
}

enum EngineEvaluation {
    /// Logits (N × classes, row-major) of every image in `data`, one image per run through the
    /// exported file exactly as a deployment would run it.
    static func logits(_ load: EngineLoad, on data: ImageDataset, threads: Int) throws -> [Float] {
        let batch = 1
        let model = try load.model(threads: threads)
        let p = data.pixelsPerImage
        let (scale, mean, std) = (Float(FashionMNIST.preprocess.scale), Float(FashionMNIST.preprocess.mean),
                                  Float(FashionMNIST.preprocess.std))
        var out: [Float] = []
        out.reserveCapacity(data.count * data.classes)
        var start = 0
        while start < data.count {
            let count = min(batch, data.count - start)
            model.withInputBuffer(at: 0) { buffer in
                for i in 0..<(batch * p) { buffer[i] = 0 }
                for i in 0..<(count * p) {
                    buffer[i] = (Float(data.images[start * p + i]) * scale - mean) / std
                }
            }
            model.run()
            model.withOutputBuffer(at: 0) { buffer in out.append(contentsOf: buffer[0..<(count * data.classes)]) }
            start += count
        }
        return out
    }

    /// Top-1 accuracy of `logits` against `data`'s labels.
    static func accuracy(_ logits: [Float], _ data: ImageDataset) -> Double {
        let k = data.classes
        var correct = 0
        for i in 0..<data.count {
            var best = 0
            for j in 1..<k where logits[i * k + j] > logits[i * k + best] { best = j }
            if best == Int(data.labels[i]) { correct += 1 }
        }
        return data.count == 0 ? 0 : Double(correct) / Double(data.count)
    }

    /// p50 of `runs` single-image inferences on one thread (after warm-up), on a fixed test image.
    static func latency(_ load: EngineLoad, runs: Int, image: [Float]) throws -> TimedRunsSummary {
        let model = try load.model(threads: 1)
        model.withInputBuffer(at: 0) { buffer in for i in 0..<buffer.count { buffer[i] = image[i] } }
        return model.measureLatency(runs: runs, warmupRuns: max(3, runs / 10))
    }

    /// Times two variants in alternating blocks (A, B, A, B, …) so that a change in the load of
    /// a shared machine hits both alike; returns each one's summary over all its samples.
    static func pairedLatency(_ a: EngineLoad, _ b: EngineLoad, runs: Int, image: [Float]) throws -> (TimedRunsSummary, TimedRunsSummary) {
        let models = try [a.model(threads: 1), b.model(threads: 1)]
        for model in models {
            model.withInputBuffer(at: 0) { buffer in for i in 0..<buffer.count { buffer[i] = image[i] } }
            for _ in 0..<max(3, runs / 10) { model.run() }
        }
        let blocks = 10
        let perBlock = max(1, runs / blocks)
        var samples: [[Int]] = [[], []]
        for _ in 0..<blocks {
            for (i, model) in models.enumerated() {
                let s = model.measureLatency(runs: perBlock, warmupRuns: 1)
                samples[i] += [Int](repeating: Int(s.p50Ns.wholeNanoseconds), count: perBlock)
            }
        }
        return (TimedRunsSummary(nanoseconds: samples[0]), TimedRunsSummary(nanoseconds: samples[1]))
    }
}
