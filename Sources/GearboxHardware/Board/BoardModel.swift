// GearboxHardware/BoardModel: the `Devices/boards/<name>.board.json` file format. A board model
// says how a board behaves behind its sysfs tree — DVFS domains with their driver's semantics,
// a first-order RC thermal model with trip points, a C·V²·f power model and the power sensors
// it exposes — so `BoardSimulation` can play the board as a deterministic twin. Every number in
// it is a model; `sources` says where each figure comes from (datasheet, public measurement or
// assumption).

import Foundation
import GearboxCore

/// A board model as `Devices/boards/<name>.board.json` holds it.
public struct BoardModel: VersionedFile, ValidatedFile, Equatable, Sendable {
    public static let currentSchemaVersion = 1

    /// How a domain's driver takes a frequency request.
    public enum DriverSemantics: String, Codable, Equatable, Sendable, CaseIterable {
        /// acpi-cpufreq-like: a frequency list and a `userspace` governor whose
        /// `scaling_setspeed` picks the frequency.
        case userspace
        /// cppc/intel_pstate-like: no list, no `userspace` governor; a frequency is pinned by
        /// writing `scaling_min_freq` = `scaling_max_freq`.
        case pinned
    }

    /// One operating point: a frequency and the voltage the model assumes for it.
    public struct OperatingPoint: Codable, Equatable, Sendable {
        public var kHz: Int
        public var microvolts: Int
        public init(kHz: Int, microvolts: Int) { self.kHz = kHz; self.microvolts = microvolts }
    }

    /// One DVFS domain (a cpufreq policy, or for per-CPU-policy drivers a group of identical ones).
    public struct Domain: Codable, Equatable, Sendable {
        /// A short name for output ("cpu", "p-cores").
        public var name: String
        /// The board's CPU numbers in this domain.
        public var cpus: [Int]
        /// Whether one cpufreq policy covers all `cpus` (true) or each CPU has its own (intel_pstate).
        public var sharedPolicy: Bool
        /// What `scaling_driver` says.
        public var driver: String
        public var semantics: DriverSemantics
        /// `scaling_available_governors`, in the order the kernel lists them.
        public var governors: [String]
        /// The governor the board boots with.
        public var initialGovernor: String
        /// Operating points, ascending. For `userspace` these are the frequency list; for
        /// `pinned` they are the V/f curve the model interpolates, and any kHz between the
        /// first and last (rounded to `resolutionKHz`) can be pinned.
        public var operatingPoints: [OperatingPoint]
        /// For `pinned`: the granularity of requests (intel_pstate: 100 MHz P-states).
        public var resolutionKHz: Int?
        /// `cpuinfo_transition_latency`: how long after a request the new frequency applies.
        public var transitionLatencyNs: Nanoseconds
        /// Effective switched capacitance of the whole domain, in nanofarads (P = C·V²·f·u).
        public var capacitanceNanofarads: Double
        /// Utilisation the power model uses unless the simulation is told otherwise, 0...1.
        public var utilisation: Double

        public var minKHz: Int { operatingPoints.first?.kHz ?? 0 }
        public var maxKHz: Int { operatingPoints.last?.kHz ?? 0 }
    }

    /// A thermal trip: at `celsius` it caps domains' maximum frequencies, released below
    /// `celsius - hysteresisCelsius`.
    public struct Trip: Codable, Equatable, Sendable {
        /// `trip_point_N_type`: "passive", "active", "hot" or "critical".
        public var type: String
        public var celsius: Double
        public var hysteresisCelsius: Double
        /// The cooling state this trip sets: per domain index, the highest frequency allowed.
        public var caps: [Cap]
    }

    public struct Cap: Codable, Equatable, Sendable {
        public var domain: Int
        public var maxKHz: Int
    }

    /// A first-order RC model of the die: one temperature, heated by the board's power,
    /// leaking to ambient through `thermalResistanceKPerW`, with `heatCapacityJPerK`.
    public struct Thermal: Codable, Equatable, Sendable {
        /// `thermal_zone0/type`.
        public var zoneType: String
        public var ambientCelsius: Double
        public var thermalResistanceKPerW: Double
        public var heatCapacityJPerK: Double
        public var trips: [Trip]
    }

    /// Which part of the board's power a sensor sees.
    public struct PowerScope: Codable, Equatable, Sendable {
        /// Domain indices whose dynamic power is included.
        public var domains: [Int]
        /// Whether the static power is included.
        public var includesStatic: Bool
        public init(domains: [Int], includesStatic: Bool) { self.domains = domains; self.includesStatic = includesStatic }
    }

