// Tests that an exported variant computes in the engine what the trainer computes: dense CNN and
// ResNet (with BatchNorm statistics), sparse formats loaded from exact zeros, structured
// variants, and All-in-One masks selected in one shared weight set.

import Foundation
import GearboxEngine
import GearboxPortfolio
import GearboxTestSupport
import Testing
@testable import GearboxTraining

private func tinyData(_ n: Int, seed: UInt64) -> ImageDataset {
    var random = SeededRandom(seed: seed)
    return ImageDataset(images: (0..<(n * 784)).map { _ in UInt8(random.next() % 256) },
                        labels: (0..<n).map { _ in UInt8(random.next() % 10) }, height: 28, width: 28, classes: 10)
}

/// Largest |engine − trainer| logit over `data`, and the largest trainer logit magnitude.
private func compare(_ network: Network, _ load: EngineLoad, _ data: ImageDataset) throws -> (Float, Float) {
    let engine = try EngineEvaluation.logits(load, on: data, threads: 1)
    let trainer = Evaluation.logits(network, on: data)
    #expect(engine.count == trainer.count)
    let diff = zip(engine, trainer).map { abs($0 - $1) }.max() ?? 0
    return (diff, trainer.map(abs).max() ?? 0)
}

@Test func exportedCNNAndResNetMatchTheTrainerInTheEngine() throws {
    let data = tinyData(10, seed: 1)
    let scratch = ScratchDirectory("export")
    for kind in ModelKind.allCases {
        let network = kind.make(seed: 3, widthScale: 0.25)
        // Non-trivial BatchNorm statistics.
        for _ in 0..<2 { _ = network.forward(Batch(data, indices: Array(0..<8)[...]).input, training: true) }
        let path = scratch.file("\(kind).onnx")
        try ONNXGraphDescription(network, name: kind.rawValue).write(to: path)
        let (diff, magnitude) = try compare(network, EngineLoad(path: path, format: .dense), data)
        #expect(diff <= 1e-4 * max(1, magnitude), "\(kind): max |Δ| \(diff)")
    }
}

@Test func sparseAndStructuredVariantsMatchTheTrainerInTheirFormats() throws {
    let data = tinyData(6, seed: 2)
    let scratch = ScratchDirectory("export")
    let network = ModelKind.cnn.make(seed: 4, widthScale: 0.5)
    MagnitudePruning.pruneGlobally(network, fraction: 0.9)
    for (format, block) in [(PortfolioManifest.Format.csr, nil), (.dense, nil)] as [(PortfolioManifest.Format, String?)] {
        let path = scratch.file("sparse-\(format).onnx")
        try ONNXGraphDescription(network, name: "s").write(to: path)
        let (diff, magnitude) = try compare(network, EngineLoad(path: path, format: format, block: block), data)
        #expect(diff <= 1e-4 * max(1, magnitude), "\(format): max |Δ| \(diff)")
    }
    for (pattern, format) in [(BlockPattern.aligned, PortfolioManifest.Format.bsr), (.unaligned, .ubp)] {
        let blocks = ModelKind.cnn.make(seed: 5, widthScale: 0.5)
        // Prune twice, as the gradual schedule does, so kept blocks hold zeros from the first step.
        BlockPruning.prune(blocks, pattern: pattern, density: 0.6, rows: 2, columns: 2)
        BlockPruning.prune(blocks, pattern: pattern, density: 0.3, rows: 2, columns: 2)
        if pattern == .unaligned { BlockPruning.fillKeptZeros(blocks) }
        let path = scratch.file("blocks-\(format).onnx")
        try ONNXGraphDescription(blocks, name: "b").write(to: path)
        let (diff, magnitude) = try compare(blocks, EngineLoad(path: path, format: format, block: "2x2"), data)
        #expect(diff <= 1e-4 * max(1, magnitude), "\(format): max |Δ| \(diff)")
    }
    let (structured, removed) = StructuredConversion.convert(network)
    #expect(removed > 0)
    let path = scratch.file("structured.onnx")
    try ONNXGraphDescription(structured, name: "st").write(to: path)
    let (diff, magnitude) = try compare(network, EngineLoad(path: path, format: .dense), data)
    #expect(diff <= 1e-4 * max(1, magnitude), "structured: max |Δ| \(diff)")
}

@Test func maskedLevelsOfOneWeightSetMatchTheGatedTrainerNetwork() throws {
    let data = tinyData(5, seed: 3)
    let scratch = ScratchDirectory("export")
    let network = AllInOne.gated(ModelKind.cnn.make(seed: 6, widthScale: 0.5))
    for node in network.nodes {
        if case let .conv(c) = node.op, let bias = c.bias { bias.mask = [Float](repeating: 0, count: bias.count); bias.applyMask() }
    }
    let path = scratch.file("masked.onnx")
    AllInOne.setRatio(network, 1)
    try ONNXGraphDescription(network, name: "m").write(to: path)
    let fractions = [0.25, 0.5, 1.0]
    for fraction in fractions {
        AllInOne.setRatio(network, fraction)
        let load = EngineLoad(path: path, format: .masked, maskFractions: fractions, maskFraction: fraction)
        let (diff, magnitude) = try compare(network, load, data)
        #expect(diff <= 1e-4 * max(1, magnitude), "fraction \(fraction): max |Δ| \(diff)")
    }
}
