// GearboxTraining/PortfolioWriter: turns a method's candidates into a portfolio directory:
// exports each weight set to ONNX once, has the engine measure every variant on the test
// images (in the variant's own format), checks the engine agrees with the trainer, times each
// variant against its baseline, and writes portfolio.json and build.json atomically.

import Foundation
import GearboxCore
import GearboxEngine
import GearboxPortfolio

enum PortfolioWriter {
    static func write(_ result: MethodResult, ctx: BuildContext) throws -> (PortfolioManifest, PortfolioBuildReport) {
        let directory = ctx.options.outputDirectory
        let name = URL(fileURLWithPath: directory).lastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var candidates = result.candidates
        var checks = result.checks
        var variants: [PortfolioManifest.Variant] = []
        var facts: [PortfolioBuildReport.VariantFacts] = []
        var latencies: [String: LatencySummary] = [:]
        var exported: Set<String> = []
        let maskFractions = candidates.compactMap { $0.mask.flatMap(Double.init) }
        let firstImage = Batch(ctx.test, indices: [0][...]).input.data

        for index in candidates.indices {
            let c = candidates[index]
            let file = c.fileStem + ".onnx"
            let path = directory + "/" + file
            if exported.insert(file).inserted {
                try ONNXGraphDescription(c.network, name: c.fileStem).write(to: path)
            }
            let load = EngineLoad(path: path, format: c.format, block: c.block, maskFractions: maskFractions,
                                  maskFraction: c.mask.flatMap(Double.init))
            let engineLogits = try EngineEvaluation.logits(load, on: ctx.test, threads: ctx.options.threads)
            let accuracy = EngineEvaluation.accuracy(engineLogits, ctx.test)
            let trainerLogits = Evaluation.logits(c.network, on: ctx.test)
            let trainerAccuracy = EngineEvaluation.accuracy(trainerLogits, ctx.test)
            var maxDiff: Float = 0, magnitude: Float = 0
            for i in 0..<trainerLogits.count {
                maxDiff = max(maxDiff, abs(trainerLogits[i] - engineLogits[i]))
                magnitude = max(magnitude, abs(trainerLogits[i]))
            }
            let tolerance = 1e-4 * max(1, magnitude)
            checks.append(.init(name: "engine equals trainer \(c.name)", passed: maxDiff <= tolerance,
                                detail: String(format: "max |Δlogit| %.2e (tolerance %.1e); accuracy engine %.4f, trainer %.4f",
                                               maxDiff, tolerance, accuracy, trainerAccuracy)))
            let latency = try EngineEvaluation.latency(load, runs: ctx.plan.latencyRuns, image: firstImage)
            latencies[c.name] = latency
            candidates[index].figures["p50Ns"] = Double(latency.p50Ns)
            ctx.log(String(format: "  %@ [%@%@]: engine accuracy %.2f%% (trainer %.2f%%, max |Δlogit| %.1e), p50 %.3f ms, sparsity %.1f%%, %d params, %d MACs",
                           c.name, c.format.rawValue, c.block.map { " " + $0 } ?? (c.mask.map { " mask " + $0 } ?? ""),
                           accuracy * 100, trainerAccuracy * 100, maxDiff, Double(latency.p50Ns) / 1e6, c.sparsity * 100,
                           c.params, c.macs))
            variants.append(PortfolioManifest.Variant(
                name: c.name, file: file, format: c.format, method: c.method, sparsity: c.sparsity, params: c.params,
                macs: c.macs, accuracy: accuracy,
                accuracySource: "gearbox engine (\(c.format.rawValue)\(c.mask.map { " mask " + $0 } ?? "")) on \(ctx.testDescription)",
                sha256: try FileDigest.sha256Hex(ofFileAt: path), block: c.block, mask: c.mask))
            facts.append(.init(name: c.name, format: c.format.rawValue, sparsity: c.sparsity, params: c.params, macs: c.macs,
                               accuracy: accuracy, trainerAccuracy: trainerAccuracy, maxLogitDifference: Double(maxDiff),
                               figures: [:], notes: c.notes))
        }
        // Speed against each variant's baseline, once every latency is known.
        for (i, c) in candidates.enumerated() {
            var figures = c.figures
            if let base = c.latencyBaseline, let b = latencies[base], let own = latencies[c.name], own.p50Ns > 0 {
                figures["speedupVs:" + base] = Double(b.p50Ns) / Double(own.p50Ns)
            }
            facts[i].figures = figures
        }
        let ratios = result.ratios + MethodRatios.latencyRatios(candidates: candidates, facts: facts, method: ctx.options.method)

        let manifest = PortfolioManifest(
            name: name,
            task: .init(dataset: "fashion-mnist", inputName: ONNXGraphDescription.defaultInputName, inputShape: [1, 1, 28, 28],
                        classes: FashionMNIST.classes,
                        preprocess: .init(scale: FashionMNIST.preprocess.scale, mean: FashionMNIST.preprocess.mean,
                                          std: FashionMNIST.preprocess.std)),
            variants: variants)
        let report = PortfolioBuildReport(
            portfolio: name, method: ctx.options.method.rawValue, model: ctx.options.model.rawValue, plan: ctx.plan,
            latencySource: "\(MeasurementSource.real.rawValue): gearbox engine, batch 1, 1 thread, p50 of \(ctx.plan.latencyRuns) runs, unpinned, default governor; the profiler's DVFS sweeps supersede these",
            denseTrainingSeconds: result.denseTrainingSeconds, buildSeconds: ctx.elapsed, variants: facts, ratios: ratios,
            checks: checks, notes: result.notes)
        try JSONFile.write(report, to: directory + "/build.json")
        try AtomicFile.write(PortfolioReadme.render(manifest, report), to: directory + "/README.md")
        try JSONFile.write(manifest, to: directory + "/" + Portfolio.manifestFileName)
        return (manifest, report)
    }
}

