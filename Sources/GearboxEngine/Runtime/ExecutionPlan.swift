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
    let steps: [any ExecutionStep]
    let inputs: [Port]
    let outputs: [Port]
    let pool: WorkerPool

    init(arena: AlignedBuffer, scratch: AlignedBuffer, steps: [any ExecutionStep], inputs: [Port], outputs: [Port],
         workerCount: Int, pinning: (any WorkerPinning)?) {
        self.arena = arena
        self.scratch = scratch
        self.steps = steps
        self.inputs = inputs
        self.outputs = outputs
        pool = WorkerPool(workerCount: workerCount, pinning: pinning)
    }

    /// Runs every step once on the data already in the input slots.
    func run() {
        for step in steps { step.execute(pool) }
    }

    /// Bytes of activations and scratch (the arena), excluding weights.
    var arenaBytes: Int { arena.byteCount + scratch.byteCount }
}
