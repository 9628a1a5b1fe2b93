// GearboxEngine/WeightArray: the read-only element arrays of the weight formats (csr offsets,
// indices and values; bsr/ubp band tables; masked weights). Elements live either in memory the
// array owns (built by a conversion) or inside a packed file's mapping (loaded with no copy),
// so every kernel reads one kind of storage whichever way the variant was loaded.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only elements owned by the array or borrowed from a mapped packed file.
public struct WeightArray<Element: BitwiseCopyable & Hashable>: RandomAccessCollection, Hashable, @unchecked Sendable {
    /// Keeps the elements alive: an owned allocation or a file mapping.
    private let owner: AnyObject?
    private let base: UnsafePointer<Element>?
    public let count: Int

    /// Copies `elements` into a 64-byte aligned allocation of its own.
    public init(_ elements: [Element]) {
        let storage = WeightArrayAllocation<Element>(copying: elements)
        owner = storage
        base = storage.count == 0 ? nil : UnsafePointer(storage.pointer)
        count = elements.count
    }

    /// An empty array.
    public init() { self.init([]) }

    /// Borrows `count` elements at `base`, kept valid by `owner` (a file mapping).
    init(borrowing base: UnsafePointer<Element>?, count: Int, owner: AnyObject) {
        self.owner = owner
        self.base = count == 0 ? nil : base
        self.count = count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    @inline(__always)
    public subscript(position: Int) -> Element {
        precondition(position >= 0 && position < count, "WeightArray index out of range")
        return base.unsafelyUnwrapped[position]
    }

    /// Read access to the elements without copying (an empty buffer has a nil base address).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    /// Address of the first element (nil when empty), for checking where weights live.
    public var baseAddress: UnsafeRawPointer? { base.map { UnsafeRawPointer($0) } }

    /// Whether the elements are borrowed from a mapped packed file.
    var isMapped: Bool { owner is MappedFile }

    /// Bytes the elements occupy.
    public var byteCount: Int { count * MemoryLayout<Element>.stride }

    public static func == (lhs: WeightArray, rhs: WeightArray) -> Bool {
        lhs.count == rhs.count && (lhs.base == rhs.base || lhs.elementsEqual(rhs))
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for element in self { hasher.combine(element) }
    }
}

/// An aligned allocation holding a copy of an array, freed with the last `WeightArray` using it.
final class WeightArrayAllocation<Element: BitwiseCopyable>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(copying elements: [Element]) {
        count = elements.count
        let bytes = max(1, count) * MemoryLayout<Element>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: (bytes + 63) / 64 * 64, alignment: 64)
        pointer = raw.bindMemory(to: Element.self, capacity: max(1, count))
        elements.withUnsafeBufferPointer { source in
            if let start = source.baseAddress { pointer.update(from: start, count: count) }
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
