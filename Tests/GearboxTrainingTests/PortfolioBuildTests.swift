// End-to-end --quick builds of each method on a tiny Fashion-MNIST subset: the portfolio
// directory opens (files present, hashes match), every variant has an engine-measured accuracy,
// every check in build.json passed, and a rerun resumes from checkpoints.

import Foundation
import GearboxCore
import GearboxPortfolio
import GearboxTestSupport
import Testing
@testable import GearboxTraining

private let dataPresent = FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/train-images-idx3-ubyte.gz")

/// The --quick plan, made smaller still so that debug builds finish in seconds.
private func tinyPlan() -> BuildPlan {
    var plan = BuildPlan.make(quick: true, model: .cnn)
    plan.trainExamples = 192
    plan.testExamples = 40
    plan.latencyRuns = 2
    return plan
}

private func build(_ method: PruningMethod, model: ModelKind = .cnn, in root: String) throws -> (Portfolio, PortfolioBuildReport) {
    let out = root + "/" + method.rawValue
    var lines: [String] = []
    let options = PortfolioBuildOptions(method: method, model: model, outputDirectory: out, workDirectory: root + "/work",
                                        quick: true, seed: 3, threads: 1, plan: tinyPlan())
    _ = try PortfolioBuilder.build(options) { lines.append($0) }
    #expect(lines.contains { $0.contains("engine accuracy") })
    let portfolio = try Portfolio.open(directory: out)
    let report = try JSONFile.read(PortfolioBuildReport.self, from: out + "/build.json")
    for variant in portfolio.variants {
        #expect(variant.accuracy != nil)
        #expect(variant.accuracySource?.contains("gearbox engine") == true)
    }
    #expect(report.checks.allSatisfy { $0.passed })
    let readme = try String(contentsOfFile: out + "/README.md", encoding: .utf8)
    #expect(readme.contains("| variant | format | method | sparsity | params | MACs | accuracy | p50 (ms) |"))
    #expect(portfolio.variants.allSatisfy { readme.contains("| \($0.name) |") })
    return (portfolio, report)
}

@Test(.enabled(if: dataPresent, "needs dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"))
func quickDNNShifterBuildWritesSparseAndStructuredVariantsAndResumes() throws {
    let scratch = ScratchDirectory("build")
    let root = scratch.path
    let (portfolio, report) = try build(.dnnshifter, in: root)
    #expect(portfolio.variants.contains { $0.format == .csr && $0.method == "imp" })
    #expect(portfolio.variants.contains { $0.format == .dense && $0.method == "structured" })
    #expect(report.checks.contains { $0.name.hasPrefix("lossless") })
    // A second run finds every training step checkpointed and writes the same accuracies.
    let (again, _) = try build(.dnnshifter, in: root)
    #expect(again.variants.map(\.accuracy) == portfolio.variants.map(\.accuracy))
}

@Test(.enabled(if: dataPresent, "needs dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"))
func quickUBPBuildComparesThreePatternsAtEqualDensity() throws {
    let scratch = ScratchDirectory("build")
    let (portfolio, _) = try build(.ubp, in: scratch.path)
    let formats = Set(portfolio.variants.map(\.format))
    #expect(formats == [.dense, .csr, .bsr, .ubp])
    #expect(portfolio.variants.filter { $0.format == .ubp || $0.format == .bsr }.allSatisfy { $0.block == "2x2" })
}

@Test(.enabled(if: dataPresent, "needs dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"))
func quickAllInOneBuildSharesOneWeightFileAcrossMasks() throws {
    let scratch = ScratchDirectory("build")
    let (portfolio, _) = try build(.allinone, in: scratch.path)
    #expect(portfolio.variants.allSatisfy { $0.format == .masked })
    #expect(Set(portfolio.variants.map(\.file)).count == 1)
    #expect(Set(portfolio.variants.compactMap(\.mask)) == ["0.50", "1.00"])
}

@Test(.enabled(if: dataPresent, "needs dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"))
func quickReconveneBuildPairsEachPaIModelWithAStructuredOne() throws {
    let scratch = ScratchDirectory("build")
    let (portfolio, _) = try build(.reconvene, in: scratch.path)
    #expect(portfolio.variants.filter { $0.method == "pai-snip" }.count == 2)
    #expect(portfolio.variants.filter { $0.method == "reconvene" }.count == 2)
}

@Test(.enabled(if: dataPresent, "needs dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"))
func allInOneRefusesTheResNetWithAClearError() throws {
    let scratch = ScratchDirectory("build")
    do {
        _ = try build(.allinone, model: .resnet, in: scratch.path)
        Issue.record("allinone with resnet must fail")
    } catch let error as TrainingError {
        #expect(error.description.contains("--model"))
    }
}
