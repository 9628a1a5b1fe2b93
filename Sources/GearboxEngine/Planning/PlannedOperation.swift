// GearboxEngine/PlannedOperation: the compiler's unit of work between shape inference and
// execution. Each operator lowers to one of these (with shapes fixed and parameters resolved);
// fusion passes edit them; the memory planner assigns their values; `makeStep` then builds the
// allocation-free step that runs each inference.

/// Identifies a node in messages.
struct NodeLabel: Sendable, Hashable, CustomStringConvertible {
    var name: String
    var opType: String
    var description: String { "\(name) (\(opType))" }
}

/// Where a planned operation's values live once memory is planned.
struct StepBinding {
    /// Address of a value (arena slot, input buffer or constant storage).
    let address: (Int) -> UnsafeMutablePointer<Float>
    /// Per-worker scratch: worker w owns scratch + w * scratchStride ..< + scratchStride.
    let scratch: UnsafeMutablePointer<Float>
    let scratchStride: Int
    /// Scratch shared by all workers of one step (e.g. a convolution's im2col matrix).
    let sharedScratch: UnsafeMutablePointer<Float>
}

/// An operation with fixed shapes, ready to be planned.
protocol PlannedOperation: AnyObject {
    var label: NodeLabel { get }
    /// Values read when the step runs.
    var inputs: [Int] { get }
    /// Values written.
    var outputs: [Int] { get }
    /// Multiply-accumulates per inference (0 for data movement and element-wise ops).
    var macs: Int { get }
    /// Floats of scratch space each worker needs.
    var scratchFloatsPerWorker: Int { get }
    /// Floats of scratch space the step's workers share.
    var sharedScratchFloats: Int { get }
    /// Builds the step; called once per load after memory planning.
    /// - Throws: `EngineError` when a library refuses the planned addresses.
    func makeStep(_ binding: StepBinding) throws -> any ExecutionStep
}

extension PlannedOperation {
    var macs: Int { 0 }
    var scratchFloatsPerWorker: Int { 0 }
    var sharedScratchFloats: Int { 0 }
}

/// One step of an execution plan. `execute` must not allocate.
protocol ExecutionStep: AnyObject {
    func execute(_ pool: WorkerPool)
}

/// Splits `count` items into tasks of about `grain` items; depends only on the sizes, never on
/// the thread count, so that results are identical for any number of workers.
@inline(__always)
func taskSplit(_ count: Int, grain: Int) -> (tasks: Int, perTask: Int) {
    guard count > 0 else { return (0, 0) }
    let tasks = max(1, min(count, (count + grain - 1) / max(grain, 1)))
    let perTask = (count + tasks - 1) / tasks
    return ((count + perTask - 1) / perTask, perTask)
}
