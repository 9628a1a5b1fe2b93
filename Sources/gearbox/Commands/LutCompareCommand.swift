// gearbox lut compare: Compare two lookup tables cell by cell, marking changes that are not significant.

import ArgumentParser

struct LutCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two lookup tables cell by cell, marking changes that are not significant."
    )

    func run() throws {
        throw ValidationError("'gearbox lut compare' is not implemented yet")
    }
}
