// Tests for GearboxTraining/Portfolio/PortfolioEvaluation: EvaluationData read from IDX files
// (NumPyFileTests covers .npz), its errors, and evaluate / evaluateAndRecord over a tiny
// synthesized portfolio. Accuracies are checked with a model-independent fact: when every image
// appears once with each of the 10 labels, exactly one label per image is its top-1 class and
// exactly five are in its top 5, whatever the weights, so top-1 must be 1/10 and top-5 5/10.

import Foundation
import GearboxCore
import GearboxPortfolio
import GearboxTestSupport
import Testing

@testable import GearboxTraining

@Suite struct PortfolioEvaluationTests {
    static let none = PortfolioManifest.Preprocess(scale: 1, mean: 0, std: 1)

    /// Writes IDX images (N × h × w) and labels into `scratch`; returns the `idx:` spec and the images' path.
    static func idx(_ scratch: ScratchDirectory, images: [UInt8], labels: [UInt8], h: Int, w: Int,
                    labelCount: Int? = nil) throws -> (spec: String, images: String) {
        let n = images.count / (h * w)
        let imagePath = scratch.file("images.idx"), labelPath = scratch.file("labels.idx")
        try IDXFile(shape: [n, h, w], values: images).encoded().write(to: URL(fileURLWithPath: imagePath))
        try IDXFile(shape: [labelCount ?? labels.count], values: labels).encoded().write(to: URL(fileURLWithPath: labelPath))
        return ("idx:\(imagePath),\(labelPath)", imagePath)
    }

    /// `distinct` pseudo-random 28×28 images, each repeated with labels 0…9.
    static func everyLabelOnce(_ scratch: ScratchDirectory, distinct: Int) throws -> (spec: String, images: String, count: Int) {
        var random = SeededRandom(seed: 17)
        var images: [UInt8] = [], labels: [UInt8] = []
        for _ in 0..<distinct {
            let image = (0..<(28 * 28)).map { _ in UInt8(random.next() % 256) }
            for label in 0..<10 {
                images += image
                labels.append(UInt8(label))
            }
        }
        let (spec, path) = try idx(scratch, images: images, labels: labels, h: 28, w: 28)
        return (spec, path, labels.count)
    }

    /// A synthesized portfolio of one dense and one masked variant, 1×28×28 inputs and 10 classes.
    static func portfolio(in scratch: ScratchDirectory) throws -> Portfolio {
        let layout = DefaultPortfolio.Layout(widths: [4], prunedWidth: 4, sparse: [], maskFractions: [1.0], seed: 5)
        try DefaultPortfolio.synthesize(into: scratch.path, layout: layout)
        return try Portfolio.open(directory: scratch.path)
    }

    // MARK: EvaluationData from IDX

    @Test func idxDataIsReadAndPreprocessed() throws {
        let scratch = ScratchDirectory("eval-idx")
        let (spec, images) = try Self.idx(scratch, images: [0, 10, 20, 30, 40, 50, 60, 70], labels: [2, 0], h: 2, w: 2)
        let data = try EvaluationData(spec: spec, inputShape: [1, 1, 2, 2], classes: 3,
                                      preprocess: .init(scale: 0.1, mean: 1, std: 4))
        #expect(data.count == 2 && data.labels == [2, 0] && data.elementsPerExample == 4)
        // (v · 0.1 − 1) / 4
        let expected: [Float] = [-0.25, 0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]
        #expect(data.inputs.count == 8)
        #expect(zip(data.inputs, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(data.inputs)")
        #expect(data.description == "\(images) (2 examples)")
    }

