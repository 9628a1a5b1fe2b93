// gearbox portfolio: Build or regenerate portfolios of pruned variants.

import ArgumentParser

struct PortfolioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portfolio",
        abstract: "Build or regenerate portfolios of pruned variants."
    )

    func run() throws {
        throw ValidationError("'gearbox portfolio' is not implemented yet")
    }
}
