// GearboxTraining/Reconvene: pruning at initialisation, then structure (after Eccles, Wong and
// Varghese). At each sparsity: score every weight of a freshly initialised network with SNIP
// (|∂L/∂w · w| over a few batches), prune globally, train with the mask fixed (the unstructured
// PaI model), then convert: channels that are fully pruned go losslessly, channels that are
// almost fully pruned (at most `almostEmpty` of their weights left) are pruned and removed too,
// giving a smaller dense model in seconds without retraining.

import Foundation

enum Reconvene {
    /// A filter with at most this fraction of its weights left counts as almost fully pruned.
    static let almostEmpty = 0.05

    static func run(_ ctx: BuildContext) throws -> MethodResult {
        let plan = ctx.plan
        let (dense, _, denseSeconds) = try ctx.denseBaseline()
        var candidates = [VariantCandidate.dense("dense", dense, method: "dense", reference: dense)]
        var checks: [PortfolioBuildReport.Check] = []
        for sparsity in plan.reconveneSparsities {
            let tag = String(format: "s%02d", Int((sparsity * 100).rounded()))
            let network = ctx.makeNetwork(seed: ctx.options.seed &+ 500)
            let meta = try ctx.checkpointed("pai-\(tag)", network, key: ctx.baseKey + " pai x\(plan.reconveneEpochs) \(tag)") {
                let t0 = Date()
                snipPrune(network, sparsity: sparsity, ctx: ctx)
                let scoring = Date().timeIntervalSince(t0)
                ctx.log(String(format: "PaI %@: SNIP pruned to %.1f%% sparsity in %.2fs", tag, network.sparsity * 100, scoring))
                let seconds = ctx.train(network, ctx.schedule(epochs: plan.reconveneEpochs), label: "pai \(tag)",
                                        seed: ctx.options.seed &+ 600)
                return ["seconds": String(seconds), "scoringSeconds": String(scoring)]
            }
            var sparse = VariantCandidate.sparse("pai-\(tag)-csr", network, method: "pai-snip")
            sparse.figures["trainingSeconds"] = Double(meta["seconds"] ?? "") ?? 0

            let start = Date()
            let exact = StructuredConversion.convert(network)
            let forced = network.copy()
            let forcedChannels = pruneAlmostEmptyFilters(forced, threshold: almostEmpty)
            let (structured, removed) = StructuredConversion.convert(forced)
            let seconds = Date().timeIntervalSince(start)

            let lossless = Losslessness.check(sparse: network, structured: exact.network, on: ctx.test)
            checks.append(.init(name: "lossless exact conversion \(tag)", passed: lossless.passed, detail: lossless.detail))
            var candidate = VariantCandidate.dense("reconvene-\(tag)", structured, method: "reconvene", reference: dense)
            candidate.latencyBaseline = sparse.name
            candidate.figures["unstructuredSparsity"] = network.sparsity
            candidate.figures["channelsRemoved"] = Double(removed)
            candidate.figures["channelsRemovedExactly"] = Double(exact.removedChannels)
            candidate.figures["almostEmptyFiltersPruned"] = Double(forcedChannels)
            candidate.figures["conversionSeconds"] = seconds
            candidate.figures["sizeRatioVsSparse"] = Double(network.parameterCount) / Double(max(1, structured.parameterCount))
            candidate.notes.append("from \(sparse.name): \(exact.removedChannels) empty channels removed exactly, \(forcedChannels) almost-empty filters (≤ \(Int(almostEmpty * 100))% weights left) pruned, no retraining")
            ctx.log(String(format: "  reconvene-%@: %d channels removed (%d exactly) in %.3fs; size ×%.2f smaller than the sparse model",
                           tag, removed, exact.removedChannels, seconds, candidate.figures["sizeRatioVsSparse"] ?? 1))
            candidates += [sparse, candidate]
        }
        let best = candidates.compactMap { $0.figures["sizeRatioVsSparse"] }.max()
        return MethodResult(
            candidates: candidates,
            ratios: [.init(name: "structured model size vs its unstructured PaI model (stored parameters, max)",
                           measured: best, paper: 16.21, note: "sparse model stored densely (zeros included)")],
            checks: checks,
            notes: ["SNIP saliency |g·w| summed over 4 batches at initialisation; global threshold over Conv and Linear weights.",
                    "Almost fully pruned filters: at most \(Int(almostEmpty * 100))% of their weights left; pruning them is not lossless, so the engine-measured accuracy shows its cost."],
            denseTrainingSeconds: denseSeconds)
    }

    /// SNIP: saliency |∂L/∂w · w| at initialisation, summed over a few batches; prunes globally.
    static func snipPrune(_ network: Network, sparsity: Double, ctx: BuildContext) {
        for p in network.parameters { p.zeroGrad() }
        var random = SeededRandom(seed: ctx.options.seed &+ 700)
        let order = random.permutation(ctx.train.count)
        let size = min(ctx.plan.batchSize * 2, ctx.train.count)
        for b in 0..<4 {
            let start = (b * size) % max(1, ctx.train.count - size + 1)
            Trainer.accumulateGradients(network, Batch(ctx.train, indices: order[start..<(start + size)]))
        }
        MagnitudePruning.pruneGlobally(network, fraction: sparsity) { p, i in abs(p.grad[i] * p.value[i]) }
        for p in network.parameters { p.zeroGrad() }
    }

    /// Prunes every Conv filter with at most `threshold` of its weights left; returns how many.
    static func pruneAlmostEmptyFilters(_ network: Network, threshold: Double) -> Int {
        var count = 0
        for node in network.nodes {
            guard case let .conv(c) = node.op, var mask = c.weight.mask else { continue }
            let k = c.columns
            for m in 0..<c.outChannels {
                let left = mask[(m * k)..<((m + 1) * k)].reduce(0, +)
                if left > 0 && Double(left) <= threshold * Double(k) {
                    for j in 0..<k { mask[m * k + j] = 0 }
                    count += 1
                }
            }
            c.weight.mask = mask
            c.weight.applyMask()
        }
        MagnitudePruning.propagateDeadChannels(network)
        return count
    }
}
