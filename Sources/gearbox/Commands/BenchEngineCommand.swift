// gearbox bench engine: Engine speed: dense conv vs sgemm, Gearbox vs onnxruntime.

import ArgumentParser

struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Engine speed: dense conv vs sgemm, Gearbox vs onnxruntime."
    )

    func run() throws {
        throw ValidationError("'gearbox bench engine' is not implemented yet")
    }
}
