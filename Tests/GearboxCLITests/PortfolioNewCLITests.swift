// Tests for `gearbox portfolio new`, `check` and `add` as subprocesses, on the committed
// Fashion-MNIST dense CNN: a new portfolio passes its check, a tampered file fails it (exit 1),
// and `add` refuses what does not fit (exit 2, one line).

import Foundation
import GearboxTestSupport
import Testing

@Suite(.requiresBinary) struct PortfolioNewCLITests {
    static let dnnshifter = GearboxBinary.repositoryRoot + "/Portfolios/fashion-dnnshifter"
    static let dense = dnnshifter + "/dense.onnx"

    /// Makes a portfolio from the dense CNN with structured variants at 0.5 and 0.75.
    static func makePortfolio(in scratch: ScratchDirectory) throws -> (directory: String, manifest: [String: Any]) {
        let out = scratch.file("mine")
        let result = try GearboxBinary.run(["portfolio", "new", "mine", "--from", dense, "--structured", "0.5,0.75", "--out", out, "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return (out, try #require(json["manifest"] as? [String: Any]))
    }

    @Test func newWritesACheckedPortfolio() throws {
        let scratch = ScratchDirectory("portfolio-new")
        let (directory, _) = try Self.makePortfolio(in: scratch)
        let manifest = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: directory + "/portfolio.json"))) as? [String: Any])
        let variants = try #require(manifest["variants"] as? [[String: Any]])
        #expect(variants.compactMap { $0["name"] as? String } == ["dense", "structured-0.50", "structured-0.75"])
        let macs = variants.compactMap { $0["macs"] as? Int }
        #expect(macs.count == 3 && macs[1] < macs[2] && macs[2] < macs[0])
        #expect(variants.allSatisfy { $0["accuracy"] == nil || $0["accuracy"] is NSNull })
        #expect(variants.allSatisfy { ($0["sha256"] as? String)?.count == 64 })
        let check = try GearboxBinary.run(["portfolio", "check", directory, "--json"])
        #expect(check.status == 0, "stderr: \(check.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
        #expect(report["ok"] as? Bool == true)
    }

    @Test func fromSparseMatchesDNNShiftersOwnStructuredVariant() throws {
        let scratch = ScratchDirectory("portfolio-from-sparse")
        let out = scratch.file("sparse")
        let result = try GearboxBinary.run(["portfolio", "new", "sparse", "--from", Self.dnnshifter + "/imp-r20-csr.onnx",
                                            "--from-sparse", "--out", out, "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        func variants(_ path: String) throws -> [String: [String: Any]] {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            let list = try #require(json["variants"] as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: list.compactMap { v in (v["name"] as? String).map { ($0, v) } })
        }
        let ours = try #require(try variants(out + "/portfolio.json")["structured-from-sparse"])
        let theirs = try #require(try variants(Self.dnnshifter + "/portfolio.json")["imp-r20-structured"])
        // The training module's DNNShifter removed the same zero channels from the same model.
        #expect(ours["macs"] as? Int == theirs["macs"] as? Int)
        #expect(ours["params"] as? Int == theirs["params"] as? Int)
    }

    @Test func aTamperedFileFailsTheCheck() throws {
        let scratch = ScratchDirectory("portfolio-tamper")
        let (directory, _) = try Self.makePortfolio(in: scratch)
        let file = directory + "/structured-0.50.onnx"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: file))
        let check = try GearboxBinary.run(["portfolio", "check", directory])
        #expect(check.status == 1)
        #expect(check.stderr.split(separator: "\n").count == 1, "\(check.stderr)")
        #expect(check.stderr.contains("structured-0.50") && check.stderr.contains("SHA-256"))
    }

    @Test func newRefusesBadSettingsAndAnExistingPortfolio() throws {
        let scratch = ScratchDirectory("portfolio-new-refusals")
        let (directory, _) = try Self.makePortfolio(in: scratch)
        let cases: [[String]] = [
            ["portfolio", "new", "again", "--from", Self.dense, "--out", directory],
            ["portfolio", "new", "bad", "--from", Self.dense, "--structured", "0", "--out", scratch.file("bad")],
            ["portfolio", "new", "bad", "--from", Self.dense, "--blocks", "4x4", "--out", scratch.file("bad")],
            ["portfolio", "new", "bad", "--from", Self.dense, "--importance", "l3", "--out", scratch.file("bad")],
            ["portfolio", "new", "bad", "--from", scratch.file("missing.onnx"), "--out", scratch.file("bad")],
        ]
        for arguments in cases {
            let result = try GearboxBinary.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("bad/portfolio.json")))
    }

    @Test func addCopiesAFittingVariantIn() throws {
        let scratch = ScratchDirectory("portfolio-add")
        let (directory, _) = try Self.makePortfolio(in: scratch)
        let added = try GearboxBinary.run(["portfolio", "add", directory, Self.dnnshifter + "/imp-r06-csr.onnx",
                                           "--format", "csr", "--accuracy", "0.9", "--name", "imp-r06"])
        #expect(added.status == 0, "stderr: \(added.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory + "/imp-r06-csr.onnx"))
        let check = try GearboxBinary.run(["portfolio", "check", directory])
        #expect(check.status == 0, "stderr: \(check.stderr)")
        #expect(check.stdout.contains("imp-r06") && check.stdout.contains("0.9000"))
    }

    @Test func addRefusesWhatDoesNotFit() throws {
        let scratch = ScratchDirectory("portfolio-add-refusals")
        let (directory, _) = try Self.makePortfolio(in: scratch)
        // A model for another task (a different input): the ONNX test data's Conv2d model.
        let otherTask = scratch.file("other-task.onnx")
        let before = try Data(contentsOf: URL(fileURLWithPath: directory + "/portfolio.json"))
        var cases: [[String]] = [
            ["portfolio", "add", directory, Self.dense],  // the name "dense" exists
            ["portfolio", "add", directory, Self.dnnshifter + "/imp-r03-csr.onnx", "--accuracy", "1.5"],
            ["portfolio", "add", directory, Self.dnnshifter + "/imp-r03-csr.onnx", "--format", "sparse"],
            ["portfolio", "add", directory, Self.dnnshifter + "/imp-r03-csr.onnx", "--mask", "0.5"],
            ["portfolio", "add", directory, scratch.file("missing.onnx")],
        ]
        if HostFacts.hasONNXTestData {
            try FileManager.default.copyItem(
                atPath: HostFacts.onnxTestDataDirectory + "/pytorch-converted/test_Conv2d/model.onnx", toPath: otherTask)
            cases.append(["portfolio", "add", directory, otherTask])
        }
        for arguments in cases {
            let result = try GearboxBinary.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/portfolio.json")) == before)
        #expect(!FileManager.default.fileExists(atPath: directory + "/other-task.onnx"))
    }

    @Test(.enabled(if: HostFacts.hasONNXRuntime, "needs python3 with onnxruntime (not installed on this host)"))
    func structuredVariantsLoadInONNXRuntime() throws {
        let scratch = ScratchDirectory("portfolio-ort")
        let (directory, _) = try Self.makePortfolio(in: scratch)
        #expect(try ONNXRuntimeCheck.outputShapesAgree(["dense", "structured-0.50", "structured-0.75"].map { directory + "/\($0).onnx" }))
    }
}

