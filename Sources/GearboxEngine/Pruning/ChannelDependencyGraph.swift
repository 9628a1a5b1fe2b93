// GearboxEngine/Pruning/ChannelDependencyGraph: which channels of an arbitrary CNN graph must be
// removed together (the idea of Torch-Pruning's DepGraph). Every channel a layer makes is an
// element; operators that do not mix channels (BatchNorm, activations, pooling, depthwise Conv,
// Concat, Flatten) carry elements from their input to their output, element-wise operators
// (residual Adds, Mul, Sub) tie their inputs' elements together, and mixing layers (Conv, Gemm,
// MatMul) consume them through their weights' input axis. Tied elements form a class (one
// channel that is kept or removed as a whole); the classes of one layer's outputs form a group
// (the unit a pruning ratio applies to). Anything the analysis cannot follow blocks the elements
// that reach it, so pruning never produces a wrong model, only a less pruned one.

import Foundation

/// What the analysis found: one entry per group of channels that are pruned together.
public struct ChannelGroup: Codable, Sendable, Hashable {
    /// Index of the group in the analysis.
    public var id: Int
    /// The layers (node names, or "input"/"graph input" names) whose output channels the group holds.
    public var producers: [String]
    /// Channels in the group (tied channels counted once).
    public var channels: Int
    /// Every tensor slice the group's channels index, as "initializer[axis]".
    public var members: [String]
    /// Whether ratios apply to this group.
    public var prunable: Bool
    /// Why not, when `prunable` is false.
    public var reason: String?
}

/// The channel dependency analysis of one ONNX graph.
struct ChannelDependencyGraph {
    /// A tensor slice indexed by channel elements: `positions[i]` is the element of index `i`
    /// along `axis` of `initializer`.
    struct Member {
        enum Role { case producer, consumer, perChannel, batchNormScale, statistic }
        var initializer: String
        var axis: Int
        var positions: [Int]
        var role: Role
    }

    /// A layer (or graph input, or unanalysed operator) that makes fresh channels.
    struct Source {
        var name: String
        var range: Range<Int>
    }

    /// A node attribute or shape constant that must follow the pruning.
    enum Fix {
        /// A depthwise Conv: `group` becomes the kept count of `positions`.
        case depthwiseGroup(node: Int, positions: [Int])
        /// A flattening Reshape: its shape constant's axis 1 becomes -1.
        case flattenShape(initializer: String)
    }

    let graph: Graph
    let source: String
    private(set) var sources: [Source] = []
    private(set) var members: [Member] = []
    private(set) var fixes: [Fix] = []
    /// Union-find over elements: tied elements share a root (a class).
    private var parent: [Int] = []
    /// Why an element may not be removed (first reason wins).
    private(set) var blocked: [Int: String] = [:]
    /// Elements whose values pass an operator that does not map 0 to 0 (for lossless removal).
    private(set) var notZeroPreserving: Set<Int> = []
    /// Element positions of each value along its channel axis (axis 1; features for 2-D values).
    private var maps: [String: [Int]] = [:]
    private var shapes: [String: [Int]] = [:]
    private var constants: Set<String> = []
    /// Integer constants (initializers, Constant nodes, folded shape computations) by value name.
    private var integerConstants: [String: [Int64]] = [:]

    init(graph: Graph, source: String) throws {
        self.graph = graph
        self.source = source
        // Shapes come from the engine's own shape inference, so the analysis sees what runs.
        let compiler = ModelCompiler(graph: graph, options: EngineOptions(fusesOperators: false), source: source)
        _ = try compiler.compile()
        for (name, id) in compiler.ids {
            shapes[name] = compiler.values[id].shape
            if let constant = compiler.values[id].constant {
                constants.insert(name)
                if case let .integer(_, values, _) = constant { integerConstants[name] = values }
            }
        }
        analyse()
    }

    // MARK: Elements

    private mutating func newSource(_ name: String, count: Int, blockedBecause reason: String? = nil) -> [Int] {
        let start = parent.count
        parent.append(contentsOf: start..<(start + count))
        sources.append(Source(name: name, range: start..<(start + count)))
        let elements = Array(start..<(start + count))
        if let reason { block(elements, reason) }
        return elements
    }

    func find(_ element: Int) -> Int {
        var e = element
        while parent[e] != e { e = parent[e] }
        return e
    }

    private mutating func union(_ a: Int, _ b: Int) {
        let (ra, rb) = (find(a), find(b))
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }

    private mutating func block(_ elements: [Int]?, _ reason: String) {
        for e in elements ?? [] where blocked[e] == nil { blocked[e] = reason }
    }

