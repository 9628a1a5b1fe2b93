// GearboxTraining/AllInOne: All-in-One (Gong et al.): one weight set whose channel masks give
// several pruning ratios. Masks are nested channel prefixes (channel i is kept at every ratio
// that keeps i + 1 channels), so training all ratios jointly — each batch's gradients summed
// over every ratio, a shared-weights schedule — teaches the network to put its most important
// features first. The result is one `masked` weight set; switching ratio switches a prefix and
// copies nothing.

import Foundation

enum AllInOne {
    /// Channels a layer keeps at `ratio`: round(ratio × channels), at least one (the engine's
    /// channel-prefix rule).
    static func keptChannels(_ channels: Int, ratio: Double) -> Int {
        min(channels, max(1, Int((ratio * Double(channels)).rounded())))
    }

    static func label(_ ratio: Double) -> String { String(format: "%.2f", ratio) }

    static func run(_ ctx: BuildContext) throws -> MethodResult {
        guard ctx.options.model == .cnn else {
            throw TrainingError.badSetting(
                name: "--model", reason: "allinone supports cnn only (masked BatchNorm statistics would differ per ratio); use --model cnn")
        }
        let plan = ctx.plan
        let (dense, _, denseSeconds) = try ctx.denseBaseline()
        let network = gated(dense.copy())
        // The engine's masked kernels skip masked output rows but still add the bias, so a
        // masked channel would output ReLU(bias); with zero biases it outputs exactly zero.
        for node in network.nodes {
            if case let .conv(c) = node.op, let bias = c.bias {
                bias.mask = [Float](repeating: 0, count: bias.count)
                bias.applyMask()
            }
        }
        let key = ctx.denseKey + " allinone \(plan.allInOneRatios) x\(plan.allInOneEpochs)"
        let meta = try ctx.checkpointed("allinone", network, key: key) {
            ctx.log("All-in-One: training ratios \(plan.allInOneRatios.map(label).joined(separator: ", ")) jointly for \(plan.allInOneEpochs) epochs")
            let seconds = trainJointly(network, ctx: ctx)
            setRatio(network, 1)
            return ["seconds": String(seconds)]
        }
        var candidates: [VariantCandidate] = []
        for ratio in plan.allInOneRatios.sorted(by: >) {
            let masked = network.copy()
            setRatio(masked, ratio)
            let (slice, _) = StructuredConversion.convert(masked)
            var candidate = VariantCandidate.dense("allinone-\(label(ratio))", slice, method: "allinone", reference: dense)
            candidate.format = .masked
            candidate.mask = label(ratio)
            candidate.network = masked
            candidate.fileStem = "allinone"
            candidate.figures["channelRatio"] = ratio
            candidate.figures["jointTrainingSeconds"] = Double(meta["seconds"] ?? "") ?? 0
            candidate.notes.append("one shared weight set (allinone.onnx); this variant keeps the first \(label(ratio)) of every hidden layer's channels")
            candidates.append(candidate)
        }
        return MethodResult(
            candidates: candidates, ratios: [], checks: [],
            notes: ["Shared-weights schedule from the dense model: every batch back-propagates the loss at each ratio (\(plan.allInOneRatios.map(label).joined(separator: ", "))) and one SGD step applies their mean gradient.",
                    "Masks are channel prefixes of every hidden Conv layer (and the matching Linear inputs); the classifier's outputs are never masked."],
            denseTrainingSeconds: denseSeconds)
    }

    /// Inserts a gate after every hidden Conv's ReLU (the CNN: conv → relu → gate).
    static func gated(_ network: Network) -> Network {
        var nodes: [LayerNode] = []
        var newID = [0]  // old tensor id → new tensor id
        for node in network.nodes {
            var copy = node
            copy.inputs = node.inputs.map { newID[$0] }
            nodes.append(copy)
            newID.append(nodes.count)
            let source = node.inputs[0]
            if case .relu = node.op, source > 0, case let .conv(c) = network.nodes[source - 1].op {
                let name = network.nodes[source - 1].name + ".gate"
                nodes.append(LayerNode(name: name, op: .gate(ChannelGate(channels: c.outChannels)), inputs: [nodes.count]))
                newID[newID.count - 1] = nodes.count
            }
        }
        return Network(family: network.family, inputShape: network.inputShape, classes: network.classes, nodes: nodes)
    }

    /// Sets every gate to keep its first `keptChannels(_, ratio)` channels.
    static func setRatio(_ network: Network, _ ratio: Double) {
        for node in network.nodes {
            guard case let .gate(g) = node.op else { continue }
            let k = keptChannels(g.channels, ratio: ratio)
            g.keep = (0..<g.channels).map { $0 < k ? 1 : 0 }
        }
    }

    /// Joint training: per batch, forward/backward at each ratio, then one step on the mean.
    static func trainJointly(_ network: Network, ctx: BuildContext) -> Double {
        let plan = ctx.plan
        let start = Date()
        let schedule = ctx.schedule(epochs: plan.allInOneEpochs, warmup: false, learningRate: plan.learningRate * 0.5)
        let trainer = Trainer(network: network, schedule: schedule, seed: ctx.options.seed &+ 77)
        var random = SeededRandom(seed: ctx.options.seed &+ 78)
        let perEpoch = trainer.iterationsPerEpoch(ctx.train.count)
        let total = perEpoch * schedule.epochs
        var iteration = 0
        let weight = 1 / Float(plan.allInOneRatios.count)
        for epoch in 0..<schedule.epochs {
            let epochStart = Date()
            let order = random.permutation(ctx.train.count)
            var loss: [Double] = Array(repeating: 0, count: plan.allInOneRatios.count)
            var correct: [Int] = Array(repeating: 0, count: plan.allInOneRatios.count)
            for b in 0..<perEpoch {
                let batch = Batch(ctx.train, indices: order[(b * schedule.batchSize)..<((b + 1) * schedule.batchSize)])
                for (i, ratio) in plan.allInOneRatios.enumerated() {
                    setRatio(network, ratio)
                    let (l, hits) = Trainer.accumulateGradients(network, batch, lossWeight: weight)
                    loss[i] += Double(l)
                    correct[i] += hits
                }
                trainer.step(learningRate: schedule.learningRate(at: iteration, of: total))
                iteration += 1
            }
            let seen = Double(perEpoch * schedule.batchSize)
            let summary = zip(plan.allInOneRatios, zip(loss, correct)).map { r, lc in
                String(format: "%@: loss %.3f acc %.1f%%", label(r), lc.0 / Double(perEpoch), Double(lc.1) / seen * 100)
            }.joined(separator: ", ")
            ctx.log(String(format: "  allinone epoch %d/%d  %@  %.1fs", epoch + 1, schedule.epochs, summary,
                           Date().timeIntervalSince(epochStart)))
        }
        return Date().timeIntervalSince(start)
    }
}
