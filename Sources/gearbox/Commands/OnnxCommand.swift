// gearbox onnx: Inspect ONNX models and run the ONNX conformance tests.

import ArgumentParser

struct OnnxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onnx",
        abstract: "Inspect ONNX models and run the ONNX conformance tests."
    )

    func run() throws {
        throw ValidationError("'gearbox onnx' is not implemented yet")
    }
}
