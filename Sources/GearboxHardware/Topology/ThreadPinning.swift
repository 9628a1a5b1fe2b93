// GearboxHardware/ThreadPinning: binds the calling OS thread to a CPU set, a PU, a core or a
// CPU kind through hwloc, and checks where the thread actually runs afterwards. Measurement
// threads are plain OS threads (not Swift tasks) precisely so this binding holds.

import CHwloc
import Foundation

/// Where a thread is bound and where it was last seen running.
public struct ThreadBinding: Hashable, Sendable, CustomStringConvertible {
    /// The CPUs the thread may run on (`hwloc_get_cpubind`).
    public let cpus: CPUSet
    /// The CPU the thread last ran on (`hwloc_get_last_cpu_location`), inside `cpus`.
    public let lastCPU: Int

    public var description: String { "bound to \(cpus.listString), last ran on CPU \(lastCPU)" }
}

/// Pins the calling thread. Every function binds with `HWLOC_CPUBIND_THREAD`, so only the
/// calling thread moves, never the whole process.
///
/// ```swift
/// let binding = try ThreadPinning.bindCurrentThread(toPU: 1)
/// print(binding)   // "bound to 1, last ran on CPU 1"
/// ```
public enum ThreadPinning {
    /// Binds the calling thread to `cpus` (OS indexes) and verifies that it now runs inside them.
    ///
    /// - Parameter topology: a live topology; nil uses one loaded once per process.
    /// - Throws: `HardwareError.emptyCPUSet`, `.notInTopology`, `.bindingUnsupported` (e.g. a
    ///   topology loaded from a sysfs dump), or `.bindingFailed` when the OS refuses or the
    ///   thread is still seen outside the set afterwards.
    @discardableResult
    public static func bindCurrentThread(to cpus: CPUSet, in topology: Topology? = nil) throws -> ThreadBinding {
        let topology = try topology ?? Topology.liveOnce.get()
        guard !cpus.isEmpty else { throw HardwareError.emptyCPUSet(context: "bindCurrentThread(to:)") }
        // Inside a board with more CPUs than the host, board CPUs land on host CPUs (hwloc shows
        // only the CPUs this process may use, so the board's others are not in `topology`).
        let cpus = BoardCPUMap.fromEnvironment()?.hostCPUs(for: cpus) ?? cpus
        guard cpus.isSubset(of: topology.pus) else {
            throw HardwareError.notInTopology(
                requested: "CPU set \(cpus.subtracting(topology.pus).listString)", available: topology.pus.listString)
        }
        try requireThreadBinding(topology)
        guard let bitmap = HwlocBitmap(cpus) else {
            throw HardwareError.bindingFailed(cpus: cpus.listString, reason: "hwloc could not allocate a bitmap")
        }
        errno = 0
        guard hwloc_set_cpubind(topology.handle, bitmap.raw, threadFlag) == 0 else {
            throw HardwareError.bindingFailed(cpus: cpus.listString, reason: String(cString: strerror(errno)))
        }
        // The kernel moves a thread off a now-forbidden CPU before sched_setaffinity returns;
        // a few yields cover schedulers that only do so at the next switch.
        var last = try lastCPULocation(in: topology)
        for _ in 0..<100 where !last.isSubset(of: cpus) {
            sched_yield()
            last = try lastCPULocation(in: topology)
        }
        guard let lastCPU = last.first, last.isSubset(of: cpus) else {
            throw HardwareError.bindingFailed(
                cpus: cpus.listString, reason: "the thread still ran on CPU \(last.listString) after binding")
        }
        return ThreadBinding(cpus: try currentThreadBinding(in: topology), lastCPU: lastCPU)
    }

    /// Binds the calling thread to one PU (hardware thread) by OS index.
    @discardableResult
    public static func bindCurrentThread(toPU cpu: Int, in topology: Topology? = nil) throws -> ThreadBinding {
        try bindCurrentThread(to: [cpu], in: topology)
    }

