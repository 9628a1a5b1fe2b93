// GearboxHardware/DVFSInventory: discovers the DVFS domains of a sysfs root through libcpufreq —
// CPUs grouped by `related_cpus`, driver, governors, limits, the driver's frequency list or a
// derived grid — and, where there is no cpufreq, says whether emulation is possible and why.

import Foundation

/// DVFS discovery: what `gearbox dvfs list` and `gearbox device probe` report.
public enum DVFSInventory {
    /// The fmax the emulated controller pretends to run at by default (labelled emulated everywhere).
    public static let defaultEmulatedMaxKHz = 2_000_000

    /// Discovers the DVFS domains of `root`.
    ///
    /// - Parameters:
    ///   - root: the live machine or a dump (a dump needs root: see `Cpufreq`).
    ///   - gridSteps: how many evenly spaced frequencies a derived grid has (drivers without a list).
    /// - Returns: controller "real" with one domain per `related_cpus` group; on a live machine
    ///   without cpufreq, controller "emulated" (one synthetic domain over every online CPU) when
    ///   the cgroup cpu controller is writable, else "none"; a dump without cpufreq policies gives
    ///   "none". `note` says why.
    /// - Throws: `HardwareError.sysfsFile` naming a missing or garbled cpufreq file.
    public static func discover(root: SysfsRoot, gridSteps: Int = 8) throws -> DeviceDescription.DVFS {
        let cpufreq = try Cpufreq(root: root)
        return try discover(cpufreq: cpufreq, gridSteps: gridSteps)
    }

    /// Discovery through an open `Cpufreq` (lets a controller reuse its namespace).
    public static func discover(cpufreq: Cpufreq, gridSteps: Int = 8) throws -> DeviceDescription.DVFS {
        let cpus = try cpufreq.cpus()
        var covered = Set<Int>()
        var domains: [DeviceDescription.Domain] = []
        var limitsOnly: [Int] = []
        for cpu in cpus where !covered.contains(cpu) {
            guard try cpufreq.hasPolicy(cpu: cpu) else {
                if try cpufreq.hasCpufreqFolder(cpu: cpu) { limitsOnly.append(cpu) }
                continue
            }
            let domain = try readDomain(cpu: cpu, cpufreq: cpufreq, gridSteps: gridSteps)
            covered.formUnion(domain.cpus)
            domains.append(domain)
        }
        if !domains.isEmpty {
            let derived = domains.filter { $0.gridDerived == true }.count
            var note = "cpufreq via libcpufreq" + (cpufreq.root.isLive ? "" : " on a sysfs dump")
            if derived > 0 {
                note += "; \(derived) of \(domains.count) domains give no frequency list, so their grid is \(gridSteps) evenly spaced steps (gridDerived)"
            }
            return DeviceDescription.DVFS(controller: .real, domains: domains.sorted { ($0.cpus.first ?? 0) < ($1.cpus.first ?? 0) }, note: note)
        }
        let why = limitsOnly.isEmpty
            ? "no cpufreq policies in \(cpufreq.root.path("sys/devices/system/cpu"))"
            : "cpufreq folders of CPUs \(CPUSet(limitsOnly).listString) hold no policy files (scaling_governor/scaling_driver), only limits"
        guard cpufreq.root.isLive else {
            return DeviceDescription.DVFS(controller: .unavailable, domains: [], note: why + "; a sysfs dump cannot be emulated")
        }
        switch CgroupCPUBandwidth.detect() {
        case let .success(bandwidth):
            let domain = emulatedDomain(cpus: cpus, maxKHz: defaultEmulatedMaxKHz, steps: gridSteps)
            let note = why + "; DVFS is emulated by cgroup \(bandwidth.version.rawValue) CPU bandwidth throttling ("
                + "\(bandwidth.quotaFileDescription) in a child of \(bandwidth.parentDirectory)) at a \(Frequency.kHz(defaultEmulatedMaxKHz))-equivalent fmax: "
                + "frequencies are emulated, not real"
            return DeviceDescription.DVFS(controller: .emulated, domains: [domain], note: note)
        case let .failure(unavailable):
            return DeviceDescription.DVFS(controller: .unavailable, domains: [], note: why + "; no emulation: " + unavailable.reason)
        }
    }

    /// The synthetic domain the emulated controller drives: every CPU, a fraction grid of `maxKHz`.
    public static func emulatedDomain(cpus: [Int], maxKHz: Int, steps: Int) -> DeviceDescription.Domain {
        let grid = FrequencyGrid.fractions(ofMaxKHz: maxKHz, steps: steps)
        return DeviceDescription.Domain(
            cpus: cpus, driver: "gearbox-cgroup-throttle", governor: "emulated", governors: [],
            minKHz: grid.first ?? maxKHz, maxKHz: maxKHz, availableKHz: [], gridKHz: grid, gridDerived: true)
    }

    private static func readDomain(cpu: Int, cpufreq: Cpufreq, gridSteps: Int) throws -> DeviceDescription.Domain {
        let related = try cpufreq.relatedCPUs(cpu: cpu) ?? cpufreq.affectedCPUs(cpu: cpu) ?? [cpu]
        let members = Array(Set(related + [cpu])).sorted()
        let driver = try cpufreq.driver(cpu: cpu)
        let policy = try cpufreq.policy(cpu: cpu)
        let governors = try cpufreq.availableGovernors(cpu: cpu)
        let limits = try cpufreq.hardwareLimits(cpu: cpu)
        let available = try cpufreq.availableFrequenciesKHz(cpu: cpu)
        let grid = available.isEmpty
            ? FrequencyGrid.evenlySpaced(minKHz: limits.minKHz, maxKHz: limits.maxKHz, steps: gridSteps)
            : available
        return DeviceDescription.Domain(
            cpus: members, driver: driver, governor: policy.governor, governors: governors,
            minKHz: policy.minKHz, maxKHz: policy.maxKHz, hardwareMinKHz: limits.minKHz, hardwareMaxKHz: limits.maxKHz,
            availableKHz: available, gridKHz: grid, gridDerived: available.isEmpty)
    }
}
