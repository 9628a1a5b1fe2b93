// gearbox trace: Record or generate frequency traces.

import ArgumentParser

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Record or generate frequency traces."
    )

    func run() throws {
        throw ValidationError("'gearbox trace' is not implemented yet")
    }
}