    @Test func anIdxSpecNeedsExactlyTwoFiles() {
        #expect(throws: TrainingError.badSetting(name: "data", reason: "'idx:images.idx': give idx:IMAGES,LABELS (IDX files, gzip or not)")) {
            try EvaluationData(spec: "idx:images.idx", inputShape: [1, 4], classes: 2, preprocess: Self.none)
        }
        #expect(throws: TrainingError.self) {
            try EvaluationData(spec: "idx:a,b,c", inputShape: [1, 4], classes: 2, preprocess: Self.none)
        }
    }

    @Test func aZeroStandardDeviationIsRefused() throws {
        let scratch = ScratchDirectory("eval-std")
        let (spec, _) = try Self.idx(scratch, images: [1, 2, 3, 4], labels: [0], h: 2, w: 2)
        #expect(throws: TrainingError.badSetting(name: "preprocess", reason: "std must not be 0")) {
            try EvaluationData(spec: spec, inputShape: [1, 4], classes: 2, preprocess: .init(scale: 1, mean: 0, std: 0))
        }
    }

    @Test func labelsMustMatchTheImagesAndTheClasses() throws {
        let scratch = ScratchDirectory("eval-labels")
        let (outside, images) = try Self.idx(scratch, images: [UInt8](repeating: 1, count: 8), labels: [1, 3], h: 2, w: 2)
        #expect(throws: TrainingError.badDataset(path: images, reason: "label 3 is outside 0..<3")) {
            try EvaluationData(spec: outside, inputShape: [1, 2, 2], classes: 3, preprocess: Self.none)
        }
        let other = ScratchDirectory("eval-labels-count")
        let (short, _) = try Self.idx(other, images: [UInt8](repeating: 1, count: 8), labels: [1], h: 2, w: 2)
        #expect(throws: TrainingError.self, "one label for two images") {
            try EvaluationData(spec: short, inputShape: [1, 2, 2], classes: 3, preprocess: Self.none)
        }
    }

    @Test func imagesMustHaveTheTasksShape() throws {
        let scratch = ScratchDirectory("eval-shape")
        let (spec, _) = try Self.idx(scratch, images: [UInt8](repeating: 1, count: 18), labels: [0, 1], h: 3, w: 3)
        #expect(throws: TrainingError.self) {
            try EvaluationData(spec: spec, inputShape: [1, 1, 2, 2], classes: 2, preprocess: Self.none)
        }
        #expect(throws: TrainingError.self, "a missing file") {
            try EvaluationData(spec: "idx:\(scratch.file("none.idx")),\(scratch.file("none2.idx"))", inputShape: [1, 9],
                               classes: 2, preprocess: Self.none)
        }
    }

    // MARK: evaluate

    @Test func topOneAndTopFiveAreTheLabelsRank() throws {
        let scratch = ScratchDirectory("eval-portfolio"), dataScratch = ScratchDirectory("eval-data")
        let portfolio = try Self.portfolio(in: scratch)
        // 3 images × 10 labels = 30 examples.
        let (spec, images, count) = try Self.everyLabelOnce(dataScratch, distinct: 3)
        let data = try EvaluationData(spec: spec, inputShape: portfolio.manifest.task.inputShape, classes: 10,
                                      preprocess: portfolio.manifest.task.preprocess)
        let top1 = try PortfolioEvaluation.evaluate(portfolio, data: data, top: 1)
        let top5 = try PortfolioEvaluation.evaluate(portfolio, data: data, top: 5)
        #expect(top1.map(\.variant) == portfolio.variants.map(\.name))
        #expect(top1.map(\.format) == portfolio.variants.map(\.format.rawValue))
        for result in top1 { #expect(result.accuracy == 0.1, "\(result.variant)") }
        for result in top5 { #expect(result.accuracy == 0.5, "\(result.variant)") }
        let dense = try #require(top1.first { $0.format == "dense" })
        #expect(dense.source == "gearbox engine (dense) top-1 on \(images) (\(count) examples)")
        let masked = try #require(top5.first { $0.format == "masked" })
        #expect(masked.source == "gearbox engine (masked mask 1.00) top-5 on \(images) (\(count) examples)")
    }

    @Test(arguments: [0, 2, 3, 10])
    func onlyTopOneAndTopFiveAreOffered(top: Int) throws {
        let scratch = ScratchDirectory("eval-top"), dataScratch = ScratchDirectory("eval-top-data")
        let portfolio = try Self.portfolio(in: scratch)
        let (spec, _, _) = try Self.everyLabelOnce(dataScratch, distinct: 1)
        let data = try EvaluationData(spec: spec, inputShape: [1, 1, 28, 28], classes: 10, preprocess: Self.none)
        #expect(throws: TrainingError.badSetting(name: "top", reason: "\(top): use 1 or 5")) {
            try PortfolioEvaluation.evaluate(portfolio, data: data, top: top)
        }
    }

    @Test func dataOfAnotherSizeThanTheModelsInputIsRefused() throws {
        let scratch = ScratchDirectory("eval-size"), dataScratch = ScratchDirectory("eval-size-data")
        let portfolio = try Self.portfolio(in: scratch)
        let (spec, _) = try Self.idx(dataScratch, images: [UInt8](repeating: 9, count: 8), labels: [0, 1], h: 2, w: 2)
        let data = try EvaluationData(spec: spec, inputShape: [1, 1, 2, 2], classes: 10, preprocess: Self.none)
        #expect(throws: PortfolioError.self) { try PortfolioEvaluation.evaluate(portfolio, data: data, top: 1) }
    }

    @Test func evaluateAndRecordWritesEveryAccuracyIntoTheManifest() throws {
        let scratch = ScratchDirectory("eval-record"), dataScratch = ScratchDirectory("eval-record-data")
        let before = try Self.portfolio(in: scratch)
        #expect(before.variants.allSatisfy { $0.accuracy == nil })
        let (spec, _, count) = try Self.everyLabelOnce(dataScratch, distinct: 2)
        let results = try PortfolioEvaluation.evaluateAndRecord(directory: scratch.path, data: spec, top: 5, preprocess: nil)
        #expect(results.count == before.variants.count)
        // The manifest is rewritten; the model files and their hashes are not touched.
        let after = try Portfolio.open(directory: scratch.path)
        #expect(after.variants.map(\.name) == before.variants.map(\.name))
        #expect(after.variants.map(\.sha256) == before.variants.map(\.sha256))
        for variant in after.variants {
            #expect(variant.accuracy == 0.5, "\(variant.name)")
            #expect(variant.accuracySource?.hasSuffix("top-5 on \(dataScratch.file("images.idx")) (\(count) examples)") == true,
                    "\(variant.accuracySource ?? "no source")")
        }
    }
}
