// gearbox lut: Show, export and compare lookup tables.

import ArgumentParser

struct LutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lut",
        abstract: "Show, export and compare lookup tables."
    )

    func run() throws {
        throw ValidationError("'gearbox lut' is not implemented yet")
    }
}
