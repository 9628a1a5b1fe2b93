// GearboxProfiler/PageCache: drops a file's pages from the page cache (posix_fadvise DONTNEED)
// and checks with mincore whether that worked, so that a "cold" load is really from disk, or is
// labelled warm-cache when the kernel kept the pages.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum PageCache {
    /// How a cold load was prepared.
    public enum Outcome: String, Codable, Sendable {
        /// The file's pages were dropped: the next read comes from the device.
        case cold
        /// The pages could not be (fully) dropped: the "cold" load read from the page cache.
        case warmCache = "warm-cache"
    }

    /// Asks the kernel to drop `path`'s cached pages and verifies the result with mincore.
    public static func drop(path: String) -> Outcome {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .warmCache }
        defer { close(fd) }
        // DONTNEED only drops clean pages; flush first in case the file was just written.
        fdatasync(fd)
        guard posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED)) == 0 else { return .warmCache }
        guard let resident = residentFraction(fd: fd) else { return .cold }
        return resident < 0.05 ? .cold : .warmCache
    }

    /// Fraction of the file's pages in the page cache (mincore over a read-only mapping); nil when
    /// it cannot be checked.
    public static func residentFraction(path: String) -> Double? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return residentFraction(fd: fd)
    }

    private static func residentFraction(fd: Int32) -> Double? {
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size > 0 else { return nil }
        let length = Int(st.st_size)
        guard let map = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else { return nil }
        defer { munmap(map, length) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = (length + page - 1) / page
        var vector = [UInt8](repeating: 0, count: pages)
        guard mincore(map, length, &vector) == 0 else { return nil }
        let resident = vector.reduce(0) { $0 + Int($1 & 1) }
        return Double(resident) / Double(pages)
    }
}
