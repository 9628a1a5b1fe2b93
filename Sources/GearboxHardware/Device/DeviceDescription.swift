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
        public var resolutionNs: Int
        public var readCostNs: Double
        /// The smallest nonzero step seen between back-to-back reads.
        public var smallestDeltaNs: Int?
        /// Which clock was measured (e.g. "CLOCK_MONOTONIC_RAW").
        public var clock: String?
        public init(resolutionNs: Int, readCostNs: Double, smallestDeltaNs: Int? = nil, clock: String? = nil) {
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

    public init(
        id: String, hostname: String, cpuModel: String, topology: TopologySummary, cpuKinds: [CPUKind],
        dvfs: DVFS, counters: [Counter], thermalZones: [ThermalZone], timer: Timer,
        sysfsRoot: String? = nil, provenance: Provenance? = nil
    ) {
        self.schemaVersion = Self.currentSchemaVersion
        self.id = id; self.hostname = hostname; self.cpuModel = cpuModel; self.topology = topology
        self.cpuKinds = cpuKinds; self.dvfs = dvfs; self.counters = counters; self.thermalZones = thermalZones
        self.timer = timer; self.sysfsRoot = sysfsRoot; self.provenance = provenance
    }
}
