// gearbox bench: Benchmarks printed as ratios measured side by side in one run.

import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks printed as ratios measured side by side in one run."
    )

    func run() throws {
        throw ValidationError("'gearbox bench' is not implemented yet")
    }
}
