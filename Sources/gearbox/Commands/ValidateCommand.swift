// gearbox validate: Replay a frequency trace against the selection policy and baselines.

import ArgumentParser

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Replay a frequency trace against the selection policy and baselines."
    )

    func run() throws {
        throw ValidationError("'gearbox validate' is not implemented yet")
    }
}
