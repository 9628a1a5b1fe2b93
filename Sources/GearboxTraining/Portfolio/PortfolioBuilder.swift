// GearboxTraining/PortfolioBuilder: the entry point of `gearbox portfolio build`: runs one
// method on Fashion-MNIST, exports its variants, has the engine measure them, and writes the
// portfolio directory.

import Foundation

/// Builds real pruned portfolios.
public enum PortfolioBuilder {
    /// Runs `options.method` and returns the directory written.
    public static func build(_ options: PortfolioBuildOptions, log: @escaping (String) -> Void) throws -> String {
        if options.method == .allinone && options.model != .cnn {
            throw TrainingError.badSetting(
                name: "--model", reason: "allinone supports cnn only (masked BatchNorm statistics would differ per ratio); use --model cnn")
        }
        let context = try BuildContext(options: options, log: log)
        log("portfolio build: method \(options.method.rawValue), model \(options.model.rawValue)"
            + (options.quick ? " (quick)" : "") + ", \(context.train.count) training / \(context.test.count) test images")
        let result: MethodResult
        switch options.method {
        case .dnnshifter: result = try DNNShifter.run(context)
        case .ubp: result = try UnalignedBlocks.run(context)
        case .allinone: result = try AllInOne.run(context)
        case .reconvene: result = try Reconvene.run(context)
        }
        log("exporting \(result.candidates.count) variants to \(options.outputDirectory) and measuring them with the engine")
        let (_, report) = try PortfolioWriter.write(result, ctx: context)
        for ratio in report.ratios {
            let measured = ratio.measured.map { String(format: "%.2f", $0) } ?? "n/a"
            log("  \(ratio.name): \(measured)" + (ratio.paper.map { String(format: " (paper: %.2f)", $0) } ?? ""))
        }
        for check in report.checks where !check.passed { log("  CHECK FAILED \(check.name): \(check.detail)") }
        let failed = report.checks.filter { !$0.passed }.map(\.name)
        guard failed.isEmpty else {
            throw TrainingError.checkFailed(what: failed.joined(separator: ", "),
                                            reason: "see \(options.outputDirectory)/build.json (the portfolio was written)")
        }
        return options.outputDirectory
    }
}
