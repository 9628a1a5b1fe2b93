// GearboxEngine/HardwarePinning: the engine's worker-pinning hook filled with GearboxHardware's
// ThreadPinning (hwloc): worker K on the K-th listed PU, on core K, or anywhere within a CPU kind.

import GearboxHardware

/// Where the engine's workers run.
public enum WorkerPlacement: Sendable, Hashable, CustomStringConvertible {
    /// Worker K on PU cpus[K mod count] (OS CPU numbers).
    case processingUnits([Int])
    /// Worker K on every PU of core K (hwloc logical order).
    case cores
    /// Every worker free to move among the PUs of CPU kind `index` (0 = most efficient).
    case cpuKind(Int)

    /// Parses `0,1,3`, `cores` or `kind:N`; nil when malformed.
    public init?(parsing text: String) {
        if text == "cores" { self = .cores; return }
        if text.hasPrefix("kind:"), let index = Int(text.dropFirst(5)), index >= 0 { self = .cpuKind(index); return }
        let cpus = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !cpus.isEmpty, cpus.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
        self = .processingUnits(cpus.compactMap { $0 })
    }

    public var description: String {
        switch self {
        case let .processingUnits(cpus): return cpus.map(String.init).joined(separator: ",")
        case .cores: return "cores"
        case let .cpuKind(index): return "kind:\(index)"
        }
    }
}

/// Pins engine workers through `GearboxHardware.ThreadPinning`.
public struct HardwareWorkerPinning: WorkerPinning {
    public let placement: WorkerPlacement

    public init(_ placement: WorkerPlacement) { self.placement = placement }

    public func pin(worker index: Int, of count: Int) throws {
        switch placement {
        case let .processingUnits(cpus): try ThreadPinning.bindCurrentThread(toPU: cpus[index % cpus.count])
        case .cores: try ThreadPinning.bindCurrentThread(toCore: index)
        case let .cpuKind(kind): try ThreadPinning.bindCurrentThread(toCPUKind: kind)
        }
    }
}
