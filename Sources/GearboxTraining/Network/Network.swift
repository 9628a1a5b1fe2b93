// GearboxTraining/Network: a small computation graph of layers in topological order, its forward
// pass (keeping what backward needs on a tape), its backward pass, and per-sample shape, MAC and
// parameter counts. Tensor 0 is the input; node i writes tensor i + 1.

/// The operators the trainer's models use.
public enum LayerOp: @unchecked Sendable {
    case conv(Conv2d)
    case batchNorm(BatchNorm)
    case relu
    case maxPool(kernel: Int, stride: Int)
    case globalAveragePool
    case flatten
    case linear(Linear)
    /// Element-wise sum of two tensors (residual connections).
    case add
    /// Per-channel 0/1 gate: the channel masks of All-in-One while training.
    case gate(ChannelGate)
}

/// A per-channel 0/1 multiplier; `keep[c] == 0` silences channel c.
public final class ChannelGate: @unchecked Sendable {
    public var keep: [Float]
    public init(channels: Int) { keep = [Float](repeating: 1, count: channels) }
    public var channels: Int { keep.count }
}

/// One node of the graph.
public struct LayerNode: @unchecked Sendable {
    public var name: String
    public var op: LayerOp
    /// Tensor ids read (0 is the network input).
    public var inputs: [Int]
    public init(name: String, op: LayerOp, inputs: [Int]) {
        self.name = name
        self.op = op
        self.inputs = inputs
    }
}

/// A trainable network: nodes in topological order, node i producing tensor i + 1.
public final class Network: @unchecked Sendable {
    /// Per-sample input shape (C, H, W).
    public let inputShape: [Int]
    public let classes: Int
    /// "cnn" or "resnet": the architecture family, for names and manifests.
    public let family: String
    public var nodes: [LayerNode]

    public init(family: String, inputShape: [Int], classes: Int, nodes: [LayerNode]) {
        self.family = family
        self.inputShape = inputShape
        self.classes = classes
        self.nodes = nodes
    }

    public var outputID: Int { nodes.count }

    /// Every learnable array, in node order (weight before bias, scale before shift).
    public var parameters: [Parameter] {
        nodes.flatMap { node -> [Parameter] in
            switch node.op {
            case let .conv(c): return [c.weight] + (c.bias.map { [$0] } ?? [])
            case let .batchNorm(b): return [b.scale, b.shift]
            case let .linear(l): return [l.weight, l.bias]
            default: return []
            }
        }
    }

    /// The prunable weights (conv and linear).
    public var prunableWeights: [Parameter] { parameters.filter { $0.role == .weight } }

    /// Parameters stored (all learnable values plus BatchNorm running statistics).
    public var parameterCount: Int {
        parameters.reduce(0) { $0 + $1.count } + nodes.reduce(0) {
            if case let .batchNorm(b) = $1.op { return $0 + 2 * b.channels }
            return $0
        }
    }

