// GearboxHardware/BoardCPUMap: how a board with more CPUs than the host runs on the host. Inside
// `gearbox board run` the topology is the board's (its sysfs tree), so a command may ask for
// board CPU 12 on a 2-CPU host; the kernel would refuse. `board run` gives such a command the
// host CPUs it may use (`GEARBOX_BOARD_HOST_CPUS`), and thread binding maps board CPU n onto
// host CPU hostCPUs[n mod count]: placement requests keep their shape (two board CPUs land on
// two host CPUs where the host has two), not their identity.

import Foundation

/// The board-CPU → host-CPU map of a `gearbox board run` command.
public struct BoardCPUMap: Equatable, Sendable {
    /// The environment variable `board run` sets for its command: the host CPU list ("0-1").
    public static let environmentKey = "GEARBOX_BOARD_HOST_CPUS"

    /// The host CPUs the board's CPUs are mapped onto, ascending.
    public let hostCPUs: CPUSet

    public init?(hostCPUs: CPUSet) {
        guard !hostCPUs.isEmpty else { return nil }
        self.hostCPUs = hostCPUs
    }

    /// The map `board run` handed this process; nil outside a board, or on a board whose CPUs
    /// all exist on the host (then nothing is mapped).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> BoardCPUMap? {
        guard let text = environment[environmentKey], let cpus = try? CPUSet(parsing: text) else { return nil }
        return BoardCPUMap(hostCPUs: cpus)
    }

    /// Whether `model`'s CPUs need mapping onto `host` (some board CPU is not a host CPU).
    public static func isNeeded(for model: BoardModel, host: CPUSet) -> Bool {
        model.domains.flatMap(\.cpus).contains { !host.contains(cpu: $0) }
    }

    /// The host CPUs that board CPUs `cpus` run on.
    public func hostCPUs(for cpus: CPUSet) -> CPUSet {
        CPUSet(cpus.map { hostCPUs.cpus[$0 % hostCPUs.count] })
    }
}