    /// An hwmon chip (INA3221-like): per channel bus voltage `in*_input` (mV), current
    /// `curr*_input` (mA) and, where the chip has it, power `power*_input` (µW).
    public struct HwmonSensor: Codable, Equatable, Sendable {
        /// `hwmonN/name`.
        public var name: String
        /// How often the chip's readings change (conversion time × averaging), in µs.
        public var updateIntervalMicroseconds: Int
        public var hasPowerAttribute: Bool
        public var channels: [HwmonChannel]
    }

    public struct HwmonChannel: Codable, Equatable, Sendable {
        /// `in*_label`.
        public var label: String
        /// The rail's bus voltage (the sensor measures the supply, not the core voltage).
        public var busMillivolts: Int
        public var scope: PowerScope
    }

    /// A powercap RAPL zone: `intel-rapl:N[:M]/energy_uj`, wrapping at `max_energy_range_uj`.
    public struct PowercapZone: Codable, Equatable, Sendable {
        /// The directory name, e.g. `intel-rapl:0` or `intel-rapl:0:0`.
        public var id: String
        /// `name`: "package-0", "core", …
        public var name: String
        public var maxEnergyRangeMicrojoules: Int
        public var scope: PowerScope
    }

    public struct Sensors: Codable, Equatable, Sendable {
        public var hwmon: [HwmonSensor]
        public var powercap: [PowercapZone]
    }

    public struct Power: Codable, Equatable, Sendable {
        /// Power drawn whatever the frequency (leakage, uncore, rails), in W.
        public var staticWatts: Double
    }

    /// The board model's name; also its file name (`<name>.board.json`).
    public var name: String
    /// One line: what board this models.
    public var summary: String
    /// The sysfs dump the static tree (topology, caches, cpufreq file set) comes from, by
    /// archive name in the shared fixtures (`2arm-2c.tar.bz2`).
    public var sysfsDump: String
    /// `/proc/cpuinfo`'s model name, for output.
    public var cpuModel: String
    public var domains: [Domain]
    public var thermal: Thermal
    public var power: Power
    public var sensors: Sensors
    /// Where each figure comes from, by key path (`domains[0].operatingPoints`): "datasheet: …",
    /// "measured: …" (a public measurement or the dump) or "assumption: …".
    public var sources: [String: String]

    /// Every key path whose figures need a `sources` entry.
    public static let sourcedKeys = [
        "domains.operatingPoints.kHz", "domains.operatingPoints.microvolts", "domains.transitionLatencyNs",
        "domains.capacitanceNanofarads", "domains.utilisation", "thermal.ambientCelsius",
        "thermal.thermalResistanceKPerW", "thermal.heatCapacityJPerK", "thermal.trips", "power.staticWatts",
        "sensors",
    ]

