// GearboxEngine/Tensor: the public Float32 tensor value (shape + aligned storage, NCHW by
// convention). Used for model inputs and outputs, constants and weights; the run-time arena
// never creates one, so steady-state inference stays allocation-free.

import GearboxCore

/// A dense, row-major Float32 tensor with value semantics (copy-on-write over `AlignedBuffer`).
///
/// Image tensors are NCHW: batch, channels, height, width.
public struct Tensor: Sendable, CustomStringConvertible {
    /// Dimensions, outermost first. A scalar has shape `[]` and one element.
    public private(set) var shape: [Int]
    private var storage: AlignedBuffer

    /// Number of elements (the product of `shape`).
    public var count: Int { storage.count }

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        self.shape = shape
        storage = AlignedBuffer(count: Tensor.elementCount(shape))
    }

    /// A tensor filled with `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(zeros: shape)
        storage.buffer.update(repeating: value)
    }

    /// A tensor with the given elements in row-major order. `scalars.count` must equal the
    /// product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(Tensor.elementCount(shape) == scalars.count,
                     "Tensor(shape: \(shape)) needs \(Tensor.elementCount(shape)) scalars, got \(scalars.count)")
        self.shape = shape
        storage = AlignedBuffer(copying: scalars)
    }

    /// A tensor whose elements come from `body`, called once per element with its flat index.
    public init(shape: [Int], generator body: (Int) -> Float) {
        self.init(zeros: shape)
        let p = storage.baseAddress
        for i in 0..<storage.count { p[i] = body(i) }
    }

    init(shape: [Int], storage: AlignedBuffer) {
        precondition(Tensor.elementCount(shape) == storage.count)
        self.shape = shape
        self.storage = storage
    }

    /// Deterministic uniform values in `range` from `seed` (SplitMix64), for synthetic inputs and weights.
    public static func random(shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -1...1) -> Tensor {
        var rng = SplitMix64(seed: seed)
        let width = range.upperBound - range.lowerBound
        return Tensor(shape: shape) { _ in range.lowerBound + width * rng.nextUnitFloat() }
    }

    /// The elements in row-major order.
    public var scalars: [Float] { Array(storage.buffer) }

    /// Element at a flat (row-major) index.
    public subscript(flat index: Int) -> Float {
        get { storage.buffer[index] }
        set { makeUnique(); storage.buffer[index] = newValue }
    }

    /// The same elements viewed with another shape of equal element count.
    public func reshaped(to newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }

    /// Read access to the elements without copying.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(storage.buffer))
    }

    /// Write access to the elements; copies first if the storage is shared.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(storage.buffer)
    }

    /// Storage shared with the engine (weights); callers must not mutate through it.
    var sharedStorage: AlignedBuffer { storage }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) || storage.isMapped { storage = storage.copy() }
    }

    /// Product of the dimensions (1 for a scalar).
    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    public var description: String {
        let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")])"
    }

    /// Largest absolute element-wise difference to `other` (same count), for tests and tools.
    public func maxAbsoluteDifference(to other: Tensor) -> Float {
        precondition(count == other.count)
        var worst: Float = 0
        let a = storage.baseAddress, b = other.storage.baseAddress
        for i in 0..<count { worst = max(worst, abs(a[i] - b[i])) }
        return worst
    }
}
