// GearboxHardware/PerformanceCounters: libpfm4 — initialisation, the PMUs and events it knows,
// and encoding an event name into a perf_event attribute. Opening and reading counters lives
// in CounterGroup; this file never touches a file descriptor.

import CPfm
import Foundation

/// A performance monitoring unit libpfm knows about (e.g. `perf` for the kernel's generic
/// events, `perf_raw`, `amd64_fam19h_zen3`, `arm_cortex_a76`).
public struct PMU: Hashable, Sendable {
    /// libpfm's short name, the prefix of fully qualified event names (`perf::CYCLES`).
    public let name: String
    public let description: String
    /// True when libpfm detects the PMU on this machine (from CPUID or /proc/cpuinfo); the
    /// kernel may still refuse its events, as in a VM without a virtual PMU.
    public let isPresent: Bool
    /// True for the architecture's default PMU (whose events need no `pmu::` prefix).
    public let isDefault: Bool
    public let eventCount: Int
    public let genericCounters: Int
    public let fixedCounters: Int
    /// libpfm's `pfm_pmu_t` value; used to list the PMU's events.
    let id: UInt32
}

/// An event as libpfm lists it.
public struct PerformanceEvent: Hashable, Sendable {
    /// `pmu::NAME`, accepted by `PerformanceCounters.encode(_:)`.
    public let qualifiedName: String
    public let name: String
    public let pmu: String
    public let description: String
}

/// An event name encoded for `perf_event_open`.
public struct EncodedEvent: Sendable, CustomStringConvertible {
    /// The name as the caller gave it (`cycles`, `perf::TASK-CLOCK`, a raw PMU event string).
    public let requestedName: String
    /// libpfm's fully qualified name, with every attribute spelled out.
    public let qualifiedName: String
    /// perf_event `type` (0 hardware, 1 software, 4 raw, or a dynamic PMU's type).
    public let perfType: UInt32
    /// perf_event `config`.
    public let perfConfig: UInt64
    /// The complete attribute libpfm produced; CounterGroup opens it.
    let attribute: perf_event_attr

    public var description: String {
        "\(requestedName) → \(qualifiedName) (type \(perfType), config 0x\(String(perfConfig, radix: 16)))"
    }
}

/// Which privilege levels a counter counts in.
public enum CountingScope: Sendable, Hashable {
    /// User-space code only (libpfm `PFM_PLM3`): what the measured program itself does.
    /// Works at `perf_event_paranoid` 2 without root.
    case user
    /// User space and the kernel (`PFM_PLM3 | PFM_PLM0`): includes work the kernel does on
    /// the thread's behalf (page-fault handling, syscalls). Needs root or paranoid ≤ 1.
    case userAndKernel

    var privilegeLevelMask: Int32 {
        switch self {
        case .user: return PFM_PLM3
        case .userAndKernel: return PFM_PLM3 | PFM_PLM0
        }
    }
}

/// libpfm4's view of the machine's counters.
///
/// ```swift
/// try PerformanceCounters.initialize()
/// let encoded = try PerformanceCounters.encode("perf::TASK-CLOCK")
/// ```
public enum PerformanceCounters {
    /// The events every probe tries: generic hardware events (no PMU on most VMs) and the
    /// kernel's software events (always available where perf_event is).
    public static let standardEventNames = [
        "cycles", "instructions", "cache-references", "cache-misses", "branch-misses",
        "perf::TASK-CLOCK", "perf::PAGE-FAULTS", "perf::CONTEXT-SWITCHES", "perf::CPU-MIGRATIONS",
    ]

    /// Runs `pfm_initialize` once per process; later calls return the first call's outcome.
    ///
    /// - Throws: `HardwareError.counters` with libpfm's reason.
    public static func initialize() throws {
        try initialization.get()
    }

    private static let initialization: Result<Void, HardwareError> = {
        let status = pfm_initialize()
        guard status == PFM_SUCCESS else {
            return .failure(.counters(reason: "pfm_initialize failed: \(pfmReason(status)) (is libpfm4 installed?)"))
        }
        return .success(())
    }()

    /// libpfm keeps global tables; serialise the calls that walk or encode them.
    private static let libraryLock = NSLock()

