// gearbox portfolio synth: regenerates the built-in synthetic default portfolio.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxPortfolio

struct PortfolioSynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Regenerate the built-in synthetic default portfolio.",
        discussion: """
            One small CNN (1×28×28 input, five 3×3 convs, one max pool, global pooling, linear classifier) with \
            seeded random weights, channels in importance order: dense variants at several channel \
            widths (structured pruning), csr/bsr/ubp variants at a few sparsities, and masked \
            variants sharing one weight file. Written as ONNX with a SHA-256 per file; accuracy is \
            null (untrained). The same seed gives the same bytes.

            Example:
              gearbox portfolio synth --out Portfolios/default
            """
    )

    @Option(help: "The directory to write.") var out: String = "Portfolios/default"
    @Option(help: "Seed of the random weights.") var seed: UInt64 = DefaultPortfolio.Layout().seed
    @Flag(help: "Print the manifest as JSON.") var json = false

    func run() throws {
        var layout = DefaultPortfolio.Layout()
        layout.seed = seed
        let manifest = try DefaultPortfolio.synthesize(into: out, layout: layout)
        // Prove it loads: hashes and every format through the engine.
        _ = try Portfolio.open(directory: out, checkLoadingWith: EngineBackend())
        if json {
            print(String(decoding: try JSONFile.encoder().encode(manifest), as: UTF8.self))
            return
        }
        print("portfolio '\(manifest.name)' in \(out): \(manifest.variants.count) variants")
        print("variant".padding(toLength: 22, withPad: " ", startingAt: 0) + "format  method           sparsity    params      MACs  file")
        for v in manifest.variants {
            let row = v.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + v.format.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                + v.method.padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(format: "%8.2f %9d %9d  ", v.sparsity, v.params, v.macs) + v.file
            print(row)
        }
    }
}
