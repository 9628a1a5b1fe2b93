// The onnxruntime side of `gearbox bench engine`: a Python script shipped as a resource of
// GearboxBenchmarks and run by path.

import Foundation
import GearboxTestSupport
import Testing
@testable import GearboxBenchmarks

@Suite struct OnnxRuntimeBaselineTests {
    @Test func theScriptShipsAsAResource() throws {
        let path = try #require(OnnxRuntimeBaseline.scriptPath, "onnxruntime_bench.py is not in the GearboxBenchmarks bundle")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("import onnxruntime as ort"))
        #expect(text.contains("perf_counter_ns"))
    }

    @Test(.enabled(if: HostFacts.python != nil, "needs python3 on PATH"))
    func aModelOnnxruntimeCannotRunIsAnErrorNotAFigure() {
        // Without onnxruntime the script says which package is missing; with it, the missing
        // model fails the session. Either way no latency comes back.
        #expect(throws: (any Error).self) {
            try OnnxRuntimeBaseline.run(python: "python3", model: "/nonexistent.onnx", input: "/nonexistent.pb",
                                        output: "/nonexistent-output.pb", threads: 1, runs: 1)
        }
    }
}
