// GearboxEngine/InvertedResidualFusion: after layout planning, replaces each NHWC chain of
// 1×1 convolution → depthwise convolution → 1×1 convolution whose two intermediate tensors have
// no other reader by one `InvertedResidualOperation`, which computes it in row bands (see
// `InvertedResidualStep`). Blocks whose expanded tensor already fits in L2 stay as they are.

struct InvertedResidualFusion {
    let compiler: ModelCompiler

    /// Fuses what it can; returns the number of blocks fused.
    @discardableResult
    func run() -> Int {
        let ops = compiler.operations
        let readers = compiler.readerCounts()
        var readerOf: [Int: Int] = [:]
        for (index, op) in ops.enumerated() { for id in op.inputs { readerOf[id] = index } }
        func soleReader(_ value: Int) -> ConvOperation? {
            guard readers[value] == 1, let index = readerOf[value], let conv = ops[index] as? ConvOperation, conv.layout == .nhwc,
                  conv.input == value
            else { return nil }
            return conv
        }
        var replaced: [ObjectIdentifier: InvertedResidualOperation] = [:]
        var removed = Set<ObjectIdentifier>()
        for op in ops {
            guard let expand = op as? ConvOperation, expand.layout == .nhwc, expand.geometry.isPointwise,
                  !removed.contains(ObjectIdentifier(expand)),
                  let depthwise = soleReader(expand.output), depthwise.geometry.isDepthwise,
                  let project = soleReader(depthwise.output), project.geometry.isPointwise,
                  let block = InvertedResidualOperation(expand: expand, depthwise: depthwise, project: project)
            else { continue }
            removed.formUnion([ObjectIdentifier(expand), ObjectIdentifier(depthwise)])
            replaced[ObjectIdentifier(project)] = block
            for member in block.members { member.moveIntoBandedBlock() }
        }
        guard !replaced.isEmpty else { return 0 }
        // The block takes the projection's place: its residual, if any, is ready by then.
        compiler.operations = ops.compactMap { op in
            let id = ObjectIdentifier(op)
            if removed.contains(id) { return nil }
            return replaced[id] ?? op
        }
        return replaced.count
    }
}

extension ModelCompiler {
    /// Readers of each value: operation inputs, views of it, and graph outputs. A value with
    /// one reader can be fused away into that reader.
    func readerCounts() -> [Int: Int] {
        var readers: [Int: Int] = [:]
        for op in operations { for id in op.inputs { readers[id, default: 0] += 1 } }
        for (_, source) in aliasOf { readers[source, default: 0] += 1 }
        for id in graphOutputIDs { readers[id, default: 0] += 1 }
        return readers
    }

    /// The operation list with every fused block replaced by its member convolutions, in order:
    /// what weights, statistics and packed files see.
    var flattenedOperations: [any PlannedOperation] {
        operations.flatMap { op -> [any PlannedOperation] in
            (op as? InvertedResidualOperation)?.members ?? [op]
        }
    }
}