    /// Every PMU this libpfm build supports; `isPresent` says which the machine has.
    public static func pmus(presentOnly: Bool = true) throws -> [PMU] {
        try initialize()
        libraryLock.lock()
        defer { libraryLock.unlock() }
        var result: [PMU] = []
        for raw in 0..<PFM_PMU_MAX.rawValue {
            var info = pfm_pmu_info_t()
            info.size = MemoryLayout<pfm_pmu_info_t>.size
            guard pfm_get_pmu_info(pfm_pmu_t(rawValue: raw), &info) == PFM_SUCCESS, let name = info.name else { continue }
            let present = info.is_present != 0
            if presentOnly && !present { continue }
            result.append(PMU(
                name: String(cString: name), description: info.desc.map { String(cString: $0) } ?? "",
                isPresent: present, isDefault: info.is_dfl != 0, eventCount: Int(info.nevents),
                genericCounters: Int(info.num_cntrs), fixedCounters: Int(info.num_fixed_cntrs), id: raw))
        }
        return result
    }

    /// The events of `pmu`, in libpfm's order.
    public static func events(of pmu: PMU) throws -> [PerformanceEvent] {
        try initialize()
        libraryLock.lock()
        defer { libraryLock.unlock() }
        var info = pfm_pmu_info_t()
        info.size = MemoryLayout<pfm_pmu_info_t>.size
        guard pfm_get_pmu_info(pfm_pmu_t(rawValue: pmu.id), &info) == PFM_SUCCESS else { return [] }
        var result: [PerformanceEvent] = []
        var index = info.first_event
        while index != -1 {
            var event = pfm_event_info_t()
            event.size = MemoryLayout<pfm_event_info_t>.size
            if pfm_get_event_info(index, PFM_OS_PERF_EVENT_EXT, &event) == PFM_SUCCESS, let name = event.name {
                let eventName = String(cString: name)
                result.append(PerformanceEvent(
                    qualifiedName: "\(pmu.name)::\(eventName)", name: eventName, pmu: pmu.name,
                    description: event.desc.map { String(cString: $0) } ?? ""))
            }
            index = pfm_get_event_next(index)
        }
        return result
    }

    /// Encodes an event name with `pfm_get_os_event_encoding(PFM_OS_PERF_EVENT_EXT)`.
    ///
    /// Accepts libpfm's names (`perf::TASK-CLOCK`, `amd64_fam19h_zen3::RETIRED_INSTRUCTIONS`,
    /// attributes as `:u`/`:k`...), raw codes (`r003c` or `perf_raw::r003c`), and the perf-tool
    /// spellings Gearbox uses for the generic hardware events (`cycles`, `instructions`,
    /// `cache-references`, `cache-misses`, `branch-misses`), which map to libpfm's `perf::` events.
    ///
    /// - Throws: `HardwareError.counters` naming the event and libpfm's reason.
    public static func encode(_ name: String, scope: CountingScope = .user) throws -> EncodedEvent {
        try initialize()
        let libpfmName = genericAliases[name] ?? name
        libraryLock.lock()
        defer { libraryLock.unlock() }
        var attribute = perf_event_attr()
        var qualified: UnsafeMutablePointer<CChar>?
        let status: pfm_err_t = withUnsafeMutablePointer(to: &attribute) { attributePointer in
            withUnsafeMutablePointer(to: &qualified) { qualifiedPointer in
                var argument = pfm_perf_encode_arg_t()
                argument.attr = attributePointer
                argument.fstr = qualifiedPointer
                argument.size = MemoryLayout<pfm_perf_encode_arg_t>.size
                return pfm_get_os_event_encoding(libpfmName, scope.privilegeLevelMask, PFM_OS_PERF_EVENT_EXT, &argument)
            }
        }
        defer { free(qualified) }
        guard status == PFM_SUCCESS else {
            throw HardwareError.counters(reason: "cannot encode event \"\(name)\": \(pfmReason(status))")
        }
        if attribute.size == 0 { attribute.size = UInt32(MemoryLayout<perf_event_attr>.size) }
        return EncodedEvent(
            requestedName: name, qualifiedName: qualified.map { String(cString: $0) } ?? libpfmName,
            perfType: attribute.type, perfConfig: attribute.config, attribute: attribute)
    }

    /// The perf tool's names for the generic hardware events, in libpfm's spelling.
    private static let genericAliases = [
        "cycles": "perf::CYCLES", "cpu-cycles": "perf::CYCLES", "instructions": "perf::INSTRUCTIONS",
        "cache-references": "perf::CACHE-REFERENCES", "cache-misses": "perf::CACHE-MISSES",
        "branch-misses": "perf::BRANCH-MISSES", "branches": "perf::BRANCHES",
        "task-clock": "perf::TASK-CLOCK", "page-faults": "perf::PAGE-FAULTS",
        "context-switches": "perf::CONTEXT-SWITCHES", "cpu-migrations": "perf::CPU-MIGRATIONS",
    ]

    static func pfmReason(_ status: pfm_err_t) -> String {
        pfm_strerror(status).map { String(cString: $0) } ?? "libpfm error \(status)"
    }
}
