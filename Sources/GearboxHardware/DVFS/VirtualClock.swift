// GearboxHardware/VirtualClock: a deterministic clock for simulated runs. Time moves only when
// someone advances it or sleeps on it; no real time passes. Conforms to Swift's `Clock`, so code
// written against `some Clock<Duration>` runs unchanged on `ContinuousClock` or on this.

import Foundation

/// A moment on a `VirtualClock`: the time since the clock's origin.
public struct VirtualInstant: InstantProtocol, Codable, Sendable, CustomStringConvertible {
    public var sinceOrigin: Duration
    public init(sinceOrigin: Duration) { self.sinceOrigin = sinceOrigin }
    public func advanced(by duration: Duration) -> VirtualInstant { VirtualInstant(sinceOrigin: sinceOrigin + duration) }
    public func duration(to other: VirtualInstant) -> Duration { other.sinceOrigin - sinceOrigin }
    public static func < (a: VirtualInstant, b: VirtualInstant) -> Bool { a.sinceOrigin < b.sinceOrigin }
    /// Whole nanoseconds since the origin.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = sinceOrigin.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
    public var description: String { "t+\(nanoseconds) ns" }
}

/// A clock that stands still until advanced. Thread-safe; sleeping advances it at once.
public final class VirtualClock: Clock, @unchecked Sendable {
    public typealias Instant = VirtualInstant
    private let lock = NSLock()
    private var current: VirtualInstant

    public init(start: Duration = .zero) { current = VirtualInstant(sinceOrigin: start) }

    public var now: VirtualInstant {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    public var minimumResolution: Duration { .nanoseconds(1) }

    /// Moves time forward by `duration` (negative durations are ignored: time never runs back).
    public func advance(by duration: Duration) {
        guard duration > .zero else { return }
        lock.lock()
        current = current.advanced(by: duration)
        lock.unlock()
    }

    /// Moves time forward to `instant` if it lies ahead.
    public func advance(to instant: VirtualInstant) {
        lock.lock()
        if instant > current { current = instant }
        lock.unlock()
    }

    /// "Sleeps" until `deadline` by jumping there; returns immediately.
    public func sleep(until deadline: VirtualInstant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        advance(to: deadline)
    }

    /// Synchronous sleep for simulation loops that are not async.
    public func sleep(for duration: Duration) { advance(by: duration) }
}