    private mutating func tie(_ a: [Int], _ b: [Int]) {
        for (x, y) in zip(a, b) { union(x, y) }
    }

    // MARK: Walking the graph

    private mutating func analyse() {
        for input in graph.inputs {
            guard let shape = shapes[input.name], shape.count >= 2 else { continue }
            maps[input.name] = newSource("input \(input.name)", count: shape[1], blockedBecause: "model input channels")
        }
        var uses: [String: Int] = [:]
        for node in graph.nodes { for input in node.inputs where !input.isEmpty { uses[input, default: 0] += 1 } }
        for (index, node) in graph.nodes.enumerated() { visit(node, index: index) }
        for output in graph.outputs { block(maps[output.name], "model output \(output.name)") }
        // An initializer read by two nodes would be sliced twice.
        for member in members where (uses[member.initializer] ?? 0) > 1 {
            block(member.positions, "weights \(member.initializer) are shared by several nodes")
        }
    }

    private func isInitializer(_ name: String) -> Bool { graph.initializers[name] != nil }

    private func channelCount(_ value: String) -> Int? {
        guard let shape = shapes[value], shape.count >= 2 else { return nil }
        return shape[1]
    }

    /// Blocks everything reaching `node`, and gives its outputs fresh blocked channels.
    private mutating func opaque(_ node: GraphNode, _ reason: String) {
        let why = "\(node.opType) \(node.displayName): \(reason)"
        for input in node.inputs { block(maps[input], why) }
        for output in node.outputs {
            if let c = channelCount(output) { maps[output] = newSource(node.displayName, count: c, blockedBecause: why) }
        }
    }

    private mutating func pass(_ node: GraphNode, zeroPreserving: Bool) {
        guard let input = node.inputs.first, let map = maps[input] else { return }
        for output in node.outputs {
            guard channelCount(output) == map.count || (shapes[output]?.count == 2 && shapes[output]?[1] == map.count) else {
                return opaque(node, "changes the channel count")
            }
            maps[output] = map
        }
        if !zeroPreserving { notZeroPreserving.formUnion(map) }
    }

    private func intAttribute(_ node: GraphNode, _ name: String, _ fallback: Int) -> Int {
        if case let .int(v)? = node.attributes[name] { return v }
        return fallback
    }

    private func floatScalar(_ name: String?) -> Float? {
        guard let name, !name.isEmpty else { return nil }
        if case let .float(t)? = graph.initializers[name], t.count == 1 { return t.scalars[0] }
        return nil
    }

    private mutating func visit(_ node: GraphNode, index: Int) {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else { return opaque(node, "operator of domain \(node.domain)") }
        switch node.opType {
        case "Conv": conv(node, index: index)
        case "Gemm": gemm(node)
        case "MatMul": matMul(node)
        case "BatchNormalization":
            guard let x = node.inputs.first, let map = maps[x], node.inputs.count >= 5,
                  node.inputs[1...4].allSatisfy(isInitializer) else { return opaque(node, "parameters are not constants") }
            members.append(Member(initializer: node.inputs[1], axis: 0, positions: map, role: .batchNormScale))
            members.append(Member(initializer: node.inputs[2], axis: 0, positions: map, role: .perChannel))
            members.append(Member(initializer: node.inputs[3], axis: 0, positions: map, role: .statistic))
            members.append(Member(initializer: node.inputs[4], axis: 0, positions: map, role: .statistic))
            maps[node.outputs[0]] = map
            notZeroPreserving.formUnion(map)
        case "Relu", "LeakyRelu", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Identity", "Dropout", "Neg", "Abs":
            pass(node, zeroPreserving: true)
        case "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu", "Selu", "Softplus", "Exp", "Sqrt", "Erf", "Gelu", "Mish", "PRelu":
            if node.opType == "PRelu" { return opaque(node, "per-channel slopes are not followed") }
            pass(node, zeroPreserving: node.opType == "Tanh" || node.opType == "HardSwish")
        case "Clip":
            let low = floatScalar(node.inputs.count > 1 ? node.inputs[1] : nil) ?? -.infinity
            let high = floatScalar(node.inputs.count > 2 ? node.inputs[2] : nil) ?? .infinity
            pass(node, zeroPreserving: low <= 0 && high >= 0)
        case "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum": elementWise(node)
        case "Concat": concat(node)
        case "Flatten": flatten(node, fix: nil)
        case "Reshape": reshape(node)
        case "Squeeze", "Unsqueeze": squeeze(node)
        case "Pad": pad(node)
        case "Transpose": opaque(node, "Transpose moves the channel axis, which the analysis does not follow")
        case "Split": opaque(node, "Split along channels with sizes the analysis does not follow")
        default: opaque(node, "operator not followed by the channel analysis")
        }
    }

