// GearboxTraining/ChannelAnalysis: which channels of a (sparse) network can be removed without
// changing its outputs. Tensors linked by channel-wise operators (BatchNorm, ReLU, pooling,
// gates, residual Adds, Flatten) share a "channel space"; Conv and Linear start new ones. A
// channel c of a space is removable exactly when every Conv/Linear reading the space either
// sees an all-zero channel c (its producers' filters and biases are zero, BatchNorm maps it to
// zero) or has only zero weights for c. Removing it then drops only work whose result is zero
// or unused, so the smaller dense model computes the same function.

/// Channel spaces of a network and, per space, the channels that can be removed losslessly.
struct ChannelAnalysis {
    /// Space id of every tensor (tensor 0 is the input).
    var spaceOfTensor: [Int]
    /// Features per channel of every tensor: 1 for feature maps, H·W after Flatten.
    var featuresPerChannel: [Int]
    /// Channels per space.
    var channelCount: [Int]
    /// Spaces that must keep every channel (the network input and output).
    var isProtected: [Bool]
    /// Channels known to be exactly zero, per tensor.
    var zeroChannels: [[Bool]]
    /// Removable channels per space (never all of them: one is kept so the graph stays well-formed).
    var removable: [[Bool]]

    init(_ network: Network) {
        let shapes = network.tensorShapes()
        var parent = Array(0..<(network.nodes.count + 1))
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        func union(_ a: Int, _ b: Int) { parent[find(a)] = find(b) }

        var featuresPerChannel = [Int](repeating: 1, count: network.nodes.count + 1)
        for (i, node) in network.nodes.enumerated() {
            let out = i + 1
            switch node.op {
            case .conv, .linear: break
            case .add:
                union(out, node.inputs[0])
                union(out, node.inputs[1])
            case .flatten:
                union(out, node.inputs[0])
                let x = shapes[node.inputs[0]]
                featuresPerChannel[out] = x.count == 3 ? x[1] * x[2] : featuresPerChannel[node.inputs[0]]
            default:
                union(out, node.inputs[0])
            }
        }
        var ids: [Int: Int] = [:]
        let spaceOfTensor = (0...network.nodes.count).map { t -> Int in
            let root = find(t)
            if let id = ids[root] { return id }
            ids[root] = ids.count
            return ids.count - 1
        }
        var channelCount = [Int](repeating: 0, count: ids.count)
        for t in 0...network.nodes.count {
            channelCount[spaceOfTensor[t]] = shapes[t][0] / (shapes[t].count == 1 ? featuresPerChannel[t] : 1)
        }
        var isProtected = [Bool](repeating: false, count: ids.count)
        isProtected[spaceOfTensor[0]] = true
        isProtected[spaceOfTensor[network.outputID]] = true

        // Forward propagation of exactly-zero channels.
        var zero: [[Bool]] = [[Bool](repeating: false, count: channelCount[spaceOfTensor[0]])]
        for node in network.nodes {
            let x = zero[node.inputs[0]]
            switch node.op {
            case let .conv(c):
                let k = c.columns
                zero.append((0..<c.outChannels).map { m in
                    (c.bias.map { $0.value[m] == 0 } ?? true) && !c.weight.value[(m * k)..<((m + 1) * k)].contains { $0 != 0 }
                })
            case let .linear(l):
                let k = l.inFeatures
                zero.append((0..<l.outFeatures).map { m in
                    l.bias.value[m] == 0 && !l.weight.value[(m * k)..<((m + 1) * k)].contains { $0 != 0 }
                })
            case let .batchNorm(b):
                zero.append((0..<b.channels).map { c in
                    (b.scale.value[c] == 0 && b.shift.value[c] == 0) || (x[c] && b.outputForZeroInput(c) == 0)
                })
            case .add:
                let y = zero[node.inputs[1]]
                zero.append(zip(x, y).map { $0 && $1 })
            case let .gate(g):
                zero.append(x.enumerated().map { $1 || g.keep[$0] == 0 })
            default:
                zero.append(x)
            }
        }

        // A channel stays removable while every consumer sees zeros there or ignores it.
        var removable = channelCount.enumerated().map { s, n in [Bool](repeating: !isProtected[s], count: n) }
        for node in network.nodes {
            let t = node.inputs[0]
            let s = spaceOfTensor[t]
            guard !isProtected[s] else { continue }
            let weight: Parameter, rows: Int, columns: Int, group: Int
            switch node.op {
            case let .conv(c):
                (weight, rows, columns, group) = (c.weight, c.outChannels, c.columns, c.kernel * c.kernel)
            case let .linear(l):
                (weight, rows, columns, group) = (l.weight, l.outFeatures, l.inFeatures, featuresPerChannel[t])
            default: continue
            }
            for ch in 0..<channelCount[s] where removable[s][ch] && !zero[t][ch] {
                var unused = true
                outer: for r in 0..<rows {
                    let base = r * columns + ch * group
                    for j in 0..<group where weight.value[base + j] != 0 { unused = false; break outer }
                }
                if !unused { removable[s][ch] = false }
            }
        }
        for s in removable.indices where !removable[s].isEmpty && !removable[s].contains(false) {
            removable[s][0] = false
        }
        self.spaceOfTensor = spaceOfTensor
        self.featuresPerChannel = featuresPerChannel
        self.channelCount = channelCount
        self.isProtected = isProtected
        self.zeroChannels = zero
        self.removable = removable
    }

    /// Channels kept per space, ascending.
    var kept: [[Int]] { removable.map { r in r.indices.filter { !r[$0] } } }

    var removableCount: Int { removable.reduce(0) { $0 + $1.filter { $0 }.count } }
}
