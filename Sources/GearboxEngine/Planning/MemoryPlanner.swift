// GearboxEngine/MemoryPlanner: gives every run-time value an offset in one arena so that an
// inference allocates nothing. Values whose lifetimes do not overlap share memory (greedy by
// size, the TFLite scheme); views (Reshape, Flatten…) share their source's slot; graph inputs
// and outputs keep their slots for the whole run so preloaded inputs survive repeated runs.

final class MemoryPlanner {
    private let compiler: ModelCompiler
    /// Arena slots are rounded to 16 floats (64 bytes) so every value starts on a cache line.
    private static let slotAlignment = 16

    init(compiler: ModelCompiler) { self.compiler = compiler }

    struct Interval {
        var root: Int
        var size: Int
        var first: Int
        var last: Int
        var offset = 0
    }

    /// Which kernel runs an operation, for profiles: a convolution's, a banded block's, or nil.
    static func kernelName(_ op: any PlannedOperation) -> String? {
        if let conv = op as? ConvOperation { return conv.kernelName }
        return op is InvertedResidualOperation ? InvertedResidualOperation.kernelName : nil
    }

    func makePlan() throws -> ExecutionPlan {
        let ops = compiler.operations
        let forever = Int.max
        var intervals: [Int: Interval] = [:]
        func touch(_ id: Int, at step: Int, defining: Bool) {
            let root = compiler.root(id)
            guard compiler.values[root].constant == nil else { return }
            let size = (compiler.values[root].count + Self.slotAlignment - 1) / Self.slotAlignment * Self.slotAlignment
            var interval = intervals[root] ?? Interval(root: root, size: max(size, Self.slotAlignment), first: step, last: step)
            interval.first = min(interval.first, step)
            interval.last = max(interval.last, step)
            intervals[root] = interval
        }
        for id in compiler.graphInputIDs { touch(id, at: -1, defining: true); intervals[compiler.root(id)]?.last = forever }
        for (index, op) in ops.enumerated() {
            for id in op.outputs { touch(id, at: index, defining: true) }
            for id in op.inputs { touch(id, at: index, defining: false) }
        }
        for id in compiler.graphOutputIDs {
            touch(id, at: ops.count, defining: false)
            intervals[compiler.root(id)]?.last = forever
        }
        // Greedy by size: largest first, each at the lowest offset free during its lifetime.
        var order = Array(intervals.values).sorted { ($0.size, -$0.root) > ($1.size, -$1.root) }
        var placed: [Interval] = []
        var arenaSize = 0
        for i in order.indices {
            var candidate = order[i]
            let overlapping = placed.filter { $0.first <= candidate.last && candidate.first <= $0.last }.sorted { $0.offset < $1.offset }
            var offset = 0
            for other in overlapping {
                if offset + candidate.size <= other.offset { break }
                offset = max(offset, other.offset + other.size)
            }
            candidate.offset = offset
            arenaSize = max(arenaSize, offset + candidate.size)
            placed.append(candidate)
            order[i] = candidate
        }
        var offsets: [Int: Int] = [:]
        for interval in placed { offsets[interval.root] = interval.offset }

        let workers = max(1, compiler.options.threads)
        let scratchStride = ((ops.map(\.scratchFloatsPerWorker).max() ?? 0) + Self.slotAlignment - 1) / Self.slotAlignment * Self.slotAlignment
        let sharedFloats = ops.map(\.sharedScratchFloats).max() ?? 0
        let (workspaceFloats, overflow) = arenaSize.addingReportingOverflow(scratchStride * workers + sharedFloats)
        guard !overflow, workspaceFloats <= EngineBudget.maximumWorkspaceBytes / MemoryLayout<Float>.stride else {
            throw EngineError.invalidModel(
                source: compiler.source,
                reason: "its activations need \(workspaceFloats) floats, more than the engine's budget of \(EngineBudget.maximumWorkspaceBytes) bytes (EngineBudget.maximumWorkspaceBytes); use smaller input shapes")
        }
        // Slack past the last slot: XNNPACK's kernels may read up to 16 bytes beyond an input.
        let arena = AlignedBuffer(count: arenaSize + Self.slotAlignment)
        let scratch = AlignedBuffer(count: scratchStride * workers + sharedFloats)
        let owner = compiler
        let binding = StepBinding(address: { id in
            let root = owner.root(id)
            if let offset = offsets[root] { return arena.baseAddress + offset }
            return ConstantFolder.address(ofConstant: root, in: owner)
        }, scratch: scratch.baseAddress, scratchStride: scratchStride, sharedScratch: scratch.baseAddress + scratchStride * workers)
        let steps = try ops.map { try $0.makeStep(binding) }
        func port(_ id: Int) -> ExecutionPlan.Port {
            ExecutionPlan.Port(name: compiler.values[id].name, shape: compiler.values[id].shape, address: binding.address(id))
        }
        // Steps hold raw pointers into constants; the plan keeps their storage alive.
        var retained: [AlignedBuffer] = []
        for op in ops {
            for id in op.inputs {
                if case let .float(t)? = compiler.values[compiler.root(id)].constant { retained.append(t.sharedStorage) }
            }
        }
        return ExecutionPlan(arena: arena, scratch: scratch, retained: retained, steps: steps, labels: ops.map(\.label), macs: ops.map(\.macs), kernels: ops.map(Self.kernelName),
                             inputs: compiler.graphInputIDs.map(port), outputs: compiler.graphOutputIDs.map(port),
                             workerCount: workers, pinning: compiler.options.pinning)
    }
}
