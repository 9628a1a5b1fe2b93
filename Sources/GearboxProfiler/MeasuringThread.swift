// GearboxProfiler/MeasuringThread: the OS thread a sweep measures on. Swift tasks migrate between
// pool threads, so the sweep body runs on a dedicated pthread that is pinned (per `--pin`) before
// any work, and that the frequency controller enrols (cgroup throttling for emulated DVFS).

import Foundation
import GearboxCore
import GearboxHardware

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

/// Binds through the hardware layer (hwloc), verified by the last-CPU-location query.
/// `pu` and `core` pick the last PU the process may use (away from CPU 0, which takes most
/// interrupts on small boards); `kind:N` is hwloc's CPU kind N (0 = most power-efficient).
public final class HwlocThreadBinder: ThreadBinder {
    public init() {}

    public func bindCurrentThread(_ request: PinningRequest) throws -> Placement {
        do {
            let topology = try Topology.load()
            let allowed = try ThreadPinning.currentThreadBinding(in: topology).intersection(topology.pus)
            guard let last = allowed.last else { throw ProfilerError.thread(reason: "no CPU is allowed for this thread") }
            let binding: ThreadBinding
            switch request {
            case .none:
                return Placement(cpus: allowed.cpus, note: "not pinned (the scheduler picks among \(allowed.listString))")
            case .pu:
                binding = try ThreadPinning.bindCurrentThread(toPU: last, in: topology)
            case .core:
                guard let core = topology.core(containing: last) else {
                    throw ProfilerError.thread(reason: "CPU \(last) belongs to no core in the topology")
                }
                binding = try ThreadPinning.bindCurrentThread(to: core.cpus, in: topology)
            case let .kind(index):
                guard topology.kinds.indices.contains(index) else {
                    throw ProfilerError.invalidSetting(
                        name: "--pin", value: "kind:\(index)",
                        expected: topology.kinds.isEmpty ? "pu, core or none (hwloc reports no CPU kinds here)"
                            : "kind:0...kind:\(topology.kinds.count - 1)")
                }
                binding = try ThreadPinning.bindCurrentThread(toCPUKind: index, in: topology)
            }
            return Placement(cpus: binding.cpus.cpus, note: "hwloc: \(binding)")
        } catch let error as ProfilerError {
            throw error
        } catch {
            throw ProfilerError.thread(reason: "pinning \(request): \(error)")
        }
    }
}

/// Leaves the thread where it is: for tests and simulated sweeps, where placement does not matter.
public final class UnpinnedThreadBinder: ThreadBinder {
    public init() {}
    public func bindCurrentThread(_ request: PinningRequest) throws -> Placement {
        Placement(cpus: [], note: "not pinned (\(request) requested; placement is irrelevant here)")
    }
}

/// Runs a body on a fresh OS thread and waits for it.
public enum MeasuringThread {
    /// Runs `body` on a new pthread (8 MiB stack) and returns its result or rethrows its error.
    public static func run<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = ResultBox<T>()
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

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
