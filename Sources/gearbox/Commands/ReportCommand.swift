// gearbox report: Write an HTML and Markdown report from a lookup table and a validation.

import ArgumentParser

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML and Markdown report from a lookup table and a validation."
    )

    func run() throws {
        throw ValidationError("'gearbox report' is not implemented yet")
    }
}
