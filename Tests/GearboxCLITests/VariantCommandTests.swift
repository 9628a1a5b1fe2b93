// Tests for `gearbox variant convert` and `gearbox bench formats` as subprocesses: a real
// conversion writes the model and its report, bad requests exit 2 with one line.

import Foundation
import GearboxTestSupport
import Testing

@Suite(.requiresBinary) struct VariantCommandTests {
    static let conv = "/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d/model.onnx"

    @Test(.requiresONNXTestData) func convertWritesTheVariantAndItsReport() throws {
        let scratch = ScratchDirectory("variant-cli")
        let out = scratch.file("conv.ubp.onnx")
        let result = try GearboxBinary.run(
            ["variant", "convert", Self.conv, "--format", "ubp", "--block", "2x2", "--sparsity", "0.75", "--out", out, "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let check = try #require(json["check"] as? [String: Any])
        #expect(check["passed"] as? Bool == true)
        #expect(FileManager.default.fileExists(atPath: out))
        #expect(FileManager.default.fileExists(atPath: out + ".variant.json"))
    }

    @Test(.requiresONNXTestData) func convertWritesAPackedFileThatRunAndCheckLoad() throws {
        let scratch = ScratchDirectory("packed-cli")
        let sparse = scratch.file("conv.csr.gbpk"), dense = scratch.file("conv.gbpk")
        let converted = try GearboxBinary.run(["variant", "convert", Self.conv, "--format", "csr", "--sparsity", "0.5", "--out", sparse])
        #expect(converted.status == 0, "stderr: \(converted.stderr)")
        let packed = try GearboxBinary.run(["variant", "convert", Self.conv, "--format", "dense", "--packed", "--out", dense])
        #expect(packed.status == 0, "stderr: \(packed.stderr)")
        for file in [sparse, dense] {
            let run = try GearboxBinary.run(["run", file, "--repeat", "3", "--json"])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            let check = try GearboxBinary.run(["onnx", "check", file])
            #expect(check.status == 0, "stderr: \(check.stderr)")
        }
        // A truncated packed file is one error line and exit 2.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dense))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: dense))
        let broken = try GearboxBinary.run(["run", dense])
        #expect(broken.status == 2)
        #expect(broken.stderr.split(separator: "\n").count == 1, "\(broken.stderr)")
        #expect(broken.stderr.contains(dense))
    }

    @Test func badRequestsExitTwoWithOneLine() throws {
        let scratch = ScratchDirectory("never-written")
        let out = scratch.file("never-written.onnx")
        let cases: [[String]] = [
            ["variant", "convert", "/nonexistent/model.onnx", "--format", "csr", "--out", out],
            ["variant", "convert", Self.conv, "--format", "ubp", "--block", "0x4", "--out", out],
        ]
        for arguments in cases {
            let result = try GearboxBinary.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        let usage = try GearboxBinary.run(["variant", "convert", Self.conv, "--format", "dense", "--out", out])
        #expect(usage.status != 0)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func helpShowsExamples() throws {
        for command in [["variant", "convert"], ["bench", "formats"]] {
            let result = try GearboxBinary.run(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Example"), "\(command) --help has no example")
        }
    }
}
