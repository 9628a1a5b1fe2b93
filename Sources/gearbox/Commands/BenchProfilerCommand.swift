// gearbox bench profiler: Profiler quality: loop overhead and rerun stability.

import ArgumentParser

struct BenchProfilerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiler",
        abstract: "Profiler quality: loop overhead and rerun stability."
    )

    func run() throws {
        throw ValidationError("'gearbox bench profiler' is not implemented yet")
    }
}