    public func validate(_ file: FileValidator) throws {
        try file.at("name").checkSafeName(name)
        try file.at("summary").checkNonEmpty(summary)
        try file.at("sysfsDump").checkNonEmpty(sysfsDump)
        try file.at("domains").require(!domains.isEmpty, value: "[]", allowed: "allowed: at least one domain")
        var seenCPUs = Set<Int>()
        for (index, domain) in domains.enumerated() {
            let at = file.at("domains").at(index)
            try at.at("name").checkNonEmpty(domain.name)
            try at.at("driver").checkNonEmpty(domain.driver)
            try at.at("cpus").require(!domain.cpus.isEmpty, value: "[]", allowed: "allowed: at least one CPU")
            for (c, cpu) in domain.cpus.enumerated() {
                try at.at("cpus").at(c).check(cpu, in: 0...(FileLimits.maximumCPUs - 1))
                try at.at("cpus").at(c).require(seenCPUs.insert(cpu).inserted, value: String(cpu), allowed: "each CPU in one domain only")
            }
            try at.at("operatingPoints").require(!domain.operatingPoints.isEmpty, value: "[]", allowed: "allowed: at least one operating point")
            var previous = 0
            for (p, point) in domain.operatingPoints.enumerated() {
                try at.at("operatingPoints").at(p).at("kHz").checkKHz(point.kHz)
                try at.at("operatingPoints").at(p).at("kHz").require(point.kHz > previous, value: String(point.kHz), allowed: "operating points must ascend")
                try at.at("operatingPoints").at(p).at("microvolts").check(point.microvolts, in: 1...5_000_000)
                previous = point.kHz
            }
            try at.at("governors").require(!domain.governors.isEmpty, value: "[]", allowed: "allowed: at least one governor")
            try at.at("initialGovernor").require(domain.governors.contains(domain.initialGovernor), value: domain.initialGovernor,
                                                 allowed: "allowed: one of governors (\(domain.governors.joined(separator: ", ")))")
            switch domain.semantics {
            case .userspace:
                try at.at("governors").require(domain.governors.contains("userspace"), value: domain.governors.joined(separator: " "),
                                               allowed: "a userspace driver offers the userspace governor")
            case .pinned:
                try at.at("governors").require(!domain.governors.contains("userspace"), value: domain.governors.joined(separator: " "),
                                               allowed: "a pinned (cppc/intel_pstate-like) driver offers no userspace governor")
            }
            if let resolution = domain.resolutionKHz { try at.at("resolutionKHz").checkKHz(resolution) }
            try at.at("transitionLatencyNs").check(domain.transitionLatencyNs, in: 0...1e9)
            try at.at("capacitanceNanofarads").check(domain.capacitanceNanofarads, in: 0...1_000_000)
            try at.at("utilisation").check(domain.utilisation, in: 0...1)
        }
        let t = file.at("thermal")
        try t.at("zoneType").checkNonEmpty(thermal.zoneType)
        try t.at("ambientCelsius").check(thermal.ambientCelsius, in: -60...150)
        try t.at("thermalResistanceKPerW").checkPositive(thermal.thermalResistanceKPerW, atMost: 1000)
        try t.at("heatCapacityJPerK").checkPositive(thermal.heatCapacityJPerK, atMost: 1_000_000)
        for (index, trip) in thermal.trips.enumerated() {
            let at = t.at("trips").at(index)
            try at.at("type").require(["passive", "active", "hot", "critical"].contains(trip.type), value: trip.type,
                                      allowed: "allowed: passive, active, hot, critical")
            try at.at("celsius").check(trip.celsius, in: -60...200)
            try at.at("hysteresisCelsius").check(trip.hysteresisCelsius, in: 0...100)
            for (c, cap) in trip.caps.enumerated() {
                try at.at("caps").at(c).at("domain").check(cap.domain, in: 0...(domains.count - 1))
                try at.at("caps").at(c).at("maxKHz").checkKHz(cap.maxKHz)
            }
        }
        try file.at("power").at("staticWatts").check(power.staticWatts, in: 0...10_000)
        func checkScope(_ scope: PowerScope, _ at: FileValidator) throws {
            for (d, domain) in scope.domains.enumerated() { try at.at("domains").at(d).check(domain, in: 0...(domains.count - 1)) }
        }
        for (index, sensor) in sensors.hwmon.enumerated() {
            let at = file.at("sensors").at("hwmon").at(index)
            try at.at("name").checkNonEmpty(sensor.name)
            try at.at("updateIntervalMicroseconds").check(sensor.updateIntervalMicroseconds, in: 1...60_000_000)
            for (c, channel) in sensor.channels.enumerated() {
                try at.at("channels").at(c).at("label").checkNonEmpty(channel.label)
                try at.at("channels").at(c).at("busMillivolts").check(channel.busMillivolts, in: 1...100_000)
                try checkScope(channel.scope, at.at("channels").at(c).at("scope"))
            }
        }
        try file.at("sensors").at("powercap").checkUniqueNames(sensors.powercap.map(\.id), key: "id")
        for (index, zone) in sensors.powercap.enumerated() {
            let at = file.at("sensors").at("powercap").at(index)
            try at.at("id").checkSafeName(zone.id.replacingOccurrences(of: ":", with: "-"))
            try at.at("name").checkNonEmpty(zone.name)
            try at.at("maxEnergyRangeMicrojoules").check(zone.maxEnergyRangeMicrojoules, in: 1...Int(Int64.max / 2))
            try checkScope(zone.scope, at)
        }
        for key in Self.sourcedKeys {
            try file.at("sources").at(entry: key).require(
                !(sources[key]?.trimmingCharacters(in: .whitespaces).isEmpty ?? true), value: "missing",
                allowed: "every figure says where it comes from: \"datasheet: …\", \"measured: …\" or \"assumption: …\"")
        }
        for (key, text) in sources.sorted(by: { $0.key < $1.key }) {
            let kind = text.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            try file.at("sources").at(entry: key).require(["datasheet", "measured", "assumption"].contains(kind), value: text,
                                                         allowed: "allowed: text starting \"datasheet:\", \"measured:\" or \"assumption:\"")
        }
    }