    private mutating func conv(_ node: GraphNode, index: Int) {
        guard node.inputs.count >= 2, isInitializer(node.inputs[1]), case let .float(w)? = graph.initializers[node.inputs[1]],
              w.shape.count >= 3, let output = node.outputs.first else { return opaque(node, "weights are not a constant") }
        let group = intAttribute(node, "group", 1)
        let inputMap = maps[node.inputs[0]]
        let channels = channelCount(node.inputs[0]) ?? 0
        let bias = node.inputs.count > 2 && !node.inputs[2].isEmpty ? node.inputs[2] : nil
        if let bias, !isInitializer(bias) { return opaque(node, "bias is not a constant") }
        if group == 1 {
            if let inputMap { members.append(Member(initializer: node.inputs[1], axis: 1, positions: inputMap, role: .consumer)) }
            let out = newSource(node.displayName, count: w.shape[0])
            members.append(Member(initializer: node.inputs[1], axis: 0, positions: out, role: .producer))
            if let bias { members.append(Member(initializer: bias, axis: 0, positions: out, role: .perChannel)) }
            maps[output] = out
        } else if group == channels, w.shape[0] == channels, w.shape[1] == 1, let inputMap {
            // Depthwise: output channel c is input channel c filtered; in and out are one class.
            members.append(Member(initializer: node.inputs[1], axis: 0, positions: inputMap, role: .producer))
            if let bias { members.append(Member(initializer: bias, axis: 0, positions: inputMap, role: .perChannel)) }
            fixes.append(.depthwiseGroup(node: index, positions: inputMap))
            maps[output] = inputMap
        } else {
            opaque(node, "grouped convolution with \(group) groups over \(channels) channels is not followed")
        }
    }

    private mutating func gemm(_ node: GraphNode) {
        guard node.inputs.count >= 2, case let .float(w)? = graph.initializers[node.inputs[1]], w.shape.count == 2,
              intAttribute(node, "transA", 0) == 0, let output = node.outputs.first else {
            return opaque(node, "weights are not a constant 2-D matrix, or A is transposed")
        }
        let transB = intAttribute(node, "transB", 0) != 0
        let (inAxis, outAxis) = transB ? (1, 0) : (0, 1)
        if let inputMap = maps[node.inputs[0]] {
            guard inputMap.count == w.shape[inAxis] else { return opaque(node, "input features do not match the weights") }
            members.append(Member(initializer: node.inputs[1], axis: inAxis, positions: inputMap, role: .consumer))
        }
        let out = newSource(node.displayName, count: w.shape[outAxis])
        members.append(Member(initializer: node.inputs[1], axis: outAxis, positions: out, role: .producer))
        if node.inputs.count > 2, !node.inputs[2].isEmpty {
            let c = node.inputs[2]
            guard case let .float(bias)? = graph.initializers[c] else { block(out, "Gemm \(node.displayName): bias is not a constant"); maps[output] = out; return }
            if bias.shape == [w.shape[outAxis]] {
                members.append(Member(initializer: c, axis: 0, positions: out, role: .perChannel))
            } else if bias.shape == [1, w.shape[outAxis]] {
                members.append(Member(initializer: c, axis: 1, positions: out, role: .perChannel))
            } else if bias.count != 1 {
                block(out, "Gemm \(node.displayName): bias of shape \(bias.shape) is not followed")
            }
        }
        maps[output] = out
    }

    private mutating func matMul(_ node: GraphNode) {
        guard node.inputs.count == 2, case let .float(w)? = graph.initializers[node.inputs[1]], w.shape.count == 2,
              shapes[node.inputs[0]]?.count == 2, let output = node.outputs.first else {
            return opaque(node, "only 2-D inputs times a constant matrix are followed")
        }
        if let inputMap = maps[node.inputs[0]] {
            guard inputMap.count == w.shape[0] else { return opaque(node, "input features do not match the weights") }
            members.append(Member(initializer: node.inputs[1], axis: 0, positions: inputMap, role: .consumer))
        }
        let out = newSource(node.displayName, count: w.shape[1])
        members.append(Member(initializer: node.inputs[1], axis: 1, positions: out, role: .producer))
        maps[output] = out
    }

