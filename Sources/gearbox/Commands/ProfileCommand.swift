// gearbox profile: Sweep DVFS frequencies and measure every variant into a lookup table.

import ArgumentParser

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Sweep DVFS frequencies and measure every variant into a lookup table."
    )

    func run() throws {
        throw ValidationError("'gearbox profile' is not implemented yet")
    }
}
