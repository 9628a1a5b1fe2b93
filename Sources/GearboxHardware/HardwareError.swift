// GearboxHardware/HardwareError: the one error enum of the hardware layer. Every case renders
// as a single line that names the file, setting or call involved and what to do about it.

import GearboxCore

/// Errors raised by `GearboxHardware` (sysfs dumps, topology, pinning, counters, thermal, DVFS).
public enum HardwareError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A sysfs dump archive could not be found or extracted.
    case sysfsArchive(path: String, reason: String)
    /// A directory given as a sysfs root does not look like one.
    case sysfsRoot(path: String, reason: String)
    /// A sysfs/procfs file is missing, unreadable or holds something unexpected.
    case sysfsFile(path: String, reason: String)
    /// Writing a DVFS, cgroup or state file was refused by the kernel.
    case permissionDenied(path: String)
    /// A DVFS request that cannot be honoured (unknown domain, frequency outside the domain).
    case dvfsRequest(reason: String)
    /// libcpufreq or the kernel refused or failed a DVFS change.
    case dvfsControl(path: String, reason: String)
    /// The DVFS journal is unreadable, or an earlier run's journal is still waiting to be restored.
    case dvfsJournal(path: String, reason: String)
    /// A private mount namespace showing a sysfs dump to libcpufreq could not be set up.
    case mountNamespace(reason: String)
    /// The emulated controller's own cgroup could not be created, written or removed.
    case cgroup(path: String, reason: String)
    /// hwloc failed to build a topology.
    case topology(root: String, reason: String)
    /// A CPU list string ("0-3,8") did not parse.
    case cpuList(text: String, reason: String)
    /// This topology or OS cannot bind threads (e.g. a topology loaded from a sysfs dump).
    case bindingUnsupported(reason: String)
    /// Asked to bind to no CPUs at all.
    case emptyCPUSet(context: String)
    /// Asked to bind to CPUs (or a core / kind index) the topology does not have.
    case notInTopology(requested: String, available: String)
    /// The OS refused the binding, or the thread was not found inside the set afterwards.
    case bindingFailed(cpus: String, reason: String)
    /// libpfm4 / perf_event failed outside a single event (initialisation, encoding).
    case counters(reason: String)

    public var description: String {
        switch self {
        case let .sysfsArchive(path, reason):
            return "cannot use sysfs dump archive \(path): \(reason) (give a .tar.bz2 with one top folder holding sys/)"
        case let .sysfsRoot(path, reason):
            return "\(path) is not a usable sysfs root: \(reason) (point --sysfs-root at a directory holding sys/ and optionally proc/)"
        case let .sysfsFile(path, reason):
            return "\(path): \(reason) (check the file, or re-take the sysfs dump)"
        case let .permissionDenied(path):
            return "cannot write \(path): permission denied (run gearbox as root)"
        case let .dvfsRequest(reason):
            return "\(reason) (see `gearbox dvfs list` for the domains and their frequencies)"
        case let .dvfsControl(path, reason):
            return "\(path): \(reason)"
        case let .dvfsJournal(path, reason):
            return "DVFS journal \(path): \(reason)"
        case let .mountNamespace(reason):
            return "cannot show the sysfs dump to libcpufreq: \(reason) (--sysfs-root needs root for a private mount namespace; run as root)"
        case let .cgroup(path, reason):
            return "cgroup \(path): \(reason) (emulated DVFS needs a writable cgroup cpu controller; run as root)"
        case let .topology(root, reason):
            return "hwloc could not load the topology of \(root): \(reason) (check the sysfs root and the hwloc install)"
        case let .cpuList(text, reason):
            return "bad CPU list \"\(text)\": \(reason) (write it like 0-3,8)"
        case let .bindingUnsupported(reason):
            return "thread binding is not supported here: \(reason)"
        case let .emptyCPUSet(context):
            return "cannot bind to an empty CPU set (\(context)); name at least one CPU"
        case let .notInTopology(requested, available):
            return "\(requested) is not in this machine's topology (available: \(available))"
        case let .bindingFailed(cpus, reason):
            return "binding the thread to CPUs \(cpus) failed: \(reason)"
        case let .counters(reason):
            return "performance counters: \(reason)"
        }
    }
}

extension HardwareError: ClassifiedError {
    /// What the user can fix (a dump, a CPU list, a request, running as root) is an input error
    /// (2); what the machine refuses or fails while running (hwloc, counters, a DVFS change, the
    /// cgroup, a binding) is a failure (1).
    public var exitStatus: ExitStatus {
        switch self {
        case .sysfsArchive, .sysfsRoot, .sysfsFile, .permissionDenied, .dvfsRequest, .dvfsJournal, .mountNamespace,
             .cpuList, .bindingUnsupported, .emptyCPUSet, .notInTopology:
            return .inputError
        case .dvfsControl, .cgroup, .topology, .bindingFailed, .counters:
            return .failure
        }
    }
}