    private mutating func elementWise(_ node: GraphNode) {
        guard let output = node.outputs.first, let outShape = shapes[output], outShape.count >= 2 else {
            return opaque(node, "result has no channel axis")
        }
        let rank = outShape.count, channels = outShape[1]
        var tied: [Int]? = nil
        var constantMembers: [(String, Int)] = []
        for input in node.inputs where !input.isEmpty {
            guard let shape = shapes[input] else { return opaque(node, "input \(input) has no known shape") }
            let padded = [Int](repeating: 1, count: max(0, rank - shape.count)) + shape
            if padded[1] == 1 && channels != 1 { continue }  // broadcast over channels
            if let map = maps[input], map.count == channels {
                if let t = tied { tie(t, map) } else { tied = map }
            } else if isInitializer(input) {
                constantMembers.append((input, 1 - (rank - shape.count)))
            } else if constants.contains(input) || maps[input] == nil {
                return opaque(node, "input \(input) has channels the analysis cannot follow")
            } else {
                return opaque(node, "input channel counts differ")
            }
        }
        guard let tied else { return }  // constants only: folded by the engine
        for (name, axis) in constantMembers where axis >= 0 {
            members.append(Member(initializer: name, axis: axis, positions: tied, role: .perChannel))
        }
        maps[output] = tied
        if node.opType == "Div" || node.opType == "Max" || node.opType == "Min" || !constantMembers.isEmpty && node.opType != "Mul" {
            notZeroPreserving.formUnion(tied)
        }
    }

    private mutating func concat(_ node: GraphNode) {
        guard let output = node.outputs.first, let rank = shapes[output]?.count else { return opaque(node, "unknown shape") }
        var axis = intAttribute(node, "axis", 0)
        if axis < 0 { axis += rank }
        let inputMaps = node.inputs.map { maps[$0] }
        guard inputMaps.allSatisfy({ $0 != nil }) else { return opaque(node, "an input's channels are not followed") }
        let all = inputMaps.compactMap { $0 }
        if axis == 1 {
            maps[output] = all.flatMap { $0 }
        } else {
            guard let first = all.first, all.allSatisfy({ $0.count == first.count }) else { return opaque(node, "inputs differ in channels") }
            for map in all.dropFirst() { tie(first, map) }
            maps[output] = first
        }
    }

    private mutating func flatten(_ node: GraphNode, fix: Fix?) {
        guard let input = node.inputs.first, let map = maps[input], let inShape = shapes[input],
              let output = node.outputs.first, let outShape = shapes[output] else { return }
        let spatial = inShape.dropFirst(2).reduce(1, *)
        guard outShape.count == 2, outShape[0] == inShape[0], outShape[1] == map.count * spatial,
              node.opType == "Reshape" || intAttribute(node, "axis", 1) == 1 else {
            return opaque(node, "reshapes across the channel axis")
        }
        maps[output] = map.flatMap { [Int](repeating: $0, count: spatial) }
        if let fix { fixes.append(fix) }
    }

    private mutating func reshape(_ node: GraphNode) {
        guard let input = node.inputs.first, maps[input] != nil, let inShape = shapes[input],
              let output = node.outputs.first, let outShape = shapes[output] else { return opaque(node, "unknown shapes") }
        if outShape == inShape { return pass(node, zeroPreserving: true) }
        guard node.inputs.count > 1, inShape.count >= 2, outShape.count == 2 else {
            return opaque(node, "Reshape mixes the channel axis, which the analysis does not follow")
        }
        if isInitializer(node.inputs[1]) { return flatten(node, fix: .flattenShape(initializer: node.inputs[1])) }
        // A shape computed in the graph (x.view(x.size(0), -1)) adapts by itself when its
        // feature axis is -1; any other computed shape would keep the old width.
        guard let values = integerConstants[node.inputs[1]], values.count == 2, values[1] == -1 else {
            return opaque(node, "Reshape to a computed shape the analysis cannot rewrite")
        }
        flatten(node, fix: nil)
    }

    private mutating func squeeze(_ node: GraphNode) {
        guard let input = node.inputs.first, maps[input] != nil, let inShape = shapes[input],
              let output = node.outputs.first, let outShape = shapes[output],
              inShape.count >= 2, outShape.count >= 2, inShape[0] == outShape[0], inShape[1] == outShape[1] else {
            return opaque(node, "moves the channel axis")
        }
        pass(node, zeroPreserving: true)
    }

    private mutating func pad(_ node: GraphNode) {
        guard let input = node.inputs.first, let inShape = shapes[input], let output = node.outputs.first,
              let outShape = shapes[output], inShape.count >= 2, outShape.count == inShape.count,
              inShape[1] == outShape[1] else { return opaque(node, "pads the channel axis") }
        let mode: String
        if case let .string(m)? = node.attributes["mode"] { mode = m } else { mode = "constant" }
        let value = floatScalar(node.inputs.count > 2 ? node.inputs[2] : nil) ?? 0
        pass(node, zeroPreserving: mode == "constant" && value == 0)
    }
}
