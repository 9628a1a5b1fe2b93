// GearboxHardware/DeviceDescription: the `Devices/<id>.json` file format written by
// `gearbox device probe`. Keys are fixed by the foundation issue; more keys are welcome.

import GearboxCore

public struct DeviceDescription: VersionedFile, Equatable, Sendable {
    public static let currentSchemaVersion = 1

    public struct Cache: Codable, Equatable, Sendable {
        public var level: Int
        public var sizeBytes: Int
        public var lineBytes: Int
        public var cpus: [Int]
        /// "unified", "data" or "instruction", where known.
        public var type: String?
        public init(level: Int, sizeBytes: Int, lineBytes: Int, cpus: [Int], type: String? = nil) {
            self.level = level; self.sizeBytes = sizeBytes; self.lineBytes = lineBytes; self.cpus = cpus
            self.type = type
        }
    }

    public struct TopologySummary: Codable, Equatable, Sendable {
        public var packages: Int
        public var cores: Int
        public var pus: Int
        public var numaNodes: Int
        public var caches: [Cache]
        public init(packages: Int, cores: Int, pus: Int, numaNodes: Int, caches: [Cache]) {
            self.packages = packages; self.cores = cores; self.pus = pus; self.numaNodes = numaNodes; self.caches = caches
        }
    }

    public struct CPUKind: Codable, Equatable, Sendable {
        public var cpus: [Int]
        /// hwloc's efficiency rank: 0 is the least performant / most power-efficient kind.
        public var efficiency: Int
        public var infos: [String: String]
        public init(cpus: [Int], efficiency: Int, infos: [String: String]) {
            self.cpus = cpus; self.efficiency = efficiency; self.infos = infos
        }
    }

    public struct Domain: Codable, Equatable, Sendable {
        public var cpus: [Int]
        public var driver: String
        public var governor: String
        public var governors: [String]
        public var minKHz: Int
        public var maxKHz: Int
        /// Hardware limits (cpuinfo_min/max_freq), where known.
        public var hardwareMinKHz: Int?
        public var hardwareMaxKHz: Int?
        /// The driver's frequency list; empty when it gives none (intel_pstate, cppc_cpufreq).
        public var availableKHz: [Int]
        /// The frequencies a sweep visits: `availableKHz` when present, else a derived grid.
        public var gridKHz: [Int]
        public var gridDerived: Bool?
        public init(
            cpus: [Int], driver: String, governor: String, governors: [String], minKHz: Int, maxKHz: Int,
            hardwareMinKHz: Int? = nil, hardwareMaxKHz: Int? = nil, availableKHz: [Int], gridKHz: [Int],
            gridDerived: Bool? = nil
        ) {
            self.cpus = cpus; self.driver = driver; self.governor = governor; self.governors = governors
            self.minKHz = minKHz; self.maxKHz = maxKHz; self.hardwareMinKHz = hardwareMinKHz
            self.hardwareMaxKHz = hardwareMaxKHz; self.availableKHz = availableKHz; self.gridKHz = gridKHz
            self.gridDerived = gridDerived
        }
    }

    /// Which frequency controller a device offers; written as "real", "emulated" or "none".
    public enum ControllerKind: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
        /// cpufreq can be driven.
        case real
        /// cpufreq cannot, but the cgroup CPU-bandwidth throttle can stand in for it.
        case emulated
        /// Neither: only simulated profiles are possible.
        case unavailable = "none"

        public var description: String { rawValue }

