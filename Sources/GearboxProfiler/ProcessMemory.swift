// GearboxProfiler/ProcessMemory: the process's resident set from /proc/self/status (VmRSS and the
// peak VmHWM), and resetting the peak through /proc/self/clear_refs so that the peak of one
// load-and-run can be seen on its own.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One reading of the process's resident memory.
public struct ProcessMemory: Codable, Equatable, Sendable {
    /// VmRSS: resident now.
    public var rssBytes: Int
    /// VmHWM: the peak resident set since start (or since the last reset).
    public var peakBytes: Int

    public init(rssBytes: Int, peakBytes: Int) { self.rssBytes = rssBytes; self.peakBytes = peakBytes }

    /// Reads /proc/self/status; nil where it is not there (non-Linux) or unparsable.
    public static func current(statusPath: String = "/proc/self/status") -> ProcessMemory? {
        guard let text = try? String(contentsOfFile: statusPath, encoding: .utf8) else { return nil }
        return parse(status: text)
    }

    /// Parses the `VmRSS:` and `VmHWM:` lines (kB) of a /proc/<pid>/status text.
    public static func parse(status text: String) -> ProcessMemory? {
        var rss: Int?, hwm: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = kilobytes(line) }
            if line.hasPrefix("VmHWM:") { hwm = kilobytes(line) }
        }
        guard let rss, let hwm else { return nil }
        return ProcessMemory(rssBytes: rss * 1024, peakBytes: hwm * 1024)
    }

    private static func kilobytes(_ line: Substring) -> Int? {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2 else { return nil }
        return Int(fields[1])
    }

    /// Resets VmHWM to the current RSS (writes "5" to /proc/self/clear_refs, Linux ≥ 4.0).
    /// Returns false where the kernel refuses; peaks then include earlier history.
    @discardableResult
    public static func resetPeak() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    /// Hands freed heap pages back to the kernel so that RSS after an unload reflects the unload.
    /// (glibc's malloc_trim, looked up at run time: its header is not in Swift's Glibc module.)
    public static func trimHeap() {
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }
}
