// GearboxTraining/MagnitudePruning: unstructured pruning masks. Global magnitude pruning (the
// IMP step of the lottery-ticket procedure DNNShifter builds on), global saliency pruning for
// pruning at initialisation, and "dead channel" propagation: when every weight of a filter is
// pruned, its bias and the BatchNorm entry behind it are pruned too, so the channel outputs an
// exact zero and structured conversion can remove it without changing the model's outputs.

/// Pruning masks over a network's Conv and Linear weights.
public enum MagnitudePruning {
    /// Masks out `fraction` of the still-unpruned weights with the smallest |w|, ranked across
    /// all layers together. Ties are broken by position so the result is deterministic.
    public static func pruneGlobally(_ network: Network, fraction: Double) {
        pruneGlobally(network, fraction: fraction) { p, i in abs(p.value[i]) }
    }

    /// Masks out `fraction` of the still-unpruned weights with the lowest `score`, globally.
    public static func pruneGlobally(_ network: Network, fraction: Double, score: (Parameter, Int) -> Float) {
        let weights = network.prunableWeights
        var candidates: [(score: Float, layer: Int, index: Int)] = []
        for (l, p) in weights.enumerated() {
            for i in 0..<p.count where p.mask?[i] ?? 1 != 0 { candidates.append((score(p, i), l, i)) }
        }
        let toPrune = Int((fraction * Double(candidates.count)).rounded())
        guard toPrune > 0 else { return }
        candidates.sort { a, b in a.score != b.score ? a.score < b.score : (a.layer, a.index) < (b.layer, b.index) }
        var masks = weights.map { $0.mask ?? [Float](repeating: 1, count: $0.count) }
        for c in candidates.prefix(toPrune) { masks[c.layer][c.index] = 0 }
        for (p, mask) in zip(weights, masks) { p.mask = mask }
        for p in weights { p.applyMask() }
        propagateDeadChannels(network)
    }

    /// Prunes the bias and following BatchNorm entries of every Conv filter whose weights are
    /// all masked, and resets that BatchNorm channel's statistics, so the channel is exactly zero.
    public static func propagateDeadChannels(_ network: Network) {
        for (i, node) in network.nodes.enumerated() {
            guard case let .conv(c) = node.op, let mask = c.weight.mask else { continue }
            let k = c.columns
            let dead = (0..<c.outChannels).filter { m in !mask[(m * k)..<((m + 1) * k)].contains { $0 != 0 } }
            guard !dead.isEmpty else { continue }
            if let bias = c.bias { kill(bias, dead) }
            // The BatchNorm reading this conv's output directly, if any.
            for later in network.nodes[(i + 1)...] where later.inputs.contains(i + 1) {
                if case let .batchNorm(b) = later.op {
                    kill(b.scale, dead)
                    kill(b.shift, dead)
                    for ch in dead { b.runningMean[ch] = 0; b.runningVariance[ch] = 1 }
                }
            }
        }
    }

    private static func kill(_ p: Parameter, _ channels: [Int]) {
        var mask = p.mask ?? [Float](repeating: 1, count: p.count)
        for ch in channels { mask[ch] = 0 }
        p.mask = mask
        p.applyMask()
    }

    /// Copies masks from `source` (same architecture) onto `target` and applies them.
    public static func copyMasks(from source: Network, to target: Network) {
        for (s, t) in zip(source.parameters, target.parameters) {
            precondition(s.name == t.name && s.count == t.count, "architectures differ at \(s.name)")
            t.mask = s.mask
            t.applyMask()
        }
    }
}