        /// An unknown name is an invalid value naming the allowed ones, not a decoding stack.
        public init(from decoder: Decoder) throws { self = try Self.decodeCase(from: decoder) }
    }

    public struct DVFS: Codable, Equatable, Sendable {
        public var controller: ControllerKind
        public var domains: [Domain]
        /// Why the controller is what it is (e.g. "no cpufreq in sysfs; cgroup v1 cpu controller writable").
        public var note: String?
        public init(controller: ControllerKind, domains: [Domain], note: String? = nil) {
            self.controller = controller; self.domains = domains; self.note = note
        }
    }

    public struct Counter: Codable, Equatable, Sendable {
        public var name: String
        /// "supported" | "unsupported"
        public var status: String
        public var reason: String
        public init(name: String, status: String, reason: String) {
            self.name = name; self.status = status; self.reason = reason
        }
    }

    public struct ThermalZone: Codable, Equatable, Sendable {
        public var type: String
        public var milliCelsius: Int?
        public var tripPoints: [TripPoint]?
        /// The sysfs zone name (`thermal_zone0`).
        public var zone: String?
        /// Why `milliCelsius` is null (missing or garbled `temp` file), when it is.
        public var note: String?
        public init(
            type: String, milliCelsius: Int?, tripPoints: [TripPoint]? = nil, zone: String? = nil, note: String? = nil
        ) {
            self.type = type; self.milliCelsius = milliCelsius; self.tripPoints = tripPoints
            self.zone = zone; self.note = note
        }
    }

    public struct TripPoint: Codable, Equatable, Sendable {
        public var type: String
        public var milliCelsius: Int
        public init(type: String, milliCelsius: Int) { self.type = type; self.milliCelsius = milliCelsius }
    }

    public struct Timer: Codable, Equatable, Sendable {
        public var resolutionNs: Nanoseconds
        public var readCostNs: Nanoseconds
        /// The smallest nonzero step seen between back-to-back reads.
        public var smallestDeltaNs: Nanoseconds?
        /// Which clock was measured (e.g. "CLOCK_MONOTONIC_RAW").
        public var clock: String?
        public init(resolutionNs: Nanoseconds, readCostNs: Nanoseconds, smallestDeltaNs: Nanoseconds? = nil, clock: String? = nil) {
            self.resolutionNs = resolutionNs; self.readCostNs = readCostNs
            self.smallestDeltaNs = smallestDeltaNs; self.clock = clock
        }
    }

    public var schemaVersion: Int
    public var id: String
    public var hostname: String
    public var cpuModel: String
    public var topology: TopologySummary
    public var cpuKinds: [CPUKind]
    public var dvfs: DVFS
    public var counters: [Counter]
    public var thermalZones: [ThermalZone]
    public var timer: Timer
    /// Where the description was read from: "live" or the sysfs dump directory.
    public var sysfsRoot: String?
    public var provenance: Provenance?
    /// Power and energy sensors (powercap, hwmon); empty when the machine has none. Absent in
    /// files written before sensors were probed.
    public var powerSensors: [PowerSensor]?
    /// Set when the description is of a board model (`gearbox board run`), not hardware.
    public var board: BoardLabel?
    /// The running kernel (`uname`), absent for a sysfs dump.
    public var kernel: String?
    /// The firmware (DMI BIOS vendor, version, date), absent where the machine exposes none.
    public var firmware: String?

    public init(
        id: String, hostname: String, cpuModel: String, topology: TopologySummary, cpuKinds: [CPUKind],
        dvfs: DVFS, counters: [Counter], thermalZones: [ThermalZone], timer: Timer,
        sysfsRoot: String? = nil, provenance: Provenance? = nil, powerSensors: [PowerSensor]? = nil, board: BoardLabel? = nil,
        software: PlatformSoftware? = nil
    ) {
        self.schemaVersion = Self.currentSchemaVersion
        self.id = id; self.hostname = hostname; self.cpuModel = cpuModel; self.topology = topology
        self.cpuKinds = cpuKinds; self.dvfs = dvfs; self.counters = counters; self.thermalZones = thermalZones
        self.timer = timer; self.sysfsRoot = sysfsRoot; self.provenance = provenance
        self.powerSensors = powerSensors; self.board = board
        self.kernel = software?.kernel; self.firmware = software?.firmware
    }
}

