// GearboxProfiler/MeasuringThread: the OS thread a sweep measures on. Swift tasks migrate between
// pool threads, so the sweep body runs on a dedicated pthread that is pinned (per `--pin`) before
// any work, and that the frequency controller enrols (cgroup throttling for emulated DVFS).

import Foundation
import GearboxCore
import GearboxHardware
#if canImport(Glibc)
import Glibc
#endif

/// Where the measuring thread runs: `--pin pu|core|kind:N|none`.
public enum PinningRequest: Codable, Equatable, Sendable, CustomStringConvertible {
    /// One processing unit (the last one allowed, away from CPU 0's interrupts).
    case pu
    /// Every PU of one core (the last core).
    case core
    /// The PUs of the CPU kind with efficiency rank N (0 = most power-efficient).
    case kind(Int)
    /// No pinning: the scheduler decides.
    case none

    /// Parses the `--pin` syntax.
    public init(parsing text: String) throws {
        switch text.lowercased() {
        case "pu": self = .pu
        case "core": self = .core
        case "none": self = .none
        default:
            if text.lowercased().hasPrefix("kind:"), let n = Int(text.dropFirst(5)), n >= 0 { self = .kind(n); return }
            throw ProfilerError.invalidSetting(name: "--pin", value: text, expected: "pu, core, kind:N (N ≥ 0) or none")
        }
    }

    public var description: String {
        switch self {
        case .pu: return "pu"
        case .core: return "core"
        case let .kind(n): return "kind:\(n)"
        case .none: return "none"
        }
    }

    public init(from decoder: Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Where the measuring thread ended up.
public struct Placement: Codable, Equatable, Sendable {
    /// The CPUs the thread may run on.
    public var cpus: [Int]
    /// How the binding was done and verified, for provenance.
    public var note: String
    public init(cpus: [Int], note: String) { self.cpus = cpus; self.note = note }
}

/// Binds the calling OS thread as a `PinningRequest` asks.
public protocol ThreadBinder: AnyObject {
    func bindCurrentThread(_ request: PinningRequest) throws -> Placement
}

/// Binds with sched_setaffinity over the CPUs this process may use. CPU kinds come from the device
/// description (hwloc's cpukinds as the probe recorded them).
public final class AffinityThreadBinder: ThreadBinder {
    public let cpuKinds: [DeviceDescription.CPUKind]
    public let coreOf: (Int) -> Int
    /// `coreOf` maps a PU to its core (defaults to the PU itself: one PU per core).
    public init(cpuKinds: [DeviceDescription.CPUKind] = [], coreOf: @escaping (Int) -> Int = { $0 }) {
        self.cpuKinds = cpuKinds; self.coreOf = coreOf
    }

    public func bindCurrentThread(_ request: PinningRequest) throws -> Placement {
        let allowed = try Self.allowedCPUs()
        guard let last = allowed.last else { throw ProfilerError.thread(reason: "no CPU is allowed for this process") }
        let target: [Int]
        switch request {
        case .none: return Placement(cpus: allowed, note: "not pinned (scheduler decides among \(allowed))")
        case .pu: target = [last]
        case .core:
            let core = coreOf(last)
            target = allowed.filter { coreOf($0) == core }
        case let .kind(rank):
            guard let kind = cpuKinds.first(where: { $0.efficiency == rank }) else {
                throw ProfilerError.invalidSetting(
                    name: "--pin", value: "kind:\(rank)",
                    expected: "a CPU kind of the device (\(cpuKinds.isEmpty ? "the device lists none; use pu or core" : cpuKinds.map { "kind:\($0.efficiency)" }.joined(separator: ", ")))")
            }
            target = kind.cpus.filter(allowed.contains)
        }
        guard !target.isEmpty else { throw ProfilerError.thread(reason: "pinning \(request) selects no allowed CPU (allowed: \(allowed))") }
        try Self.setAffinity(target)
        let now = try Self.allowedCPUs()
        guard Set(now) == Set(target) else {
            throw ProfilerError.thread(reason: "asked for CPUs \(target), the kernel reports \(now)")
        }
        return Placement(cpus: target, note: "sched_setaffinity to \(target), verified by read-back")
    }

    static func allowedCPUs() throws -> [Int] {
        var set = cpu_set_t()
        guard sched_getaffinity(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else {
            throw ProfilerError.thread(reason: "sched_getaffinity failed: \(String(cString: strerror(errno)))")
        }
        return withUnsafeBytes(of: &set) { raw in
            var cpus: [Int] = []
            for (byteIndex, byte) in raw.enumerated() where byte != 0 {
                for bit in 0..<8 where byte & (1 << bit) != 0 { cpus.append(byteIndex * 8 + bit) }
            }
            return cpus
        }
    }

    static func setAffinity(_ cpus: [Int]) throws {
        var set = cpu_set_t()
        withUnsafeMutableBytes(of: &set) { raw in
            for cpu in cpus where cpu / 8 < raw.count { raw[cpu / 8] |= UInt8(1 << (cpu % 8)) }
        }
        guard sched_setaffinity(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else {
            throw ProfilerError.thread(reason: "sched_setaffinity(\(cpus)) failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// Runs a body on a fresh OS thread and waits for it.
public enum MeasuringThread {
    /// Runs `body` on a new pthread (8 MiB stack) and returns its result or rethrows its error.
    public static func run<T>(_ body: @escaping () throws -> T) throws -> T {
        final class Box: @unchecked Sendable { var result: Result<T, Error>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result { try body() }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.name = "gearbox-measure"
        thread.start()
        done.wait()
        guard let result = box.result else { throw ProfilerError.thread(reason: "the measuring thread ended without a result") }
        return try result.get()
    }
}
