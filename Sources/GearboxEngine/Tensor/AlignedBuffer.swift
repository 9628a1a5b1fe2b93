// GearboxEngine/AlignedBuffer: the one owner of raw Float32 storage in the engine. Every tensor,
// weight matrix and the run-time arena sit in 64-byte aligned blocks (one cache line, one AVX-512
// vector), so kernels never straddle a line at a row start and sgemm gets aligned panels.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed-size, 64-byte aligned block of `Float`s, freed when the last reference goes.
///
/// It is a reference type so that the arena, tensors and weight matrices can share one block
/// without copying; `Tensor` adds copy-on-write on top.
public final class AlignedBuffer: @unchecked Sendable {
    /// Alignment of every block in bytes.
    public static let alignment = 64

    /// Number of `Float`s in the block.
    public let count: Int
    /// Start of the block; valid for `count` elements while `self` is alive.
    public let baseAddress: UnsafeMutablePointer<Float>
    /// Set for a block borrowed from a packed file's mapping: keeps it alive; nothing is freed.
    private let mappingOwner: AnyObject?

    /// Allocates `count` floats, zero-filled.
    public init(count: Int) {
        precondition(count >= 0, "AlignedBuffer count must not be negative")
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let rounded = (bytes + Self.alignment - 1) / Self.alignment * Self.alignment
        let raw = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: Self.alignment)
        memset(raw, 0, rounded)
        baseAddress = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        mappingOwner = nil
    }

    /// Borrows `count` read-only floats inside a mapping that `owner` keeps alive (packed
    /// variant files). Kernels only read weights, so the pointer's mutability is never used.
    init(borrowing base: UnsafePointer<Float>, count: Int, owner: AnyObject) {
        self.count = count
        baseAddress = UnsafeMutablePointer(mutating: base)
        mappingOwner = owner
    }

    /// Whether the block lies in a mapped file rather than on the heap.
    var isMapped: Bool { mappingOwner != nil }

    /// Allocates a block holding a copy of `values`.
    public convenience init<C: Collection>(copying values: C) where C.Element == Float {
        self.init(count: values.count)
        var i = 0
        for v in values { baseAddress[i] = v; i += 1 }
    }

    deinit { if mappingOwner == nil { UnsafeMutableRawPointer(baseAddress).deallocate() } }

    /// The block as a buffer pointer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: baseAddress, count: count) }

    /// A new block with the same contents.
    public func copy() -> AlignedBuffer {
        let other = AlignedBuffer(count: count)
        other.baseAddress.update(from: baseAddress, count: count)
        return other
    }

    /// Bytes this block occupies.
    public var byteCount: Int { count * MemoryLayout<Float>.stride }
}
