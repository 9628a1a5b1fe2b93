// gearbox variant convert: prune a dense ONNX model's Conv/Gemm weights for csr, bsr or ubp
// (or keep its zeros), check the result is lossless in the engine, write the ONNX file (or a
// packed `.gbpk` file) and its `.variant.json` report; or pack a dense / masked model as is.
// Parsing and printing only; the work is in VariantConversion and PackedVariantFile.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxEngine

struct VariantConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a dense ONNX model's Conv/Gemm weights to a pruned format.",
        discussion: """
            With --sparsity, each weight matrix is pruned by the pattern maker of the format \
            (csr: magnitude; bsr: aligned blocks by L2 norm; ubp: greedy non-overlapping \
            unaligned blocks); without it, the zeros already in the weights are the pattern. \
            The pruned model is then run by the engine densely and in the format on seeded \
            random inputs; only if the outputs agree are OUT (ONNX with exact zeros, which the \
            engine converts at load) and OUT.variant.json written.

            With --packed (or an --out path ending in .gbpk) the variant is written as a \
            packed file instead: a small header and JSON graph followed by 64-byte aligned \
            sections holding every layer's weights already in kernel layout (dense conv \
            panels, csr/bsr/ubp arrays, masked weights + masks). `gearbox run`, `onnx check` \
            and portfolios load it with mmap and no conversion or copy, so cold loads are fast. \
            Packed files also take --format dense (pack as is) and --format masked --masks \
            F1,F2,… (one channel-prefix mask level per kept fraction). Dense conv panels are \
            CPU-specific: a file written on another CPU kind fails to load with a clear error.

            Example:
              gearbox variant convert model.onnx --format ubp --block 4x4 --sparsity 0.8 --out model.ubp.onnx
              gearbox variant convert pruned.onnx --format csr --out pruned.csr.onnx --json
              gearbox variant convert model.onnx --format csr --sparsity 0.9 --out model.csr.gbpk
              gearbox variant convert model.onnx --format dense --packed --out model.gbpk
              gearbox variant convert model.onnx --format masked --masks 0.25,0.5,1 --out model.masked.gbpk
            """
    )

    @Argument(help: "The dense ONNX model.")
    var model: String

    @Option(help: "Weight format: csr, bsr or ubp (packed output also: dense, masked).")
    var format: String

    @Option(help: "Block shape RxC for bsr/ubp (default 4x4).")
    var block: String?

    @Option(help: "Target sparsity per layer in [0, 1]; omit to keep the model's zeros.")
    var sparsity: Double?

    @Option(help: "Where to write the pruned ONNX model.")
    var out: String

    @Flag(help: "Write a packed variant file (.gbpk; implied by an --out ending in .gbpk).")
    var packed = false

    @Option(help: "Masked packed files: kept channel fraction per mask level, e.g. 0.25,0.5,1.")
    var masks: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    var writesPacked: Bool { packed || out.hasSuffix("." + PackedVariantFile.fileExtension) }

    func validate() throws {
        let formats = writesPacked ? ["csr", "bsr", "ubp", "dense", "masked"] : ["csr", "bsr", "ubp"]
        guard formats.contains(format) else {
            throw ValidationError("--format '\(format)': choose \(formats.joined(separator: ", "))\(writesPacked ? "" : " (dense and masked need --packed)")")
        }
        if format == "masked" && masks == nil { throw ValidationError("--format masked needs --masks, e.g. --masks 0.25,0.5,1") }
        if masks != nil && format != "masked" { throw ValidationError("--masks applies to --format masked only") }
        if (format == "dense" || format == "masked") && (sparsity != nil || block != nil) {
            throw ValidationError("--sparsity and --block apply to csr, bsr and ubp only")
        }
        if let sparsity, !(0...1).contains(sparsity) {
            throw ValidationError("--sparsity \(sparsity): give a fraction in [0, 1], e.g. 0.8")
        }
        if block != nil, format == "csr" { throw ValidationError("--block applies to bsr and ubp only") }
    }

    func run() throws {
        if format == "dense" || format == "masked" { return try packAsIs() }
        let shape = try block.map { try BlockShape(parsing: $0) }
        let format = WeightFormat(rawValue: format) ?? .csr
        let conversion = try VariantConversion(request: .init(format: format, block: shape, sparsity: sparsity, packed: writesPacked))
        // A failed losslessness check is `EngineError.checkFailed` (exit 1); the rest is bad input.
        let report = try conversion.convert(file: model, to: out)
        if json {
            print(String(decoding: try JSONFile.encoder().encode(report), as: UTF8.self))
            return
        }
        print("\(report.source) → \(report.output) (\(report.format)\(report.block.map { " \($0)" } ?? ""))")
        let requested = report.requestedSparsity.map { String(format: "%.0f%%", $0 * 100) } ?? "zeros kept"
        print(String(format: "sparsity: %@ requested, %.1f%% achieved over %d weight matrices",
                     requested, report.achievedSparsity * 100, report.layers.count))
        for layer in report.layers {
            let group = layer.group > 0 ? " g\(layer.group)" : ""
            print(String(format: "  %@%@ (%@) %d×%d  density %.3f  %@ %d B (dense %d B)%@",
                         layer.node, group, layer.op, layer.rows, layer.columns, layer.density, layer.loadedFormat,
                         layer.formatBytes, layer.denseBytes, layer.note.map { "  [\($0)]" } ?? ""))
        }
        print(String(format: "lossless: max |dense − %@| = %.3g ≤ %.3g on %@ (%@)",
                     report.format.rawValue, report.check.maxAbsoluteDifference, report.check.tolerance,
                     report.check.outputs.joined(separator: ", "), report.check.method))
        print("report: \(VariantConversion.reportPath(for: report.output))")
    }

    /// dense / masked: no pruning; the model is packed as it is (masked: with mask levels).
    private func packAsIs() throws {
        var fractions: [Double]?
        var options = EngineOptions()
        if let masks {
            let parsed = masks.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parsed.allSatisfy({ $0 != nil }) else {
                throw CommandError.input("--masks '\(masks)': give comma-separated fractions, e.g. 0.25,0.5,1")
            }
            fractions = parsed.compactMap { $0 }.sorted()
            options = try PackedVariantFile.maskedOptions(fractions: fractions ?? [])
        }
        let summary = try PackedVariantFile.write(onnxFile: model, options: options, maskFractions: fractions, to: out)
        if json {
            print(String(decoding: try JSONFile.encoder().encode(summary), as: UTF8.self))
            return
        }
        print("\(model) → \(summary.path) (packed \(summary.weightFormat)\(masks.map { " masks \($0)" } ?? ""))")
        print("\(summary.layers) weight layers, \(summary.weightBytes) B of weight sections, \(summary.fileBytes) B in all")
    }
}