    /// Non-zero weights plus all other values: what a sparse format stores as values.
    public var nonzeroParameterCount: Int {
        parameterCount - prunableWeights.reduce(0) { acc, p in acc + p.value.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } }
    }

    /// Fraction of prunable weights that are zero.
    public var sparsity: Double {
        let total = prunableWeights.reduce(0) { $0 + $1.count }
        let zeros = prunableWeights.reduce(0) { acc, p in acc + p.value.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } }
        return total == 0 ? 0 : Double(zeros) / Double(total)
    }

    /// Per-sample shape of every tensor: (C, H, W) for feature maps, (F) after flatten.
    public func tensorShapes() -> [[Int]] {
        var shapes: [[Int]] = [inputShape]
        for node in nodes {
            let x = shapes[node.inputs[0]]
            switch node.op {
            case let .conv(c):
                shapes.append([c.outChannels, c.outputSize(x[1]), c.outputSize(x[2])])
            case let .maxPool(k, s):
                shapes.append([x[0], (x[1] - k) / s + 1, (x[2] - k) / s + 1])
            case .globalAveragePool: shapes.append([x[0], 1, 1])
            case .flatten: shapes.append([x.reduce(1, *)])
            case let .linear(l): shapes.append([l.outFeatures])
            default: shapes.append(x)
            }
        }
        return shapes
    }

    /// Multiply–accumulates per sample of the dense structure (zeros counted).
    public var denseMACs: Int { macs(countZeros: true) }
    /// Multiply–accumulates per sample skipping zero weights (what a sparse kernel does).
    public var nonzeroMACs: Int { macs(countZeros: false) }

    private func macs(countZeros: Bool) -> Int {
        let shapes = tensorShapes()
        var total = 0
        for (i, node) in nodes.enumerated() {
            let out = shapes[i + 1]
            switch node.op {
            case let .conv(c):
                let weights = countZeros ? c.weight.count : c.weight.value.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }
                total += weights * out[1] * out[2]
            case let .linear(l):
                total += countZeros ? l.weight.count : l.weight.value.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }
            default: break
            }
        }
        return total
    }

    // MARK: Forward and backward

    enum NodeCache {
        case none
        case columns([Float])
        case batchNorm(BatchNorm.Cache)
        case argmax([Int32])
    }

    /// The tape of one forward pass: every tensor and what each node's backward needs.
    public struct Pass {
        public internal(set) var values: [TrainingTensor]
        var caches: [NodeCache]
        public var logits: TrainingTensor { values[values.count - 1] }
    }

    /// Runs the graph on a (C, N, H, W) batch; `training` selects batch statistics for BatchNorm.
    public func forward(_ input: TrainingTensor, training: Bool) -> Pass {
        var values: [TrainingTensor] = [input]
        values.reserveCapacity(nodes.count + 1)
        var caches: [NodeCache] = []
        caches.reserveCapacity(nodes.count)
        for node in nodes {
            let x = values[node.inputs[0]]
            switch node.op {
            case let .conv(c):
                let (y, cols) = c.forward(x)
                values.append(y)
                caches.append(training ? .columns(cols) : .none)
            case let .batchNorm(b):
                let (y, cache) = b.forward(x, training: training)
                values.append(y)
                caches.append(cache.map { .batchNorm($0) } ?? .none)
            case .relu:
                var y = x
                y.data.withUnsafeMutableBufferPointer { p in for i in 0..<p.count where p[i] < 0 { p[i] = 0 } }
                values.append(y)
                caches.append(.none)
            case let .maxPool(k, s):
                let (y, arg) = Self.maxPool(x, kernel: k, stride: s)
                values.append(y)
                caches.append(training ? .argmax(arg) : .none)
            case .globalAveragePool:
                let (c, n) = (x.shape[0], x.shape[1])
                let plane = x.shape[2] * x.shape[3]
                var y = [Float](repeating: 0, count: c * n)
                for j in 0..<(c * n) {
                    var s: Float = 0
                    for p in 0..<plane { s += x.data[j * plane + p] }
                    y[j] = s / Float(plane)
                }
                values.append(TrainingTensor(shape: [c, n, 1, 1], data: y))
                caches.append(.none)
            case .flatten:
                values.append(Self.flatten(x))
                caches.append(.none)
            case let .linear(l):
                values.append(l.forward(x))
                caches.append(.none)
            case .add:
                var y = x
                let other = values[node.inputs[1]]
                y.data.withUnsafeMutableBufferPointer { p in
                    other.data.withUnsafeBufferPointer { q in for i in 0..<p.count { p[i] += q[i] } }
                }
                values.append(y)
                caches.append(.none)
            case let .gate(g):
                values.append(Self.gate(x, g.keep))
                caches.append(.none)
            }
        }
        return Pass(values: values, caches: caches)
    }

    /// Back-propagates dLoss/dLogits through the tape, accumulating parameter gradients.
    public func backward(_ pass: Pass, outputGradient: TrainingTensor) {
        var grads = [TrainingTensor?](repeating: nil, count: nodes.count + 1)
        grads[outputID] = outputGradient
        for index in stride(from: nodes.count - 1, through: 0, by: -1) {
            guard let dy = grads[index + 1] else { continue }
            grads[index + 1] = nil
            let node = nodes[index]
            let x = pass.values[node.inputs[0]]
            let needInput = node.inputs[0] != 0
            var dx: TrainingTensor?
            switch node.op {
            case let .conv(c):
                guard case let .columns(cols) = pass.caches[index] else { preconditionFailure("forward ran without training") }
                dx = c.backward(dy: dy, x: x, columns: cols, needInputGrad: needInput)
            case let .batchNorm(b):
                guard case let .batchNorm(cache) = pass.caches[index] else { preconditionFailure("forward ran without training") }
                dx = b.backward(dy: dy, cache: cache)
            case .relu:
                var d = dy
                let y = pass.values[index + 1]
                d.data.withUnsafeMutableBufferPointer { p in
                    y.data.withUnsafeBufferPointer { q in for i in 0..<p.count where q[i] <= 0 { p[i] = 0 } }
                }
                dx = d
            case .maxPool:
                guard case let .argmax(arg) = pass.caches[index] else { preconditionFailure("forward ran without training") }
                var d = [Float](repeating: 0, count: x.count)
                for i in 0..<arg.count { d[Int(arg[i])] += dy.data[i] }
                dx = TrainingTensor(shape: x.shape, data: d)
            case .globalAveragePool:
                let plane = x.shape[2] * x.shape[3]
                var d = [Float](repeating: 0, count: x.count)
                for j in 0..<dy.count {
                    let g = dy.data[j] / Float(plane)
                    for p in 0..<plane { d[j * plane + p] = g }
                }
                dx = TrainingTensor(shape: x.shape, data: d)
            case .flatten:
                dx = Self.unflatten(dy, like: x.shape)
            case let .linear(l):
                dx = l.backward(dy: dy, x: x, needInputGrad: needInput)
            case .add:
                Self.accumulate(&grads, node.inputs[1], dy)
                dx = dy
            case let .gate(g):
                dx = Self.gate(dy, g.keep)
            }
            if let dx, needInput { Self.accumulate(&grads, node.inputs[0], dx) }
        }
    }

    private static func accumulate(_ grads: inout [TrainingTensor?], _ id: Int, _ g: TrainingTensor) {
        guard id != 0 else { return }
        if var existing = grads[id] {
            existing.data.withUnsafeMutableBufferPointer { p in
                g.data.withUnsafeBufferPointer { q in for i in 0..<p.count { p[i] += q[i] } }
            }
            grads[id] = existing
        } else {
            grads[id] = g
        }
    }

    static func gate(_ x: TrainingTensor, _ keep: [Float]) -> TrainingTensor {
        var y = x
        let per = x.count / x.shape[0]
        y.data.withUnsafeMutableBufferPointer { p in
            for c in 0..<x.shape[0] where keep[c] != 1 {
                for j in 0..<per { p[c * per + j] *= keep[c] }
            }
        }
        return y
    }

    static func maxPool(_ x: TrainingTensor, kernel k: Int, stride s: Int) -> (TrainingTensor, [Int32]) {
        let (c, n, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h - k) / s + 1, ow = (w - k) / s + 1
        var y = [Float](repeating: 0, count: c * n * oh * ow)
        var arg = [Int32](repeating: 0, count: y.count)
        x.data.withUnsafeBufferPointer { xp in
            for plane in 0..<(c * n) {
                let base = plane * h * w
                for i in 0..<oh {
                    for j in 0..<ow {
                        var best = -Float.infinity
                        var at = base + i * s * w + j * s
                        for a in 0..<k {
                            for b in 0..<k {
                                let idx = base + (i * s + a) * w + j * s + b
                                if xp[idx] > best { best = xp[idx]; at = idx }
                            }
                        }
                        let o = (plane * oh + i) * ow + j
                        y[o] = best
                        arg[o] = Int32(at)
                    }
                }
            }
        }
        return (TrainingTensor(shape: [c, n, oh, ow], data: y), arg)
    }

    /// (C, N, H, W) → (N, C·H·W) in NCHW order.
    static func flatten(_ x: TrainingTensor) -> TrainingTensor {
        guard x.shape.count == 4 else { return x }
        let (c, n, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let plane = h * w
        var y = [Float](repeating: 0, count: x.count)
        x.data.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                guard let source = xp.baseAddress, let target = yp.baseAddress else { return }  // empty: nothing to move
                for ch in 0..<c {
                    for i in 0..<n {
                        let src = source + (ch * n + i) * plane
                        let dst = target + (i * c + ch) * plane
                        dst.update(from: src, count: plane)
                    }
                }
            }
        }
        return TrainingTensor(shape: [n, c * plane], data: y)
    }

    static func unflatten(_ dy: TrainingTensor, like shape: [Int]) -> TrainingTensor {
        guard shape.count == 4 else { return dy }
        let (c, n, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let plane = h * w
        var d = [Float](repeating: 0, count: dy.count)
        for ch in 0..<c {
            for i in 0..<n {
                for p in 0..<plane { d[(ch * n + i) * plane + p] = dy.data[(i * c + ch) * plane + p] }
            }
        }
        return TrainingTensor(shape: shape, data: d)
    }
}
