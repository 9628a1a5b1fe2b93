// GearboxEngine/GraphFusion: load-time rewrites that remove whole passes over activations —
// BatchNormalization folded into the preceding Conv's weights, a residual Add folded into the
// Conv that produces one of its operands, and activations folded into the epilogue of the op
// that produces their input. Each rewrite requires the intermediate to have no other reader.

/// Operations that can apply an activation to their own output.
protocol ActivationFusable: PlannedOperation {
    var activation: Activation { get set }
    var output: Int { get set }
}

extension ConvOperation: ActivationFusable {}
extension LinearOperation: ActivationFusable {}
extension GemmOperation: ActivationFusable {}
extension ChannelAffineOperation: ActivationFusable {}
extension BinaryOperation: ActivationFusable {}

struct GraphFusion {
    let compiler: ModelCompiler

    func run() {
        foldBatchNorms()
        fuseResidualAdds()
        fuseActivations()
    }

    private func producers() -> [Int: Int] {
        var map: [Int: Int] = [:]
        for (index, op) in compiler.operations.enumerated() { for id in op.outputs { map[id] = index } }
        return map
    }

    private func foldBatchNorms() {
        let uses = compiler.readerCounts(), producedBy = producers()
        var removed = Set<Int>()
        for (index, op) in compiler.operations.enumerated() {
            guard let affine = op as? ChannelAffineOperation, affine.activation == .identity,
                  let p = producedBy[affine.input], let conv = compiler.operations[p] as? ConvOperation,
                  conv.activation == .identity, conv.residual == nil, uses[affine.input] == 1,
                  conv.geometry.outChannels == affine.channels
            else { continue }
            // A packed load's layers arrive folded (their weights here are placeholders).
            if compiler.packedLayers == nil { conv.foldAffine(scale: affine.scale, shift: affine.shift) }
            conv.output = affine.output
            removed.insert(index)
        }
        remove(removed)
    }

    private func fuseResidualAdds() {
        let uses = compiler.readerCounts(), producedBy = producers()
        var removed = Set<Int>()
        for (index, op) in compiler.operations.enumerated() {
            guard let add = op as? BinaryOperation, add.function == .add, add.activation == .identity,
                  compiler.values[add.a].shape == compiler.values[add.output].shape,
                  compiler.values[add.b].shape == compiler.values[add.output].shape, add.a != add.b
            else { continue }
            // Prefer the Conv that runs last, so the other operand already exists when it runs.
            let candidates = [(add.a, add.b), (add.b, add.a)].compactMap { pair -> (ConvOperation, Int, Int)? in
                guard let p = producedBy[pair.0], let conv = compiler.operations[p] as? ConvOperation,
                      conv.activation == .identity, conv.residual == nil, uses[pair.0] == 1, !removed.contains(p)
                else { return nil }
                let otherReady = producedBy[compiler.root(pair.1)].map { $0 < p } ?? true
                return otherReady ? (conv, pair.1, p) : nil
            }.sorted { $0.2 > $1.2 }
            guard let (conv, other, _) = candidates.first else { continue }
            conv.residual = other
            conv.output = add.output
            removed.insert(index)
        }
        remove(removed)
    }

    private func fuseActivations() {
        let uses = compiler.readerCounts(), producedBy = producers()
        var removed = Set<Int>()
        for (index, op) in compiler.operations.enumerated() {
            guard let unary = op as? UnaryOperation, unary.activation.isFusable, unary.activation != .identity,
                  let p = producedBy[unary.input], !removed.contains(p),
                  let producer = compiler.operations[p] as? any ActivationFusable,
                  producer.activation == .identity, uses[unary.input] == 1, producer.output == unary.input
            else { continue }
            let target = producer
            target.activation = unary.activation
            target.output = unary.output
            removed.insert(index)
        }
        remove(removed)
    }

    private func remove(_ indices: Set<Int>) {
        guard !indices.isEmpty else { return }
        compiler.operations = compiler.operations.enumerated().filter { !indices.contains($0.offset) }.map(\.element)
    }
}
