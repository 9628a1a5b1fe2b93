// gearbox demo: Run the whole pipeline on a built-in default: probe, profile, validate, report.

import ArgumentParser

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole pipeline on a built-in default: probe, profile, validate, report."
    )

    func run() throws {
        throw ValidationError("'gearbox demo' is not implemented yet")
    }
}
