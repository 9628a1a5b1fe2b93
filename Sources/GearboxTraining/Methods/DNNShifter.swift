// GearboxTraining/DNNShifter: the DNNShifter pipeline (Eccles et al.): train dense, run
// iterative magnitude pruning with weight rewinding (prune 20% of the remaining weights
// globally, rewind the survivors to an early-training snapshot, retrain), and turn each sparse
// model into a smaller dense one by removing its all-zero channels, losslessly and without any
// retraining. Every round is checkpointed.

import Foundation

enum DNNShifter {
    static func run(_ ctx: BuildContext) throws -> MethodResult {
        let plan = ctx.plan
        let (dense, rewind, denseSeconds) = try ctx.denseBaseline()
        var candidates = [VariantCandidate.dense("dense", dense, method: "dense", reference: dense)]
        var checks: [PortfolioBuildReport.Check] = []
        var ratioFacts: [(round: Int, sizeRatio: Double, generationSeconds: Double, roundSeconds: Double)] = []

        let network = dense.copy()
        var previous = NetworkState(of: dense)
        for round in stride(from: 1, through: plan.impRounds, by: 1) {
            let impKey = ctx.denseKey + ctx.retrainKey + " imp \(plan.impPruneFraction) x\(plan.impEpochs) round \(round)"
            let meta = try ctx.checkpointed("imp-round-\(round)", network, key: impKey) {
                try previous.restore(into: network)
                MagnitudePruning.pruneGlobally(network, fraction: plan.impPruneFraction)
                let masks = network.masks
                try rewind.restore(into: network)
                network.setMasks(masks)
                MagnitudePruning.propagateDeadChannels(network)
                ctx.log(String(format: "IMP round %d/%d: sparsity %.2f%%, rewound to iteration %d",
                               round, plan.impRounds, network.sparsity * 100, plan.rewindIteration))
                let seconds = ctx.train(network, ctx.schedule(epochs: plan.impEpochs, warmup: false, retraining: true),
                                        label: "round \(round)", seed: ctx.options.seed &+ UInt64(round))
                return ["seconds": String(seconds)]
            }
            previous = NetworkState(of: network)
            guard plan.impVariantRounds.contains(round) else { continue }

            let sparse = network.copy()
            let start = Date()
            let (structured, removed) = StructuredConversion.convert(sparse)
            let generation = Date().timeIntervalSince(start)
            let name = String(format: "imp-r%02d", round)
            var sparseCandidate = VariantCandidate.sparse(name + "-csr", sparse, method: "imp")
            sparseCandidate.figures["impRound"] = Double(round)
            sparseCandidate.figures["roundTrainingSeconds"] = Double(meta["seconds"] ?? "") ?? 0
            var structuredCandidate = VariantCandidate.dense(name + "-structured", structured, method: "structured",
                                                             reference: dense)
            structuredCandidate.latencyBaseline = sparseCandidate.name
            structuredCandidate.figures["impRound"] = Double(round)
            structuredCandidate.figures["unstructuredSparsity"] = sparse.sparsity
            structuredCandidate.figures["channelsRemoved"] = Double(removed)
            structuredCandidate.figures["generationSeconds"] = generation
            structuredCandidate.figures["sizeRatioVsSparse"] =
                Double(sparse.parameterCount) / Double(max(1, structured.parameterCount))
            structuredCandidate.notes.append("converted from \(sparseCandidate.name) by removing \(removed) all-zero or unused channels")

            let check = Losslessness.check(sparse: sparse, structured: structured, on: ctx.test)
            checks.append(PortfolioBuildReport.Check(name: "lossless \(structuredCandidate.name)", passed: check.passed,
                                                     detail: check.detail))
            ctx.log("  \(structuredCandidate.name): \(removed) channels removed in \(String(format: "%.3f", generation))s; \(check.detail)")
            ratioFacts.append((round, structuredCandidate.figures["sizeRatioVsSparse"] ?? 1, generation,
                               Double(meta["seconds"] ?? "") ?? 0))

            if plan.scratchRounds.contains(round) {
                let scratch = structured.copy()
                let scratchMeta = try ctx.checkpointed("scratch-round-\(round)", scratch, key: impKey + " scratch") {
                    scratch.reinitialize(seed: ctx.options.seed &+ 1000 &+ UInt64(round))
                    ctx.log("training the \(structuredCandidate.name) architecture from scratch for comparison")
                    let seconds = ctx.train(scratch, ctx.schedule(epochs: plan.denseEpochs), label: "scratch r\(round)",
                                            seed: ctx.options.seed &+ 2000 &+ UInt64(round))
                    return ["seconds": String(seconds)]
                }
                let seconds = Double(scratchMeta["seconds"] ?? "") ?? 0
                structuredCandidate.figures["scratchTrainingSeconds"] = seconds
                structuredCandidate.figures["scratchTrainerAccuracy"] = Evaluation.accuracy(scratch, on: ctx.test)
                structuredCandidate.figures["generationSpeedupVsScratch"] = seconds / max(generation, 1e-9)
            }
            candidates += [sparseCandidate, structuredCandidate]
        }

        var ratios: [PortfolioBuildReport.Ratio] = []
        let bestSize = ratioFacts.map(\.sizeRatio).max()
        ratios.append(.init(name: "structured variant size vs its sparse parent (stored parameters, max over rounds)",
                            measured: bestSize, paper: 5.14,
                            note: "sparse parent counted as stored dense arrays (zeros included), as the paper's model files"))
        let scratch = candidates.compactMap { $0.figures["generationSpeedupVsScratch"] }.max()
        ratios.append(.init(name: "variant generation vs training that architecture from scratch (time, max)",
                            measured: scratch, paper: 93,
                            note: "generation = channel removal only (the IMP rounds are shared by the whole portfolio)"))
        return MethodResult(candidates: candidates, ratios: ratios, checks: checks,
                            notes: ["IMP: global magnitude pruning of Conv and Linear weights, \(Int(plan.impPruneFraction * 100))% of the remaining weights per round, rewinding to iteration \(plan.rewindIteration), \(plan.impEpochs) retraining epochs per round (shorter than the dense run, cosine schedule restarted).",
                                    "When every weight of a filter is pruned its bias and BatchNorm entry are pruned too, so the channel is exactly zero and removing it is lossless."],
                            denseTrainingSeconds: denseSeconds)
    }
}

/// Checks that a structured model computes what its sparse parent computes.
enum Losslessness {
    static func check(sparse: Network, structured: Network, on data: ImageDataset)
        -> (passed: Bool, maxDifference: Double, detail: String) {
        let a = Evaluation.logits(sparse, on: data)
        let b = Evaluation.logits(structured, on: data)
        var maxDiff: Float = 0
        var maxMagnitude: Float = 0
        for i in 0..<a.count {
            maxDiff = max(maxDiff, abs(a[i] - b[i]))
            maxMagnitude = max(maxMagnitude, abs(a[i]))
        }
        let k = sparse.classes
        var disagreements = 0
        for i in 0..<(a.count / k) {
            let pa = (0..<k).max { a[i * k + $0] < a[i * k + $1] }
            let pb = (0..<k).max { b[i * k + $0] < b[i * k + $1] }
            if pa != pb { disagreements += 1 }
        }
        let tolerance = 1e-4 * max(1, maxMagnitude)
        let passed = maxDiff <= tolerance && disagreements == 0
        return (passed, Double(maxDiff),
                String(format: "max |Δlogit| %.2e (tolerance %.1e), %d of %d predictions differ",
                       maxDiff, tolerance, disagreements, a.count / k))
    }
}
