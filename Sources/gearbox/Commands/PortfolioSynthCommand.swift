// gearbox portfolio synth: Regenerate the built-in synthetic default portfolio.

import ArgumentParser

struct PortfolioSynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Regenerate the built-in synthetic default portfolio."
    )

    func run() throws {
        throw ValidationError("'gearbox portfolio synth' is not implemented yet")
    }
}
