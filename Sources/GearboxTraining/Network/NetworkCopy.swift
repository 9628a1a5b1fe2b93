// GearboxTraining/NetworkCopy: deep copies of networks (any shape, including structurally
// pruned ones) and re-initialisation of a given architecture for training from scratch.

extension Network {
    /// A deep copy: new layers and parameters with the same values, masks and statistics.
    public func copy() -> Network {
        func dup(_ p: Parameter) -> Parameter {
            let q = Parameter(name: p.name, shape: p.shape, role: p.role, value: p.value)
            q.mask = p.mask
            return q
        }
        let copied = nodes.map { node -> LayerNode in
            var op = node.op
            switch node.op {
            case let .conv(c): op = .conv(Conv2d(weight: dup(c.weight), bias: c.bias.map(dup), stride: c.stride, padding: c.padding))
            case let .linear(l): op = .linear(Linear(weight: dup(l.weight), bias: dup(l.bias)))
            case let .batchNorm(b):
                op = .batchNorm(BatchNorm(scale: dup(b.scale), shift: dup(b.shift), runningMean: b.runningMean,
                                          runningVariance: b.runningVariance, epsilon: b.epsilon, momentum: b.momentum))
            case let .gate(g):
                let gate = ChannelGate(channels: g.channels)
                gate.keep = g.keep
                op = .gate(gate)
            default: break
            }
            return LayerNode(name: node.name, op: op, inputs: node.inputs)
        }
        return Network(family: family, inputShape: inputShape, classes: classes, nodes: copied)
    }

    /// Fresh random weights for this architecture (He normal for convs, uniform for Linear,
    /// zero biases, unit BatchNorm), masks cleared: the "train this size from scratch" baseline.
    public func reinitialize(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        for node in nodes {
            switch node.op {
            case let .conv(c):
                let std = (2 / Float(max(1, c.columns))).squareRoot()
                c.weight.reshape(c.weight.shape, value: (0..<c.weight.count).map { _ in random.nextNormal() * std }, mask: nil)
                if let b = c.bias { b.reshape(b.shape, value: [Float](repeating: 0, count: b.count), mask: nil) }
            case let .linear(l):
                let bound = (1 / Float(max(1, l.inFeatures))).squareRoot()
                l.weight.reshape(l.weight.shape, value: (0..<l.weight.count).map { _ in (random.nextUnit() * 2 - 1) * bound },
                                 mask: nil)
                l.bias.reshape(l.bias.shape, value: [Float](repeating: 0, count: l.bias.count), mask: nil)
            case let .batchNorm(b):
                b.scale.reshape(b.scale.shape, value: [Float](repeating: 1, count: b.channels), mask: nil)
                b.shift.reshape(b.shift.shape, value: [Float](repeating: 0, count: b.channels), mask: nil)
                b.runningMean = [Float](repeating: 0, count: b.channels)
                b.runningVariance = [Float](repeating: 1, count: b.channels)
            default: break
            }
        }
    }

    /// The masks of every parameter, by name (nil entries for unmasked ones).
    var masks: [String: [Float]] {
        var out: [String: [Float]] = [:]
        for p in parameters { if let m = p.mask { out[p.name] = m } }
        return out
    }

    /// Sets masks by name (others cleared) and zeroes masked values.
    func setMasks(_ masks: [String: [Float]]) {
        for p in parameters {
            p.mask = masks[p.name]
            p.applyMask()
        }
    }
}
