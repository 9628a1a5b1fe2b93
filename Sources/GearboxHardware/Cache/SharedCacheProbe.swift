// GearboxHardware/SharedCacheProbe: how much of the shared last-level cache this thread gets
// right now, as the time of one dependent load in a pointer chase over a buffer larger than the
// core's private L2.
//
// Why: on a shared host the last-level cache can be held by other tenants for tens of seconds at
// a time, and a variant larger than the private L2 then runs from DRAM. Its latency depends on
// that phase, so a profiler on a shared host has to say which phase each cell ran in. (The
// pointer-chase measurement behind this is in docs/measurements.md, "Shared cache".)
//
// The time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so a throttle gap of the emulated
// DVFS controller does not count as a slow load.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GearboxCore

/// A pointer chase over a fixed buffer, one cache line per step, in a seeded random single cycle
/// (no hardware prefetcher can follow it).
public final class SharedCacheProbe {
    /// One reading: the mean time of one dependent load over `bytes`.
    public struct Reading: Codable, Equatable, Sendable {
        public var bytes: Int
        public var loadNs: Nanoseconds
    }

    public static let lineBytes = 64
    /// 4 MiB: beyond a 1–2 MiB private L2 and within the default portfolio's variant sizes.
    public static let defaultBytes = 4 << 20

    public let bytes: Int
    private let lines: Int
    private let buffer: UnsafeMutablePointer<Int>
    private static let intsPerLine = lineBytes / MemoryLayout<Int>.stride
    private var lastPosition = 0

    /// Builds the chase (seeded, so every run chases the same cycle). `bytes` is rounded down to
    /// whole cache lines, at least two.
    public init(bytes: Int = SharedCacheProbe.defaultBytes, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
        lines = max(2, bytes / Self.lineBytes)
        self.bytes = lines * Self.lineBytes
        buffer = .allocate(capacity: lines * Self.intsPerLine)
        buffer.initialize(repeating: 0, count: lines * Self.intsPerLine)
        // Sattolo's shuffle: a random permutation that is one cycle through every line.
        var order = Array(0..<lines)
        var state = seed | 1
        for i in stride(from: lines - 1, to: 0, by: -1) {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            order.swapAt(i, Int(state % UInt64(i)))
        }
        for i in 0..<lines {
            buffer[order[i] * Self.intsPerLine] = order[(i + 1) % lines] * Self.intsPerLine
        }
    }

    deinit { buffer.deallocate() }

    /// Steps the chase takes before it is back where it started (every line once).
    public var cycleLength: Int {
        var position = buffer[0], steps = 1
        while position != 0 { position = buffer[position]; steps += 1 }
        return steps
    }

    /// The first lines of the cycle, from line 0 (for tests: the seed decides it).
    var order: [Int] {
        var lines: [Int] = [], position = 0
        for _ in 0..<min(16, self.lines) { position = buffer[position]; lines.append(position / Self.intsPerLine) }
        return lines
    }

    /// Walks the buffer once untimed (what survives from the walk before is not the question)
    /// and `passes` times timed; the mean time of one load. nil when the thread CPU clock is
    /// unavailable.
    public func measure(passes: Int = 2) -> Reading? {
        var position = chase(from: 0, steps: lines)
        guard let start = ThreadCPUClock.nowNs() else { return nil }
        position = chase(from: position, steps: lines * max(1, passes))
        guard let end = ThreadCPUClock.nowNs() else { return nil }
        // Kept, so that the chase cannot be optimised away.
        lastPosition = position
        return Reading(bytes: bytes, loadNs: Nanoseconds(Double(end - start) / Double(lines * max(1, passes))))
    }

    private func chase(from start: Int, steps: Int) -> Int {
        var position = start
        for _ in 0..<steps { position = buffer[position] }
        return position
    }
}
