// GearboxTraining/PortfolioBuilder: the entry point of `gearbox portfolio build`: runs one
// method on Fashion-MNIST, exports its variants, has the engine measure them, and writes the
// portfolio directory.

import Foundation

/// Builds real pruned portfolios.
public enum PortfolioBuilder {
    /// Runs `options.method` and returns the directory written.
    public static func build(_ options: PortfolioBuildOptions, log: @escaping (String) -> Void) throws -> String {
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
        for candidate in result.candidates {
            let acc = Evaluation.accuracy(candidate.network, on: context.test)
            log(String(format: "  %@ (%@): trainer accuracy %.2f%%, sparsity %.1f%%, %d params, %d MACs",
                       candidate.name, candidate.format.rawValue, acc * 100, candidate.sparsity * 100,
                       candidate.params, candidate.macs))
        }
        return options.outputDirectory
    }
}
