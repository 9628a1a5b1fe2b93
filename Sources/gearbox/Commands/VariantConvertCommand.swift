// gearbox variant convert: prune a dense ONNX model's Conv/Gemm weights for csr, bsr or ubp
// (or keep its zeros), check the result is lossless in the engine, write the ONNX file and its
// `.variant.json` report. Parsing and printing only; the work is in VariantConversion.

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

            Example:
              gearbox variant convert model.onnx --format ubp --block 4x4 --sparsity 0.8 --out model.ubp.onnx
              gearbox variant convert pruned.onnx --format csr --out pruned.csr.onnx --json
            """
    )

    @Argument(help: "The dense ONNX model.")
    var model: String

    @Option(help: "Weight format: csr, bsr or ubp.")
    var format: String

    @Option(help: "Block shape RxC for bsr/ubp (default 4x4).")
    var block: String?

    @Option(help: "Target sparsity per layer in [0, 1]; omit to keep the model's zeros.")
    var sparsity: Double?

    @Option(help: "Where to write the pruned ONNX model.")
    var out: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard ["csr", "bsr", "ubp"].contains(format) else {
            throw ValidationError("--format '\(format)': choose csr, bsr or ubp")
        }
        if let sparsity, !(0...1).contains(sparsity) {
            throw ValidationError("--sparsity \(sparsity): give a fraction in [0, 1], e.g. 0.8")
        }
        if block != nil, format == "csr" { throw ValidationError("--block applies to bsr and ubp only") }
    }

    func run() throws {
        let report: VariantConversion.Report
        do {
            let shape = try block.map { try BlockShape(parsing: $0) }
            let format = WeightFormat(rawValue: format) ?? .csr
            let conversion = try VariantConversion(request: .init(format: format, block: shape, sparsity: sparsity))
            report = try conversion.convert(file: model, to: out)
        } catch let error as EngineError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            // A failed losslessness check is a validation failure; everything else is bad input.
            if case .weightFormat(_, let reason) = error, reason.hasPrefix("outputs differ") { throw ExitCode(1) }
            throw ExitCode(2)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
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
}
