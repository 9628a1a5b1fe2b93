import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxPortfolio

/// Hostile portfolio manifests: a valid one broken one rule at a time, and variant files that
/// try to leave the portfolio directory.
@Suite struct PortfolioValidationTests {
    let scratch = ScratchDirectory("portfolio-validation")

    typealias Mutation = (path: [JSONPathComponent], value: Any?, keyPath: String)
    static let mutations: [Mutation] = [
        (["name"], "../../evil", "name"),
        (["name"], "", "name"),
        (["task", "inputShape"], [Int](), "task.inputShape"),
        (["task", "inputShape"], [1, -1, 28, 28], "task.inputShape[1]"),
        (["task", "inputShape"], [1, 0, 28, 28], "task.inputShape[1]"),
        (["task", "inputShape"], [40000, 40000], "task.inputShape"),
        (["task", "inputShape"], [1 << 40, 1 << 40], "task.inputShape[0]"),
        (["task", "classes"], 0, "task.classes"),
        (["task", "preprocess", "std"], 0, "task.preprocess.std"),
        (["variants"], [Any](), "variants"),
        (["variants", 1, "name"], "w100", "variants[1].name"),
        (["variants", 1, "name"], "", "variants[1].name"),
        (["variants", 0, "sparsity"], 1.5, "variants[0].sparsity"),
        (["variants", 0, "accuracy"], -0.1, "variants[0].accuracy"),
        (["variants", 0, "params"], -1, "variants[0].params"),
        (["variants", 0, "file"], "/etc/passwd", "variants[0].file"),
        (["variants", 0, "file"], "../../../etc/passwd", "variants[0].file"),
        (["variants", 0, "file"], "../outside/x.onnx", "variants[0].file"),
        (["variants", 0, "file"], "", "variants[0].file"),
        (["variants", 0, "sha256"], "xyz", "variants[0].sha256"),
    ]

    @Test(arguments: mutations.indices)
    func eachBrokenRuleIsAnInvalidValueNamingItsKey(index: Int) throws {
        let mutation = Self.mutations[index]
        let dir = try makePortfolioDirectory(in: scratch)
        let manifest = dir + "/portfolio.json"
        try JSONDocument(contentsOf: manifest).setting(mutation.path, to: mutation.value).write(to: manifest)
        do {
            _ = try Portfolio.open(directory: dir)
            Issue.record("\(mutation.keyPath) = \(String(describing: mutation.value)) was accepted")
        } catch let FileFormatError.invalidValue(file, keyPath, _, _) {
            #expect(file == manifest)
            #expect(keyPath == mutation.keyPath)
        }
    }

    @Test func truncationWrongTypesAndRandomBytesAreErrorsNotCrashes() throws {
        let dir = try makePortfolioDirectory(in: scratch)
        let manifest = dir + "/portfolio.json"
        let data = try Data(contentsOf: URL(fileURLWithPath: manifest))
        var samples = stride(from: 0, to: data.count - 2, by: max(1, data.count / 8)).map { Data(data.prefix($0)) }
        samples.append(try JSONDocument(contentsOf: manifest).setting(["task", "inputShape"], to: "1x28x28").data())
        samples.append(try JSONDocument(contentsOf: manifest).setting(["variants", 0, "format"], to: "zip").data())
        var generator = SystemRandomNumberGenerator()
        samples.append(Data((0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        for sample in samples {
            try sample.write(to: URL(fileURLWithPath: manifest))
            #expect(throws: (any Error).self) { try Portfolio.open(directory: dir) }
            do { _ = try Portfolio.open(directory: dir) } catch {
                #expect(error is PortfolioError || error is FileFormatError, "\(error)")
                #expect("\(error)".contains(manifest))
            }
        }
    }

    @Test func aSymlinkLeadingOutOfThePortfolioIsRefused() throws {
        let outside = ScratchDirectory("outside")
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside.file("secret.onnx")))
        let dir = try makePortfolioDirectory(in: scratch, hashes: false)
        try FileManager.default.removeItem(atPath: dir + "/w100.onnx")
        try FileManager.default.createSymbolicLink(atPath: dir + "/w100.onnx", withDestinationPath: outside.file("secret.onnx"))
        do {
            _ = try Portfolio.open(directory: dir, verifyHashes: false)
            Issue.record("a symlink out was followed")
        } catch let FileFormatError.invalidValue(file, keyPath, value, _) {
            #expect(file == dir + "/portfolio.json")
            #expect(keyPath == "variants[0].file")
            #expect(value.contains("w100.onnx"))
        }
    }

    @Test func aSymlinkInsideThePortfolioIsFine() throws {
        let dir = try makePortfolioDirectory(in: scratch, hashes: false)
        try FileManager.default.createDirectory(atPath: dir + "/weights", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: dir + "/w100.onnx", toPath: dir + "/weights/w100.onnx")
        try FileManager.default.createSymbolicLink(atPath: dir + "/w100.onnx", withDestinationPath: "weights/w100.onnx")
        _ = try Portfolio.open(directory: dir, verifyHashes: false)
    }
}
