// gearbox variant: groups the commands that make pruned variants of a model (convert).

import ArgumentParser

struct VariantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "variant",
        abstract: "Make pruned variants of a dense model.",
        subcommands: [VariantConvertCommand.self]
    )
}
