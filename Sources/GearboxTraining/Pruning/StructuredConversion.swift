// GearboxTraining/StructuredConversion: DNNShifter's step from a sparse model to a smaller dense
// one: remove every channel `ChannelAnalysis` finds removable (filters, matching input slices of
// the next layers, BatchNorm entries, Linear columns after Flatten), repeating until nothing more
// can go, since one removal can leave an earlier channel unused.

/// Builds the smaller dense network that computes the same outputs as a sparse one.
public enum StructuredConversion {
    /// The converted network (new layers; the input network is untouched) and channels removed.
    public static func convert(_ network: Network) -> (network: Network, removedChannels: Int) {
        var current = network
        var removed = 0
        var first = true
        while true {
            let analysis = ChannelAnalysis(current)
            let count = analysis.removableCount
            if count == 0 {
                return (first ? slice(current, keeping: analysis.kept, analysis: analysis) : current, removed)
            }
            current = slice(current, keeping: analysis.kept, analysis: analysis)
            removed += count
            first = false
        }
    }

    /// Channels that would remain per Conv/Linear layer after conversion, for reports.
    public static func keptChannels(_ network: Network) -> [String: Int] {
        var out: [String: Int] = [:]
        for node in network.nodes {
            switch node.op {
            case let .conv(c): out[node.name] = c.outChannels
            case let .linear(l): out[node.name] = l.outFeatures
            default: break
            }
        }
        return out
    }

    /// A copy of `network` keeping only the channels `keep[space]` in every space.
    static func slice(_ network: Network, keeping keep: [[Int]], analysis: ChannelAnalysis) -> Network {
        var nodes: [LayerNode] = []
        for (i, node) in network.nodes.enumerated() {
            let inSpace = analysis.spaceOfTensor[node.inputs[0]]
            let outSpace = analysis.spaceOfTensor[i + 1]
            var op = node.op
            switch node.op {
            case let .conv(c):
                let area = c.kernel * c.kernel
                let rows = keep[outSpace], inputs = keep[inSpace]
                let columns = inputs.flatMap { ch in (ch * area)..<((ch + 1) * area) }
                let weight = sliceMatrix(c.weight, rows: rows, columns: columns, oldColumns: c.columns,
                                         shape: [rows.count, inputs.count, c.kernel, c.kernel])
                let bias = c.bias.map { sliceVector($0, rows) }
                op = .conv(Conv2d(weight: weight, bias: bias, stride: c.stride, padding: c.padding))
            case let .linear(l):
                let group = analysis.featuresPerChannel[node.inputs[0]]
                let rows = analysis.isProtected[outSpace] ? Array(0..<l.outFeatures) : keep[outSpace]
                let columns = keep[inSpace].flatMap { ch in (ch * group)..<((ch + 1) * group) }
                let weight = sliceMatrix(l.weight, rows: rows, columns: columns, oldColumns: l.inFeatures,
                                         shape: [rows.count, columns.count])
                op = .linear(Linear(weight: weight, bias: sliceVector(l.bias, rows)))
            case let .batchNorm(b):
                let k = keep[outSpace]
                op = .batchNorm(BatchNorm(
                    scale: sliceVector(b.scale, k), shift: sliceVector(b.shift, k),
                    runningMean: k.map { b.runningMean[$0] }, runningVariance: k.map { b.runningVariance[$0] },
                    epsilon: b.epsilon, momentum: b.momentum))
            case let .gate(g):
                let gate = ChannelGate(channels: keep[outSpace].count)
                gate.keep = keep[outSpace].map { g.keep[$0] }
                op = .gate(gate)
            default: break
            }
            nodes.append(LayerNode(name: node.name, op: op, inputs: node.inputs))
        }
        return Network(family: network.family, inputShape: network.inputShape, classes: network.classes, nodes: nodes)
    }

    private static func sliceMatrix(_ p: Parameter, rows: [Int], columns: [Int], oldColumns: Int, shape: [Int]) -> Parameter {
        var value = [Float]()
        value.reserveCapacity(rows.count * columns.count)
        for r in rows { for c in columns { value.append(p.value[r * oldColumns + c]) } }
        let mask = p.mask.map { m in rows.flatMap { r in columns.map { c in m[r * oldColumns + c] } } }
        let out = Parameter(name: p.name, shape: shape, role: p.role, value: value)
        out.mask = mask
        return out
    }

    private static func sliceVector(_ p: Parameter, _ keep: [Int]) -> Parameter {
        let out = Parameter(name: p.name, shape: [keep.count], role: p.role, value: keep.map { p.value[$0] })
        out.mask = p.mask.map { m in keep.map { m[$0] } }
        return out
    }
}
