// gearbox portfolio: groups the portfolio subcommands (synth, build, new, check, add, eval).

import ArgumentParser

struct PortfolioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portfolio",
        abstract: "Build or regenerate portfolios of pruned variants.",
        subcommands: [PortfolioSynthCommand.self, PortfolioBuildCommand.self, PortfolioNewCommand.self, PortfolioCheckCommand.self,
                      PortfolioAddCommand.self, PortfolioEvalCommand.self]
    )
}
