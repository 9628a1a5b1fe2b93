// gearbox lut: show, export and compare lookup tables.

import ArgumentParser

struct LutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lut",
        abstract: "Show, export and compare lookup tables.",
        subcommands: [LutCompareCommand.self]
    )
}
