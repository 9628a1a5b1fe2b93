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
        var latencies: [String: TimedRunsSummary] = [:]
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
            candidates[index].figures["p50Ns"] = latency.p50Ns.value
            ctx.log(String(format: "  %@ [%@%@]: engine accuracy %.2f%% (trainer %.2f%%, max |Δlogit| %.1e), p50 %.3f ms, sparsity %.1f%%, %d params, %d MACs",
                           c.name, c.format.rawValue, c.block.map { " " + $0 } ?? (c.mask.map { " mask " + $0 } ?? ""),
                           accuracy * 100, trainerAccuracy * 100, maxDiff, latency.p50Ns.milliseconds, c.sparsity * 100,
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
        // Speed against each variant's baseline, once every latency is known. A sparse baseline
        // is also timed with dense kernels on its zeros: that is how the DNNShifter and Reconvene
        // papers ran their sparse models (PyTorch dense layers with masked weights).
        func load(_ c: VariantCandidate, as format: PortfolioManifest.Format? = nil) -> EngineLoad {
            EngineLoad(path: directory + "/" + c.fileStem + ".onnx", format: format ?? c.format, block: c.block,
                       maskFractions: maskFractions, maskFraction: c.mask.flatMap(Double.init))
        }
        for (i, c) in candidates.enumerated() {
            var figures = c.figures
            if let base = c.latencyBaseline, let parent = candidates.first(where: { $0.name == base }) {
                // Ratios come from paired, interleaved timing (block medians), not from the table's p50s.
                let (own, other) = try EngineEvaluation.pairedLatency(load(c), load(parent), runs: ctx.plan.latencyRuns,
                                                                      image: firstImage)
                figures["speedupVs:" + base] = other.p50Ns / max(1, own.p50Ns)
                if parent.format == .csr {
                    let (own, dense) = try EngineEvaluation.pairedLatency(load(c), load(parent, as: .dense),
                                                                          runs: ctx.plan.latencyRuns, image: firstImage)
                    figures["speedupVsDenseKernels:" + base] = dense.p50Ns / max(1, own.p50Ns)
                }
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
            latencySource: "\(MeasurementSource.real.rawValue): gearbox engine, batch 1, 1 thread, p50 of \(ctx.plan.latencyRuns) runs, unpinned, default governor, on a shared VM (speedup ratios: paired interleaved timing of the two variants); the profiler's DVFS sweeps supersede these",
            denseTrainingSeconds: result.denseTrainingSeconds, buildSeconds: ctx.elapsed, variants: facts, ratios: ratios,
            checks: checks, notes: result.notes)
        try JSONFile.write(report, to: directory + "/build.json")
        try AtomicFile.write(PortfolioReadme.render(manifest, report), to: directory + "/README.md")
        try JSONFile.write(manifest, to: directory + "/" + Portfolio.manifestFileName)
        // Variant files of an earlier build with other settings would only confuse readers.
        let current = Set(variants.map(\.file))
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where file.hasSuffix(".onnx") && !current.contains(file) {
            try? FileManager.default.removeItem(atPath: directory + "/" + file)
        }
        return (manifest, report)
    }
}

/// Headline ratios that need the engine's latencies.
enum MethodRatios {
    static func latencyRatios(candidates: [VariantCandidate], facts: [PortfolioBuildReport.VariantFacts],
                              method: PruningMethod) -> [PortfolioBuildReport.Ratio] {
        let speedups = facts.flatMap { f in f.figures.filter { $0.key.hasPrefix("speedupVs:") }.map(\.value) }
        let denseSpeedups = facts.flatMap { f in f.figures.filter { $0.key.hasPrefix("speedupVsDenseKernels:") }.map(\.value) }
        switch method {
        case .dnnshifter:
            return [.init(name: "structured variant latency speedup vs its sparse parent run with dense kernels (p50, max over rounds)",
                          measured: denseSpeedups.max(), paper: 1.67,
                          note: "the paper's setting: the sparse model executes densely with its zeros; batch 1, 1 thread"),
                    .init(name: "structured variant latency speedup vs its sparse parent run with csr kernels (p50, max over rounds)",
                          measured: speedups.max(), paper: nil, note: "Gearbox's csr kernels skip the zeros; batch 1, 1 thread")]
        case .reconvene:
            return [.init(name: "structured model latency speedup vs its PaI model run with dense kernels (p50, max)",
                          measured: denseSpeedups.max(), paper: 2,
                          note: "the paper's setting: the sparse model executes densely with its zeros; batch 1, 1 thread"),
                    .init(name: "structured model latency speedup vs its PaI model run with csr kernels (p50, max)",
                          measured: speedups.max(), paper: nil, note: "Gearbox's csr kernels skip the zeros; batch 1, 1 thread")]
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
                let paired = f.figures["speedupVs:bsr-" + tag].map { 1 / $0 } ?? pu / pb
                out.append(.init(name: "\(tag): latency ubp / bsr (p50, paired timing)", measured: paired, paper: nil,
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