extension DeviceDescription: ValidatedFile {
    /// A safe `id` (it names `Profiles/<id>/`), a known controller, and for real or emulated
    /// DVFS at least one domain whose CPUs lie within the topology and whose frequencies are
    /// positive, with min ≤ max and a non-empty grid.
    public func validate(_ file: FileValidator) throws {
        try file.at("id").checkSafeName(id)
        let topologyKey = file.at("topology")
        try topologyKey.at("pus").check(topology.pus, in: 1...FileLimits.maximumCPUs)
        try topologyKey.at("cores").check(topology.cores, in: 0...FileLimits.maximumCPUs)
        try topologyKey.at("packages").check(topology.packages, in: 0...FileLimits.maximumCPUs)
        try topologyKey.at("numaNodes").check(topology.numaNodes, in: 0...FileLimits.maximumCPUs)
        // CPU numbers may have holes (offline CPUs), so the bound is the highest one the topology
        // lists, not its count.
        let listed = topology.caches.flatMap(\.cpus) + cpuKinds.flatMap(\.cpus)
        let cpuLimit = min(FileLimits.maximumCPUs, max(topology.pus, (listed.max() ?? -1) + 1))
        for (index, cache) in topology.caches.enumerated() {
            let key = topologyKey.at("caches").at(index)
            try key.at("level").check(cache.level, in: 1...8)
            try key.at("sizeBytes").checkBytes(cache.sizeBytes)
            try key.at("lineBytes").checkBytes(cache.lineBytes)
            try Self.checkCPUs(cache.cpus, key.at("cpus"), limit: FileLimits.maximumCPUs, allowEmpty: true)
        }
        for (index, kind) in cpuKinds.enumerated() {
            let key = file.at("cpuKinds").at(index)
            try Self.checkCPUs(kind.cpus, key.at("cpus"), limit: FileLimits.maximumCPUs, allowEmpty: false)
            // hwloc says -1 when it does not know a kind's efficiency.
            try key.at("efficiency").check(kind.efficiency, in: -1...FileLimits.maximumCPUs)
        }
        let dvfsKey = file.at("dvfs")
        let kind = dvfs.controller
        if kind != .unavailable {
            try dvfsKey.at("domains").require(
                !dvfs.domains.isEmpty, value: "empty", allowed: "allowed: at least one domain when the controller is \(kind.rawValue)")
        }
        for (index, domain) in dvfs.domains.enumerated() {
            try domain.validate(dvfsKey.at("domains").at(index), cpuLimit: cpuLimit)
        }
        try file.at("timer").at("resolutionNs").check(timer.resolutionNs, in: 0...FileLimits.maximumLatencyNs)
        try file.at("timer").at("readCostNs").check(timer.readCostNs, in: 0...FileLimits.maximumLatencyNs)
    }

    static func checkCPUs(_ cpus: [Int], _ key: FileValidator, limit: Int, allowEmpty: Bool) throws {
        try key.require(allowEmpty || !cpus.isEmpty, value: "empty", allowed: "allowed: at least one CPU")
        var seen = Set<Int>()
        for (index, cpu) in cpus.enumerated() {
            try key.at(index).check(cpu, in: 0...(limit - 1), "allowed: a CPU number of this topology, 0...\(limit - 1)")
            try key.at(index).require(seen.insert(cpu).inserted, value: String(cpu), allowed: "each CPU once")
        }
    }
}

extension DeviceDescription.Domain {
    func validate(_ file: FileValidator, cpuLimit: Int) throws {
        try DeviceDescription.checkCPUs(cpus, file.at("cpus"), limit: cpuLimit, allowEmpty: false)
        try file.at("minKHz").checkKHz(minKHz)
        try file.at("maxKHz").checkKHz(maxKHz)
        try file.at("minKHz").require(minKHz <= maxKHz, value: String(minKHz), allowed: "must be ≤ maxKHz (\(maxKHz))")
        if let hardwareMinKHz { try file.at("hardwareMinKHz").checkKHz(hardwareMinKHz) }
        if let hardwareMaxKHz { try file.at("hardwareMaxKHz").checkKHz(hardwareMaxKHz) }
        if let hardwareMinKHz, let hardwareMaxKHz {
            try file.at("hardwareMinKHz").require(
                hardwareMinKHz <= hardwareMaxKHz, value: String(hardwareMinKHz), allowed: "must be ≤ hardwareMaxKHz (\(hardwareMaxKHz))")
        }
        for (index, kHz) in availableKHz.enumerated() { try file.at("availableKHz").at(index).checkKHz(kHz) }
        let grid = file.at("gridKHz")
        try grid.require(
            !gridKHz.isEmpty, value: "empty",
            allowed: "allowed: the frequencies a sweep visits (regenerate the file with 'gearbox device probe')")
        var seen = Set<Int>()
        for (index, kHz) in gridKHz.enumerated() {
            try grid.at(index).checkKHz(kHz)
            try grid.at(index).require(seen.insert(kHz).inserted, value: String(kHz), allowed: "each frequency once")
        }
    }
}