@Suite(.requiresBinary) struct PortfolioEvalCLITests {
    static let fashion = "/usr/share/datasets/fashion-mnist"
    static let hasFashionMNIST = FileManager.default.fileExists(atPath: fashion + "/t10k-labels-idx1-ubyte.gz")

    @Test(.enabled(if: hasFashionMNIST, "needs the Fashion-MNIST test set in /usr/share/datasets/fashion-mnist"))
    func newWithEvalGivesTheDenseVariantsKnownAccuracy() throws {
        let scratch = ScratchDirectory("portfolio-eval")
        let out = scratch.file("mine")
        let data = "idx:\(Self.fashion)/t10k-images-idx3-ubyte.gz,\(Self.fashion)/t10k-labels-idx1-ubyte.gz"
        let result = try GearboxBinary.run([
            "portfolio", "new", "mine", "--from", PortfolioNewCLITests.dense, "--structured", "0.5,0.75", "--out", out,
            "--eval", data, "--preprocess", "scale=0.00392156862745098,mean=0.286,std=0.353", "--json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: out + "/portfolio.json"))) as? [String: Any])
        let variants = try #require(manifest["variants"] as? [[String: Any]])
        let dense = try #require(variants.first { $0["name"] as? String == "dense" })
        // The committed portfolio's dense accuracy, measured by the engine when it was built.
        #expect(dense["accuracy"] as? Double == 0.92)
        #expect((dense["accuracySource"] as? String)?.contains("10000 examples") == true)
        #expect(variants.allSatisfy { $0["accuracy"] is Double })
    }

    @Test(.enabled(if: hasFashionMNIST && HostFacts.hasNumPy, "needs the Fashion-MNIST test set and python3 with NumPy to write the .npz"))
    func evalOnANumPyArchiveGivesTheSameAccuracy() throws {
        let scratch = ScratchDirectory("portfolio-eval-npz")
        let out = scratch.file("mine")
        let made = try GearboxBinary.run(["portfolio", "new", "mine", "--from", PortfolioNewCLITests.dense, "--out", out])
        #expect(made.status == 0, "stderr: \(made.stderr)")
        // The test set as a .npz NumPy writes (uint8 x, int64 y), with the preprocessing given.
        let npz = scratch.file("test.npz")
        let script = """
            import gzip, sys, numpy as np
            images, labels, out = sys.argv[1:]
            x = np.frombuffer(gzip.open(images).read()[16:], np.uint8).reshape(-1, 1, 28, 28)
            y = np.frombuffer(gzip.open(labels).read()[8:], np.uint8).astype(np.int64)
            np.savez_compressed(out, x=x, y=y)
            """
        #expect(try HostFacts.runPython(
            script, arguments: [Self.fashion + "/t10k-images-idx3-ubyte.gz", Self.fashion + "/t10k-labels-idx1-ubyte.gz", npz]) == 0)
        let eval = try GearboxBinary.run(["portfolio", "eval", out, "--data", npz, "--json",
                                          "--preprocess", "scale=0.00392156862745098,mean=0.286,std=0.353"])
        #expect(eval.status == 0, "stderr: \(eval.stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [[String: Any]])
        #expect(results.first { $0["variant"] as? String == "dense" }?["accuracy"] as? Double == 0.92)
        #expect((results.first?["source"] as? String)?.contains("test.npz (10000 examples)") == true)
    }

    @Test func evalRefusesBadData() throws {
        let scratch = ScratchDirectory("portfolio-eval-bad")
        let (directory, _) = try PortfolioNewCLITests.makePortfolio(in: scratch)
        let fixtures = GearboxBinary.repositoryRoot + "/Tests/Fixtures/numpy"
        for arguments in [
            ["portfolio", "eval", directory, "--data", fixtures + "/stored.npz"],  // x is 2×2 per example, the task 1×28×28
            ["portfolio", "eval", directory, "--data", scratch.file("missing.npz")],
            ["portfolio", "eval", directory, "--data", fixtures + "/stored.npz", "--top", "3"],
        ] {
            let result = try GearboxBinary.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
    }
}
