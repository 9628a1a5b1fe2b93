// gearbox bench formats: Pruned formats side by side: csr vs dense, ubp vs bsr, masked vs structured.

import ArgumentParser

struct BenchFormatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "formats",
        abstract: "Pruned formats side by side: csr vs dense, ubp vs bsr, masked vs structured."
    )

    func run() throws {
        throw ValidationError("'gearbox bench formats' is not implemented yet")
    }
}
