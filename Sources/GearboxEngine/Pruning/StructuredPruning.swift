// GearboxEngine/Pruning/StructuredPruning: removes whole channels from an arbitrary ONNX CNN
// over the groups of ChannelDependencyGraph and writes a smaller dense ONNX model. Two ways to
// choose: a ratio (each prunable group keeps its most important round(r × channels), at least
// one) or `fromSparse` (the channels an already sparse model has zeroed: lossless). The result
// is loaded and run by the engine before it is returned; r = 1 and fromSparse must reproduce the
// original's outputs.

import Foundation
import SwiftProtobuf

/// How a channel's importance is scored.
public enum ChannelImportance: String, Codable, Sendable, CaseIterable {
    /// Sum of |w| over the weights the channel indexes (every member of its group).
    case l1
    /// Sum over members of the L2 norm of the channel's weights.
    case l2
    /// |BatchNorm scale| summed over the group's BatchNorms (network slimming); groups without
    /// a BatchNorm fall back to L1.
    case bn
}

/// Structured pruning of one ONNX model.
public struct StructuredPruning: Sendable {
    /// What to remove.
    public enum Selection: Sendable, Hashable {
        /// Keep round(ratio × channels), at least 1, in every prunable group.
        case ratio(Double, importance: ChannelImportance)
        /// Remove the channels whose weights are all zero (lossless).
        case zeroChannels
    }

    /// One group's outcome.
    public struct GroupOutcome: Codable, Sendable, Hashable {
        public var group: ChannelGroup
        public var kept: Int
    }

    /// Outcome of running the pruned model against the original.
    public struct Check: Codable, Sendable, Hashable {
        /// Whether the pruned outputs must equal the original's (r = 1, zero channels).
        public var mustBeEqual: Bool
        public var maxAbsoluteDifference: Double
        public var tolerance: Double
        public var passed: Bool
        public var method: String
    }

    /// What `prune` did.
    public struct Report: Codable, Sendable {
        public var source: String
        /// "ratio 0.75 (l1)" or "zero channels".
        public var selection: String
        public var groups: [GroupOutcome]
        public var originalMACs: Int
        public var originalParams: Int
        public var macs: Int
        public var params: Int
        public var check: Check
        /// Groups that could not be pruned.
        public var unprunable: [GroupOutcome] { groups.filter { !$0.group.prunable } }
    }

    let graph: Graph
    let dependencies: ChannelDependencyGraph
    public let source: String
    private let original: Data

    /// Analyses the ONNX model in `data`.
    public init(onnx data: Data, source: String) throws {
        let graph = try ONNXImporter.graph(from: data, source: source)
        self.graph = graph
        self.source = source
        self.original = data
        dependencies = try ChannelDependencyGraph(graph: graph, source: source)
    }

