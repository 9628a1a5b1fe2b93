// gearbox variant: Convert a dense model into a pruned weight format.

import ArgumentParser

struct VariantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "variant",
        abstract: "Convert a dense model into a pruned weight format."
    )

    func run() throws {
        throw ValidationError("'gearbox variant' is not implemented yet")
    }
}
