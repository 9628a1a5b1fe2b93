// GearboxEngine/ExecutionPlan: a compiled model ready to run — the arena, the per-worker
// scratch, the ordered steps and the worker pool. `run()` walks the steps and allocates nothing.

final class ExecutionPlan {
    /// A graph input or output and where its data lives in the arena.
    struct Port {
        let name: String
        let shape: [Int]
        let address: UnsafeMutablePointer<Float>
        var count: Int { Tensor.elementCount(shape) }
    }

    let arena: AlignedBuffer
    let scratch: AlignedBuffer
    /// Constant tensors the steps read through raw pointers.
    let retained: [AlignedBuffer]
    let steps: [any ExecutionStep]
    /// The node each step came from (fused nodes name the first one).
    let labels: [NodeLabel]
    /// Multiply-accumulates of each step per inference (0 for data movement).
    let macs: [Int]
    /// The kernel of each convolution step ("depthwise", "xnnpack", "xnnpack-depthwise", "packed"…), nil for other steps.
    let kernels: [String?]
    let inputs: [Port]
    let outputs: [Port]
    let pool: WorkerPool

    init(arena: AlignedBuffer, scratch: AlignedBuffer, retained: [AlignedBuffer], steps: [any ExecutionStep], labels: [NodeLabel], macs: [Int], kernels: [String?], inputs: [Port], outputs: [Port],
         workerCount: Int, pinning: (any WorkerPinning)?) {
        self.arena = arena
        self.scratch = scratch
        self.retained = retained
        self.steps = steps
        self.labels = labels
        self.macs = macs
        self.kernels = kernels
        stepCount = steps.count
        stepTable = .allocate(capacity: max(steps.count, 1))
        stepTable.initialize(from: steps, count: steps.count)
        self.inputs = inputs
        self.outputs = outputs
        pool = WorkerPool(workerCount: workerCount, pinning: pinning)
    }

    /// Runs every step once on the data already in the input slots.
    func run() {
        // An index loop over a raw table: an unspecialised `for step in steps` (debug builds)
        // boxes each element and would allocate.
        var index = 0
        while index < stepCount {
            stepTable[index].execute(pool)
            index += 1
        }
    }

    private let stepCount: Int
    private let stepTable: UnsafeMutablePointer<any ExecutionStep>

    deinit {
        stepTable.deinitialize(count: steps.count)
        stepTable.deallocate()
    }

    /// Runs every step once, writing each step's wall time (ns) to `times[step]`.
    func runTimed(into times: UnsafeMutablePointer<Int>, clock: () -> UInt64) {
        var index = 0
        while index < stepCount {
            let start = clock()
            stepTable[index].execute(pool)
            times[index] = Int(clock() - start)
            index += 1
        }
    }

    /// Bytes of activations and scratch (the arena), excluding weights.
    var arenaBytes: Int { arena.byteCount + scratch.byteCount }
}
