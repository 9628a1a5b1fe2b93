// GearboxEngine/Packed/MappedFile: a whole file mapped read-only (mmap, MAP_PRIVATE), owned by
// one Swift object that unmaps it when the last weight borrowing from it goes. Packed variant
// files are read through it, so their weights are paged in on first use and never copied.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only mapping of a whole file; `munmap` on deinit.
public final class MappedFile: @unchecked Sendable {
    /// The file's path, for error messages.
    public let path: String
    /// Length of the file (and of the mapping) in bytes.
    public let byteCount: Int
    /// Start of the mapping (nil for an empty file, which is never mapped).
    let base: UnsafeRawPointer?

    /// Maps `path` read-only and private.
    /// - Throws: `EngineError.cannotRead` when the file cannot be opened, measured or mapped.
    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw EngineError.cannotRead(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw EngineError.cannotRead(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw EngineError.cannotRead(path: path, reason: "not a regular file") }
        byteCount = Int(info.st_size)
        guard byteCount > 0 else { base = nil; return }
        guard let mapped = mmap(nil, byteCount, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw EngineError.cannotRead(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(mapped)
    }

    /// An anonymous read-only mapping of `byteCount` zero bytes: pages that are never written
    /// cost no memory, so shape-only placeholders can borrow from it.
    init(zeroFilledBytes byteCount: Int) throws {
        path = "<zero pages>"
        self.byteCount = byteCount
        guard byteCount > 0 else { base = nil; return }
        guard let mapped = mmap(nil, byteCount, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
            throw EngineError.cannotRead(path: path, reason: "mmap of \(byteCount) zero bytes failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(mapped)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), byteCount) }
    }

    /// Whether `address` lies inside the mapping (for tests proving weights are not copied).
    public func contains(_ address: UnsafeRawPointer?) -> Bool {
        guard let address, let base else { return false }
        return address >= base && address < base + byteCount
    }

    /// The bytes at `range` (already checked to lie inside the file).
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + range.lowerBound }, count: range.count)
    }
}
