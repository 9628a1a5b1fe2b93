// gearbox dvfs: List, set and restore DVFS state (with a crash-safe journal).

import ArgumentParser

struct DVFSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dvfs",
        abstract: "List, set and restore DVFS state (with a crash-safe journal)."
    )

    func run() throws {
        throw ValidationError("'gearbox dvfs' is not implemented yet")
    }
}
