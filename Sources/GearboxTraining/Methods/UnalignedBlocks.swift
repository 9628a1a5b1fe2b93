// GearboxTraining/UnalignedBlocks: the UBP comparison. From the trained dense model, each
// pattern (unstructured, aligned r×c blocks, unaligned r×c blocks) is pruned gradually to the
// same density with fine-tuning between steps, re-selecting the pattern each step; the results
// are exported as csr, bsr and ubp variants so that accuracy and speed can be compared at
// equal density.

import Foundation
import GearboxPortfolio

enum UnalignedBlocks {
    static func run(_ ctx: BuildContext) throws -> MethodResult {
        let plan = ctx.plan
        let (dense, _, denseSeconds) = try ctx.denseBaseline()
        var candidates = [VariantCandidate.dense("dense", dense, method: "dense", reference: dense)]
        let block = "\(plan.blockRows)x\(plan.blockColumns)"
        var trainerAccuracy: [String: Double] = [:]
        for density in plan.blockDensities {
            let tag = String(format: "d%02d", Int((density * 100).rounded()))
            var byPattern: [BlockPattern: String] = [:]
            for pattern in BlockPattern.allCases {
                let network = dense.copy()
                let name = "\(pattern.format.rawValue)-\(tag)"
                let key = ctx.denseKey + ctx.retrainKey + " blocks \(block) steps \(plan.blockSteps) x\(plan.blockEpochs) \(name)"
                let meta = try ctx.checkpointed("blocks-\(name)", network, key: key) {
                    let start = Date()
                    var selectionSeconds = 0.0
                    for step in 1...plan.blockSteps {
                        let target = 1 - (1 - density) * Double(step) / Double(plan.blockSteps)
                        let t0 = Date()
                        let kept = BlockPruning.prune(network, pattern: pattern, density: target,
                                                      rows: plan.blockRows, columns: plan.blockColumns)
                        selectionSeconds += Date().timeIntervalSince(t0)
                        ctx.log(String(format: "%@: step %d/%d, %@ pattern keeps %.1f%% of weights", name, step,
                                       plan.blockSteps, pattern.rawValue, kept * 100))
                        _ = ctx.train(network, ctx.schedule(epochs: plan.blockEpochs, warmup: false,
                                                            learningRate: plan.learningRate * 0.2, retraining: true),
                                      label: name, seed: ctx.options.seed &+ UInt64(step))
                    }
                    if pattern == .unaligned { BlockPruning.fillKeptZeros(network) }
                    return ["seconds": String(Date().timeIntervalSince(start)), "selectionSeconds": String(selectionSeconds)]
                }
                var candidate = VariantCandidate.sparse(name, network, method: pattern == .unaligned ? "ubp" : pattern.rawValue,
                                                        format: pattern.format, block: pattern == .unstructured ? nil : block)
                candidate.figures["targetDensity"] = density
                candidate.figures["fineTuneSeconds"] = Double(meta["seconds"] ?? "") ?? 0
                candidate.figures["selectionSeconds"] = Double(meta["selectionSeconds"] ?? "") ?? 0
                trainerAccuracy[name] = Evaluation.accuracy(network, on: ctx.test)
                byPattern[pattern] = name
                candidates.append(candidate)
            }
            if let u = byPattern[.unaligned], let index = candidates.firstIndex(where: { $0.name == u }) {
                candidates[index].latencyBaseline = byPattern[.aligned]
            }
        }
        return MethodResult(
            candidates: candidates, ratios: [], checks: [],
            notes: ["Patterns share one global weight budget across Conv and Linear layers; density is the fraction of those weights kept.",
                    "Unaligned blocks: greedy best-first non-overlapping placements (a stand-in for BED, same objective), re-selected at each of \(plan.blockSteps) pruning steps with \(plan.blockEpochs) fine-tuning epochs after each."],
            denseTrainingSeconds: denseSeconds)
    }
}

extension BlockPattern {
    var format: PortfolioManifest.Format {
        switch self {
        case .unstructured: return .csr
        case .aligned: return .bsr
        case .unaligned: return .ubp
        }
    }
}