    /// Analyses the ONNX model in the file at `path`.
    public init(contentsOf path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw EngineError.cannotRead(path: path, reason: "no such file or not readable")
        }
        try self.init(onnx: data, source: path)
    }

    // MARK: Groups

    /// Element → class root, class root → group index.
    private struct Partition {
        var classOf: [Int]
        var groupOfClass: [Int: Int]
        var classesOfGroup: [[Int]]
        var groups: [ChannelGroup]
    }

    private func partition() -> Partition {
        let d = dependencies
        let elements = d.sources.last?.range.upperBound ?? 0
        let classOf = (0..<elements).map(d.find)
        // Groups: classes joined by sharing a source.
        var groupParent = Array(0..<elements)
        func root(_ e: Int) -> Int { var x = e; while groupParent[x] != x { x = groupParent[x] }; return x }
        func join(_ a: Int, _ b: Int) { let (ra, rb) = (root(a), root(b)); if ra != rb { groupParent[max(ra, rb)] = min(ra, rb) } }
        for e in 0..<elements { join(e, classOf[e]) }
        for s in d.sources { for e in s.range.dropFirst() { join(s.range.lowerBound, e) } }
        var indexOfRoot: [Int: Int] = [:]
        var classesOfGroup: [[Int]] = []
        var groupOfClass: [Int: Int] = [:]
        var producers: [[String]] = [], reasons: [String?] = []
        for s in d.sources where !s.range.isEmpty {
            let r = root(s.range.lowerBound)
            let g = indexOfRoot[r] ?? { indexOfRoot[r] = classesOfGroup.count; classesOfGroup.append([]); producers.append([]); reasons.append(nil); return classesOfGroup.count - 1 }()
            producers[g].append(s.name)
            for e in s.range where groupOfClass[classOf[e]] == nil {
                groupOfClass[classOf[e]] = g
                classesOfGroup[g].append(classOf[e])
            }
        }
        for (e, reason) in d.blocked.sorted(by: { $0.key < $1.key }) {
            if let g = groupOfClass[classOf[e]], reasons[g] == nil { reasons[g] = reason }
        }
        var memberNames = [[String]](repeating: [], count: classesOfGroup.count)
        for m in d.members {
            guard let e = m.positions.first, let g = groupOfClass[classOf[e]] else { continue }
            let name = "\(m.initializer)[\(m.axis)]"
            if !memberNames[g].contains(name) { memberNames[g].append(name) }
        }
        let groups = classesOfGroup.indices.map { g in
            ChannelGroup(id: g, producers: producers[g], channels: classesOfGroup[g].count, members: memberNames[g],
                         prunable: reasons[g] == nil, reason: reasons[g])
        }
        return Partition(classOf: classOf, groupOfClass: groupOfClass, classesOfGroup: classesOfGroup, groups: groups)
    }

    /// The channel groups of the model, with whether each can be pruned and why not.
    public var groups: [ChannelGroup] { partition().groups }

    // MARK: Importance

    private func tensor(_ name: String) -> Tensor? {
        if case let .float(t)? = graph.initializers[name] { return t }
        return nil
    }

    /// Per-class scores from one kind of member.
    private func scores(_ p: Partition, importance: ChannelImportance) -> [Int: Double] {
        var l1: [Int: Double] = [:], l2: [Int: Double] = [:], bn: [Int: Double] = [:]
        for m in dependencies.members {
            guard let t = tensor(m.initializer) else { continue }
            let slices = sliceValues(t, axis: m.axis, count: m.positions.count)
            for (i, element) in m.positions.enumerated() {
                let c = p.classOf[element]
                switch m.role {
                case .producer, .consumer:
                    l1[c, default: 0] += slices[i].reduce(0) { $0 + Double(abs($1)) }
                    l2[c, default: 0] += slices[i].reduce(0) { $0 + Double($1 * $1) }.squareRoot()
                case .batchNormScale:
                    bn[c, default: 0] += slices[i].reduce(0) { $0 + Double(abs($1)) }
                case .perChannel, .statistic: break
                }
            }
        }
        switch importance {
        case .l1: return l1
        case .l2: return l2
        case .bn:
            // Per group: BatchNorm scales where the group has a BatchNorm, else L1.
            var result = l1
            for classes in p.classesOfGroup where classes.allSatisfy({ bn[$0] != nil }) {
                for c in classes { result[c] = bn[c] }
            }
            return result
        }
    }

    /// The values of each index along `axis` (positions 0..<count), one array per index.
    private func sliceValues(_ t: Tensor, axis: Int, count: Int) -> [[Float]] {
        let shape = t.shape
        guard axis < shape.count, shape[axis] == count else { return [[Float]](repeating: [], count: count) }
        let inner = shape.dropFirst(axis + 1).reduce(1, *), outer = shape.prefix(axis).reduce(1, *)
        let values = t.scalars
        var result = [[Float]](repeating: [], count: count)
        for o in 0..<outer { for i in 0..<count { let base = (o * count + i) * inner; result[i].append(contentsOf: values[base..<(base + inner)]) } }
        return result
    }

    // MARK: Choosing

    private func keptClasses(_ p: Partition, selection: Selection) -> Set<Int> {
        var kept = Set<Int>()
        switch selection {
        case let .ratio(ratio, importance):
            let score = scores(p, importance: importance)
            for (g, classes) in p.classesOfGroup.enumerated() {
                guard p.groups[g].prunable else { kept.formUnion(classes); continue }
                let keep = max(1, Int((ratio * Double(classes.count)).rounded()))
                // Stable: ties keep the lower channel index.
                let ranked = classes.enumerated().sorted { (score[$0.element] ?? 0, -$0.offset) > (score[$1.element] ?? 0, -$1.offset) }
                kept.formUnion(ranked.prefix(keep).map(\.element))
            }
        case .zeroChannels:
            let removable = zeroClasses(p)
            let score = scores(p, importance: .l1)
            for (g, classes) in p.classesOfGroup.enumerated() {
                guard p.groups[g].prunable else { kept.formUnion(classes); continue }
                var keep = classes.filter { !removable.contains($0) }
                if keep.isEmpty, let best = classes.max(by: { (score[$0] ?? 0) < (score[$1] ?? 0) }) { keep = [best] }
                kept.formUnion(keep)
            }
        }
        return kept
    }

    /// Classes that can go without changing any output: nothing reads them (every consumer's
    /// weights for them are zero), or they are exactly zero everywhere (every weight and bias
    /// making them is zero, no BatchNorm shifts them, and every operator they pass maps 0 to 0).
    private func zeroClasses(_ p: Partition) -> Set<Int> {
        var consumerNonzero = Set<Int>(), producerNonzero = Set<Int>(), hasConsumer = Set<Int>()
        for m in dependencies.members {
            guard let t = tensor(m.initializer) else { continue }
            let slices = sliceValues(t, axis: m.axis, count: m.positions.count)
            for (i, element) in m.positions.enumerated() {
                let c = p.classOf[element]
                let nonzero = slices[i].contains { $0 != 0 }
                switch m.role {
                case .consumer: hasConsumer.insert(c); if nonzero { consumerNonzero.insert(c) }
                case .producer, .perChannel: if nonzero { producerNonzero.insert(c) }
                case .batchNormScale: producerNonzero.insert(c)
                case .statistic: break
                }
            }
        }
        for e in dependencies.notZeroPreserving { producerNonzero.insert(p.classOf[e]) }
        let all = Set(p.groupOfClass.keys)
        return all.filter { (hasConsumer.contains($0) && !consumerNonzero.contains($0)) || !producerNonzero.contains($0) }
    }

    // MARK: Applying

    /// Prunes and returns the smaller model's ONNX bytes and the report. Throws when the engine
    /// cannot run the result, or when an exact selection changes the outputs.
    public func prune(_ selection: Selection, checkSeed: UInt64 = 1) throws -> (onnx: Data, report: Report) {
        if case let .ratio(r, _) = selection, !(r > 0 && r <= 1) {
            throw EngineError.invalidOption(name: "ratio", reason: "\(r) is not in (0, 1]")
        }
        let p = partition()
        let kept = keptClasses(p, selection: selection)
        func keep(_ positions: [Int]) -> [Int] { positions.indices.filter { kept.contains(p.classOf[positions[$0]]) } }
        var pruned = graph
        for m in dependencies.members {
            let indices = keep(m.positions)
            guard indices.count < m.positions.count, case let .float(t)? = pruned.initializers[m.initializer] else { continue }
            pruned.initializers[m.initializer] = .float(select(t, axis: m.axis, indices: indices))
        }
        for fix in dependencies.fixes {
            switch fix {
            case let .depthwiseGroup(node, positions):
                pruned.nodes[node].attributes["group"] = .int(keep(positions).count)
            case let .flattenShape(initializer):
                if case let .integer(shape, values, type)? = pruned.initializers[initializer], values.count == 2, values[1] != -1 {
                    pruned.initializers[initializer] = .integer(shape: shape, values: [values[0], -1], type: type)
                }
            }
        }
        let data: Data
        do { data = try ONNXExporter.model(from: pruned, producer: "gearbox structured pruning").serializedBytes() } catch {
            throw EngineError.malformedFile(source: source, reason: "cannot serialise the pruned model (\(error))")
        }
        let outcomes = p.groups.map { g in
            GroupOutcome(group: g, kept: p.classesOfGroup[g.id].filter { kept.contains($0) }.count)
        }
        let exact: Bool
        let label: String
        switch selection {
        case let .ratio(r, importance): exact = r == 1; label = "ratio \(r) (\(importance.rawValue))"
        case .zeroChannels: exact = true; label = "zero channels"
        }
        let before = try InferenceModel(onnx: original, source: source)
        let after = try InferenceModel(onnx: data, source: source + " (pruned)")
        let check = try compare(before, after, mustBeEqual: exact, seed: checkSeed)
        guard check.passed else {
            throw EngineError.invalidModel(
                source: source,
                reason: "structured pruning (\(label)) changed the outputs by \(check.maxAbsoluteDifference) > \(check.tolerance); nothing written")
        }
        let report = Report(source: source, selection: label, groups: outcomes,
                            originalMACs: before.statistics.macs, originalParams: before.statistics.parameters,
                            macs: after.statistics.macs, params: after.statistics.parameters, check: check)
        return (data, report)
    }

    /// `t` restricted to `indices` along `axis`.
    private func select(_ t: Tensor, axis: Int, indices: [Int]) -> Tensor {
        var shape = t.shape
        let count = shape[axis]
        let inner = shape.dropFirst(axis + 1).reduce(1, *), outer = shape.prefix(axis).reduce(1, *)
        shape[axis] = indices.count
        let values = t.scalars
        var out = [Float]()
        out.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer { for i in indices { let base = (o * count + i) * inner; out.append(contentsOf: values[base..<(base + inner)]) } }
        return Tensor(shape: shape, scalars: out)
    }

    private func compare(_ a: InferenceModel, _ b: InferenceModel, mustBeEqual: Bool, seed: UInt64) throws -> Check {
        var inputs = [String: Tensor]()
        for (offset, port) in a.inputs.enumerated() { inputs[port.name] = Tensor.random(shape: port.shape, seed: seed &+ UInt64(offset)) }
        let expected = try a.run(inputs), actual = try b.run(inputs)
        var difference: Float = 0, magnitude: Float = 0, shapesMatch = true
        for (name, reference) in expected {
            guard let result = actual[name], result.shape == reference.shape else { shapesMatch = false; continue }
            difference = max(difference, reference.maxAbsoluteDifference(to: result))
            reference.withUnsafeBufferPointer { magnitude = max(magnitude, $0.map(abs).max() ?? 0) }
        }
        let tolerance = 1e-5 + 1e-4 * Double(magnitude)
        let passed = shapesMatch && !difference.isNaN && (!mustBeEqual || Double(difference) <= tolerance)
        return Check(mustBeEqual: mustBeEqual, maxAbsoluteDifference: Double(difference), tolerance: tolerance, passed: passed,
                     method: "engine: original vs pruned on seeded random inputs\(mustBeEqual ? " (must be equal)" : " (same output shapes)")")
    }
}
