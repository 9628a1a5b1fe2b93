// gearbox portfolio build: Train and prune real portfolios on Fashion-MNIST.

import ArgumentParser

struct PortfolioBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Train and prune real portfolios on Fashion-MNIST."
    )

    func run() throws {
        throw ValidationError("'gearbox portfolio build' is not implemented yet")
    }
}
