// Tests for `gearbox onnx check|conformance` and `gearbox run` as subprocesses: outputs,
// JSON keys, TensorProto files, and one-line errors with exit code 2.

import Foundation
import GearboxTestSupport
import Testing

@Suite(.requiresBinary) struct OnnxCommandTests {
    static let data = "/usr/share/libonnx-testdata/data"
    static let conv = data + "/pytorch-converted/test_Conv2d"

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test(.requiresONNXTestData) func checkPrintsInputsOutputsAndCounts() throws {
        let result = try GearboxBinary.run(["onnx", "check", Self.conv + "/model.onnx", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try Self.json(result.stdout)
        #expect((report["macs"] as? Int ?? 0) > 0)
        #expect((report["parameters"] as? Int ?? 0) > 0)
        #expect((report["operators"] as? [String: Int])?["Conv"] == 1)
        let text = try GearboxBinary.run(["onnx", "check", Self.conv + "/model.onnx"])
        #expect(text.stdout.contains("MACs"))
    }

    @Test func badModelsExitTwoWithOneLine() throws {
        let scratch = ScratchDirectory("garbage")
        let garbage = scratch.file("garbage.onnx")
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: garbage))
        for arguments in [["onnx", "check", "/nonexistent.onnx"], ["onnx", "check", garbage], ["run", garbage]] {
            let result = try GearboxBinary.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }

    @Test(.requiresONNXTestData) func conformanceEndsWithTheSummaryLine() throws {
        let result = try GearboxBinary.run(["onnx", "conformance", "--filter", "node/test_(relu|sigmoid)$"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").last == "2 passed, 0 failed, 0 skipped")
        let json = try Self.json(try GearboxBinary.run(["onnx", "conformance", "--filter", "node/test_relu$", "--json"]).stdout)
        #expect(json["passed"] as? Int == 1)
    }

    @Test(.requiresONNXTestData) func runReproducesTheTestDataOutput() throws {
        let scratch = ScratchDirectory("run")
        let directory = scratch.file("outputs")
        let result = try GearboxBinary.run(["run", Self.conv + "/model.onnx", "--input", "0=\(Self.conv)/test_data_set_0/input_0.pb",
                                            "--save-outputs", directory, "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let written = try #require(FileManager.default.contents(atPath: directory + "/output_0.pb"))
        let expected = try #require(FileManager.default.contents(atPath: Self.conv + "/test_data_set_0/output_0.pb"))
        #expect(written.count > 0 && abs(written.count - expected.count) < 64)
    }

    @Test(.requiresONNXTestData) func runRepeatReportsPercentilesInJSON() throws {
        let result = try GearboxBinary.run(["run", Self.conv + "/model.onnx", "--repeat", "20", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try Self.json(result.stdout)
        #expect(report["samples"] as? Int == 20)
        let p50 = try #require(report["p50Ns"] as? Int), p99 = try #require(report["p99Ns"] as? Int)
        #expect(p50 > 0 && p99 >= p50)
        #expect(report["source"] as? String == "real")
    }

    @Test func helpShowsExamples() throws {
        for command in [["onnx", "check"], ["onnx", "conformance"], ["run"], ["bench", "engine"]] {
            let result = try GearboxBinary.run(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Example"), "\(command) --help has no example")
        }
    }
}
