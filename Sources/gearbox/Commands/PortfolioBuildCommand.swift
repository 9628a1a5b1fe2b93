// gearbox portfolio build: trains and prunes real portfolios on Fashion-MNIST with the four
// methods of Gearbox's research base. Parsing and printing only; GearboxTraining does the work.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxTraining

struct PortfolioBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Train and prune real portfolios on Fashion-MNIST.",
        discussion: """
            Trains a dense model on Fashion-MNIST in Swift (OpenBLAS), prunes it with the chosen \
            method, exports every variant to ONNX and measures its accuracy with Gearbox's engine \
            on the test set. Checkpoints go to --work-dir after every training step, so rerunning \
            the same command after a kill resumes; --fresh starts over.

            Examples:
              gearbox portfolio build --method dnnshifter --dataset fashion-mnist
              gearbox portfolio build --method all --dataset fashion-mnist --quick --out /tmp/p
            """
    )

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case dnnshifter, reconvene, ubp, allinone, all
    }

    @Option(help: "Pruning method: \(Method.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: Method

    @Option(help: "Data set (only fashion-mnist).")
    var dataset: String = "fashion-mnist"

    @Option(help: "Architecture: cnn or resnet.")
    var model: String = "cnn"

    @Option(help: "Output directory (default Portfolios/fashion-METHOD[-MODEL]; with --method all, a parent directory).")
    var out: String?

    @Option(help: "Directory holding the Fashion-MNIST IDX .gz files.")
    var dataDir: String = FashionMNIST.defaultDirectory

    @Option(help: "Directory for checkpoints (resume after a kill).")
    var workDir: String = ".build/portfolio-work"

    @Flag(help: "Tiny model, data subset and epochs (seconds; for CI).")
    var quick = false

    @Flag(help: "Ignore existing checkpoints and train from scratch.")
    var fresh = false

    @Option(help: "Random seed for initialisation, shuffling and pruning.")
    var seed: UInt64 = 1

    @Option(help: "OpenBLAS threads while training.")
    var threads: Int = 2

    @Option(help: "A JSON training plan replacing the defaults (for experiments; see build.json's 'plan').")
    var plan: String?

    @Flag(help: "Print the written directories as JSON at the end.")
    var json = false

    func validate() throws {
        guard dataset == "fashion-mnist" else {
            throw ValidationError("unsupported --dataset '\(dataset)': only fashion-mnist is available")
        }
        guard ModelKind(rawValue: model) != nil else {
            throw ValidationError("unknown --model '\(model)': use \(ModelKind.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let kind = ModelKind(rawValue: model) ?? .cnn
        var customPlan: BuildPlan?
        if let plan {
            do {
                customPlan = try JSONDecoder().decode(BuildPlan.self, from: Data(contentsOf: URL(fileURLWithPath: plan)))
            } catch {
                throw CommandError.input("cannot use --plan \(plan): \(error.localizedDescription) (give a JSON BuildPlan)")
            }
        }
        let methods = PruningMethod.allCases.filter { method == .all || $0.rawValue == method.rawValue }
        var written: [String] = []
        for m in methods {
            let name = PortfolioBuildOptions.defaultName(method: m, model: kind, quick: quick)
            let directory: String
            if let out { directory = method == .all ? out + "/" + name : out } else { directory = "Portfolios/" + name }
            let options = PortfolioBuildOptions(
                method: m, model: kind, outputDirectory: directory, dataDirectory: dataDir, workDirectory: workDir,
                quick: quick, seed: seed, fresh: fresh, threads: threads, plan: customPlan)
            written.append(try PortfolioBuilder.build(options) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            })
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["portfolios": written], options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for path in written { print("wrote \(path)/portfolio.json") }
        }
    }
}
