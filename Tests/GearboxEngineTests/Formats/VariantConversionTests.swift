// Tests for VariantConversion and the loader factories: a synthetic CNN pruned for every
// format loads in the engine, runs losslessly in the format, keeps zeros on reconversion, and
// the masked factory switches a whole model's mask without moving weights.

import Foundation
import GearboxCore
import GearboxTestSupport
import Testing
@testable import GearboxEngine

@Suite struct VariantConversionTests {
    static let model: Data = try! SyntheticModels.fashionMNISTCNN(seed: 3).serializedData()

    @Test(arguments: [(WeightFormat.csr, nil), (.bsr, "4x4"), (.bsr, "1x4"), (.ubp, "4x4"), (.ubp, "8x1")] as [(WeightFormat, String?)])
    func prunedVariantsRunLosslesslyInTheirFormat(format: WeightFormat, block: String?) throws {
        let shape = try block.map { try BlockShape(parsing: $0) }
        let conversion = try VariantConversion(request: .init(format: format, block: shape, sparsity: 0.8))
        let (_, report) = try conversion.convert(onnx: Self.model, source: "cnn.onnx")
        #expect(report.check.passed, "difference \(report.check.maxAbsoluteDifference) > \(report.check.tolerance)")
        #expect(report.layers.count == 4)  // two Convs, two Gemms
        for layer in report.layers {
            #expect(layer.pruned)
            // Block formats keep whole blocks: density is 0.2 to within half a block.
            let granularity = Double(shape?.elementCount ?? 1) / Double(layer.rows * layer.columns)
            #expect(abs(layer.density - 0.2) <= granularity / 2 + 0.005, "\(layer.node) density \(layer.density)")
            #expect(layer.loadedFormat == format.rawValue)
            #expect(layer.formatBytes > 0)
        }
        #expect(abs(report.achievedSparsity - 0.8) < 0.02)
    }

    @Test func reconvertingKeepsTheZerosAlreadyThere() throws {
        let block = try BlockShape(parsing: "2x4")
        let first = try VariantConversion(request: .init(format: .ubp, block: block, sparsity: 0.7))
        let (pruned, report) = try first.convert(onnx: Self.model, source: "cnn.onnx")
        let again = try VariantConversion(request: .init(format: .ubp, block: block))
        let (same, kept) = try again.convert(onnx: pruned, source: "cnn.ubp.onnx")
        #expect(kept.check.passed)
        #expect(kept.layers.map(\.density) == report.layers.map(\.density))
        #expect(kept.layers.allSatisfy { !$0.pruned })
        // The zeros are unchanged, so a csr conversion of the same file is lossless too.
        let csr = try VariantConversion(request: .init(format: .csr)).convert(onnx: same, source: "cnn.ubp.onnx").1
        #expect(csr.check.passed && csr.layers.map(\.density) == report.layers.map(\.density))
    }

    @Test func convertWritesTheModelAndItsReportAtomically() throws {
        let scratch = ScratchDirectory("variant")
        let input = scratch.file("cnn.onnx"), output = scratch.file("cnn.bsr.onnx")
        try Self.model.write(to: URL(fileURLWithPath: input))
        let report = try VariantConversion(request: .init(format: .bsr, block: BlockShape(rows: 4, columns: 4), sparsity: 0.5))
            .convert(file: input, to: output)
        let loaded = try InferenceModel(contentsOf: output)
        #expect(loaded.weightLayers.count == 4)
        let reread = try JSONFile.read(VariantConversion.Report.self, from: VariantConversion.reportPath(for: output))
        #expect(reread.layers == report.layers && reread.block == "4x4")
    }

    @Test func badRequestsAreRejected() throws {
        #expect(throws: WeightFormatError.self) { try VariantConversion(request: .init(format: .dense)) }
        #expect(throws: WeightFormatError.self) { try VariantConversion(request: .init(format: .csr, sparsity: 1.5)) }
        #expect(throws: EngineError.self) {
            try VariantConversion(request: .init(format: .csr)).convert(onnx: Data([1, 2, 3]), source: "junk.onnx")
        }
        #expect(throws: EngineError.self) {
            try VariantConversion(request: .init(format: .csr)).convert(file: "/nonexistent/model.onnx", to: "/tmp/x.onnx")
        }
    }

    @Test func maskedFactorySwitchesTheWholeModelWithoutMovingWeights() throws {
        let selection = try MaskSelection(levelCount: 3, initialLevel: 2)
        let factory = try MaskedFormatFactory(selection: selection, fractions: [0.25, 0.5, 1])
        let options = EngineOptions(weightFormat: "masked", weightFormats: WeightFormatRegistry([factory]))
        let masked = try InferenceModel(onnx: Self.model, source: "cnn.onnx", options: options)
        let dense = try InferenceModel(onnx: Self.model, source: "cnn.onnx")
        let input = ["input": Tensor.random(shape: [1, 1, 28, 28], seed: 5)]
        let full = try masked.run(input)["output"] ?? masked.run(input).values.first!
        let reference = try dense.run(input).values.first!
        #expect(full.maxAbsoluteDifference(to: reference) < 1e-4)

        let layers = masked.weightLayers.compactMap { $0.matrix as? MaskedWeightMatrix }
        #expect(layers.count == 4)
        let addresses = layers.map { $0.storage.baseAddress }
        try selection.select(level: 0)
        #expect(layers[0].activeMask == ChannelPrefixMask(activeRows: 4, activeColumns: 9))  // input channels stay
        #expect(layers[1].activeMask == ChannelPrefixMask(activeRows: 8, activeColumns: 4 * 9))
        #expect(layers[2].activeMask.activeRows == 128 && layers[3].activeMask.activeRows == 10)  // Gemms full
        let quarter = try masked.run(input).values.first!
        #expect(quarter.maxAbsoluteDifference(to: reference) > 1e-4)
        #expect(quarter.scalars.allSatisfy { $0.isFinite })
        #expect(layers.map { $0.storage.baseAddress } == addresses)
    }

    @Test func rowRangesComputeOnlyTheirRows() throws {
        let a = try Pruning.magnitude(FormatFixtures.weights(rows: 10, columns: 30, seed: 61), sparsity: 0.6)
        let masked = try MaskedWeightMatrix(storage: SharedWeightStorage(a), mask: ChannelPrefixMask(activeRows: 6, activeColumns: 30))
        for matrix in [CSRWeightMatrix(dense: a) as any RowRangeMultiplying, masked] {
            let n = 21
            let b = FormatFixtures.activations(count: 30 * n, seed: 62)
            var c = [Float](repeating: .nan, count: 10 * n)
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    matrix.multiply(rows: 3..<8, bp.baseAddress!, ldb: n, n: n, into: cp.baseAddress!, ldc: n)
                }
            }
            let masks = matrix is MaskedWeightMatrix ? 6 : 10
            var visible = a
            for row in masks..<10 { for column in 0..<30 { visible[row, column] = 0 } }
            let expected = FormatFixtures.reference(visible, b, ldb: n, n: n)
            for row in 0..<10 {
                for column in 0..<n {
                    let value = c[row * n + column]
                    if (3..<8).contains(row) {
                        #expect(abs(Double(value) - expected[row * n + column]) < 1e-4)
                    } else {
                        #expect(value.isNaN, "row \(row) outside the range was written")
                    }
                }
            }
        }
    }
}