/// Headline ratios that need the engine's latencies.
enum MethodRatios {
    static func latencyRatios(candidates: [VariantCandidate], facts: [PortfolioBuildReport.VariantFacts],
                              method: PruningMethod) -> [PortfolioBuildReport.Ratio] {
        let speedups = facts.flatMap { f in f.figures.filter { $0.key.hasPrefix("speedupVs:") }.map(\.value) }
        switch method {
        case .dnnshifter:
            return [.init(name: "structured variant latency speedup vs its csr parent (p50, max over rounds)",
                          measured: speedups.max(), paper: 1.67, note: "engine dense kernels vs engine csr kernels, batch 1")]
        case .reconvene:
            return [.init(name: "structured model latency speedup vs its unstructured PaI model (p50, max)",
                          measured: speedups.max(), paper: 2, note: "engine dense kernels vs engine csr kernels, batch 1")]
        case .ubp:
            var out: [PortfolioBuildReport.Ratio] = []
            let byName = Dictionary(uniqueKeysWithValues: facts.map { ($0.name, $0) })
            for f in facts where f.format == "ubp" {
                let tag = f.name.replacingOccurrences(of: "ubp-", with: "")
                guard let bsr = byName["bsr-" + tag], let csr = byName["csr-" + tag],
                      let a = f.accuracy, let ab = bsr.accuracy, let ac = csr.accuracy,
                      let pu = f.figures["p50Ns"], let pb = bsr.figures["p50Ns"], let pc = csr.figures["p50Ns"]
                else { continue }
                out.append(.init(name: "\(tag): accuracy ubp − bsr (points)", measured: (a - ab) * 100, paper: nil,
                                 note: String(format: "csr %.2f%%, ubp %.2f%%, bsr %.2f%%", ac * 100, a * 100, ab * 100)))
                out.append(.init(name: "\(tag): latency ubp / bsr (p50)", measured: pu / pb, paper: nil,
                                 note: String(format: "engine target ≤ 1.1; ubp / csr = %.2f", pu / pc)))
            }
            return out
        case .allinone:
            let p50 = facts.compactMap { f in f.figures["p50Ns"].map { (f.name, $0) } }
            guard let full = p50.max(by: { $0.1 < $1.1 }), let fastest = p50.min(by: { $0.1 < $1.1 }) else { return [] }
            return [.init(name: "latency range across mask ratios (slowest / fastest p50)", measured: full.1 / fastest.1,
                          paper: nil, note: "one weight set; switching ratio at a lower DVFS frequency is what keeps latency stable (the profiler measures that)")]
        }
    }
}