    /// Binds the calling thread to every PU of the core at `coreIndex` (hwloc's logical order).
    @discardableResult
    public static func bindCurrentThread(toCore coreIndex: Int, in topology: Topology? = nil) throws -> ThreadBinding {
        let topology = try topology ?? Topology.liveOnce.get()
        guard topology.cores.indices.contains(coreIndex) else {
            throw HardwareError.notInTopology(requested: "core \(coreIndex)", available: "cores 0..<\(topology.cores.count)")
        }
        return try bindCurrentThread(to: topology.cores[coreIndex].cpus, in: topology)
    }

    /// Binds the calling thread to every PU of the CPU kind at `kindIndex` (0 = most efficient).
    @discardableResult
    public static func bindCurrentThread(toCPUKind kindIndex: Int, in topology: Topology? = nil) throws -> ThreadBinding {
        let topology = try topology ?? Topology.liveOnce.get()
        guard topology.kinds.indices.contains(kindIndex) else {
            throw HardwareError.notInTopology(
                requested: "CPU kind \(kindIndex)", available: "kinds 0..<\(topology.kinds.count)")
        }
        return try bindCurrentThread(to: topology.kinds[kindIndex].cpus, in: topology)
    }

    /// Lets the calling thread run on every PU of the topology again.
    @discardableResult
    public static func unbindCurrentThread(in topology: Topology? = nil) throws -> ThreadBinding {
        let topology = try topology ?? Topology.liveOnce.get()
        return try bindCurrentThread(to: topology.pus, in: topology)
    }

    /// The CPUs the calling thread is currently allowed to run on.
    public static func currentThreadBinding(in topology: Topology? = nil) throws -> CPUSet {
        let topology = try topology ?? Topology.liveOnce.get()
        try requireThreadBinding(topology)
        guard let bitmap = HwlocBitmap() else {
            throw HardwareError.bindingFailed(cpus: "?", reason: "hwloc could not allocate a bitmap")
        }
        errno = 0
        guard hwloc_get_cpubind(topology.handle, bitmap.raw, threadFlag) == 0 else {
            throw HardwareError.bindingFailed(cpus: "?", reason: "hwloc_get_cpubind: \(String(cString: strerror(errno)))")
        }
        return bitmap.cpuSet
    }

    /// The CPU(s) the calling thread last ran on, as hwloc reports them (one CPU on Linux).
    public static func lastCPULocation(in topology: Topology? = nil) throws -> CPUSet {
        let topology = try topology ?? Topology.liveOnce.get()
        guard let support = hwloc_topology_get_support(topology.handle)?.pointee.cpubind?.pointee,
            support.get_thisthread_last_cpu_location != 0
        else {
            throw HardwareError.bindingUnsupported(reason: unsupportedReason(topology, what: "last-CPU-location query"))
        }
        guard let bitmap = HwlocBitmap() else {
            throw HardwareError.bindingFailed(cpus: "?", reason: "hwloc could not allocate a bitmap")
        }
        errno = 0
        guard hwloc_get_last_cpu_location(topology.handle, bitmap.raw, threadFlag) == 0 else {
            throw HardwareError.bindingFailed(
                cpus: "?", reason: "hwloc_get_last_cpu_location: \(String(cString: strerror(errno)))")
        }
        return bitmap.cpuSet
    }

    private static let threadFlag = Int32(HWLOC_CPUBIND_THREAD.rawValue)

    private static func requireThreadBinding(_ topology: Topology) throws {
        guard let support = hwloc_topology_get_support(topology.handle)?.pointee.cpubind?.pointee,
            support.set_thisthread_cpubind != 0, support.get_thisthread_cpubind != 0
        else {
            throw HardwareError.bindingUnsupported(reason: unsupportedReason(topology, what: "thread binding"))
        }
    }

    private static func unsupportedReason(_ topology: Topology, what: String) -> String {
        if let directory = topology.root.directory {
            return "the topology was loaded from the sysfs dump \(directory); bind with the live topology"
        }
        return "hwloc reports no \(what) on this OS"
    }
}
