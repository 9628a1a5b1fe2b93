// gearbox run: Run a model on TensorProto inputs and time it.

import ArgumentParser

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on TensorProto inputs and time it."
    )

    func run() throws {
        throw ValidationError("'gearbox run' is not implemented yet")
    }
}