    /// The domain's voltage at `kHz` in volts: the operating point's, or for a frequency between
    /// points the linear interpolation (clamped to the first and last).
    public func volts(domain index: Int, kHz: Int) -> Double {
        let points = domains[index].operatingPoints
        guard let first = points.first, let last = points.last else { return 0 }
        if kHz <= first.kHz { return Double(first.microvolts) / 1e6 }
        if kHz >= last.kHz { return Double(last.microvolts) / 1e6 }
        for (low, high) in zip(points, points.dropFirst()) where kHz <= high.kHz {
            let fraction = Double(kHz - low.kHz) / Double(high.kHz - low.kHz)
            return (Double(low.microvolts) + fraction * Double(high.microvolts - low.microvolts)) / 1e6
        }
        return Double(last.microvolts) / 1e6
    }

    /// The dynamic power of domain `index` at `kHz` and `utilisation`: C·V(f)²·f·u, in W.
    public func dynamicWatts(domain index: Int, kHz: Int, utilisation: Double) -> Double {
        let volts = volts(domain: index, kHz: kHz)
        return domains[index].capacitanceNanofarads * 1e-9 * volts * volts * Double(kHz) * 1e3 * utilisation
    }
}

/// Errors of the board layer, each one line naming what to fix.
public enum BoardError: Error, Equatable, Sendable, CustomStringConvertible, ClassifiedError {
    /// No `<name>.board.json` in the boards folder.
    case unknownBoard(name: String, directory: String, known: [String])
    /// `board run` needs root (a private mount namespace).
    case needsRoot
    /// Rendering or reading the live tree failed.
    case tree(path: String, reason: String)
    /// Setting up the namespace or starting the command failed.
    case run(reason: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .unknownBoard, .needsRoot: return .inputError
        case .tree, .run: return .failure
        }
    }

    public var description: String {
        switch self {
        case let .unknownBoard(name, directory, known):
            return "no board model \"\(name)\" in \(directory) (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
        case .needsRoot:
            return "gearbox board run needs root (it mounts the board's sysfs tree in a private mount namespace); rerun with sudo"
        case let .tree(path, reason):
            return "board tree \(path): \(reason)"
        case let .run(reason):
            return "board run: \(reason)"
        }
    }
}

/// The board models in a folder (`Devices/boards` by default).
public struct BoardCatalog: Sendable {
    public static let suffix = ".board.json"
    public let directory: String

    public init(directory: String = "Devices/boards") { self.directory = directory }

    /// Names of the models in the folder, sorted.
    public func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(Self.suffix) }
            .map { String($0.dropLast(Self.suffix.count)) }
            .sorted()
    }

    public func path(of name: String) -> String { directory + "/" + name + Self.suffix }

    /// Reads and validates model `name`.
    /// - Throws: `BoardError.unknownBoard` or the file's `FileFormatError`.
    public func load(_ name: String) throws -> BoardModel {
        guard SafeName.problem(name) == nil, FileManager.default.fileExists(atPath: path(of: name)) else {
            throw BoardError.unknownBoard(name: name, directory: directory, known: names())
        }
        let model = try JSONFile.read(BoardModel.self, from: path(of: name))
        guard model.name == name else {
            throw FileFormatError.invalidValue(path: path(of: name), keyPath: "name", value: model.name,
                                               allowed: "allowed: \"\(name)\" (the file's name)")
        }
        return model
    }
}

extension BoardCatalog {
    /// The sysfs dump archive `model.sysfsDump`: in `fixtures` when given, else in
    /// `GEARBOX_SYSFS_FIXTURES`, else in the first `shared/fixtures/sysfs` found beside this
    /// catalog's folder or one of its ancestors (the checkout's sibling `../shared`).
    /// - Throws: `BoardError.run` naming where it looked.
    public func dumpArchive(for model: BoardModel, fixtures: String? = nil) throws -> String {
        var candidates: [String] = []
        if let fixtures { candidates.append(fixtures) } else {
            if let override = ProcessInfo.processInfo.environment["GEARBOX_SYSFS_FIXTURES"], !override.isEmpty {
                candidates.append(override)
            }
            var parent = URL(fileURLWithPath: directory).standardizedFileURL
            while parent.path != "/" {
                parent = parent.deletingLastPathComponent()
                candidates.append(parent.appendingPathComponent("shared/fixtures/sysfs").path)
            }
        }
        for folder in candidates where FileManager.default.fileExists(atPath: folder + "/" + model.sysfsDump) {
            return folder + "/" + model.sysfsDump
        }
        throw BoardError.run(reason: "the board's sysfs dump \(model.sysfsDump) is in none of \(candidates.prefix(3).joined(separator: ", ")) (pass --sysfs-fixtures DIR or set GEARBOX_SYSFS_FIXTURES)")
    }
}
