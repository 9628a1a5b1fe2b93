// GearboxHardware/BoardTree: a `BoardSimulation` shown as a sysfs tree in a directory — the
// dump's static files (topology, caches) with the model's live files rendered over them: per
// policy the cpufreq files, `class/thermal/thermal_zone0`, `class/hwmon/hwmonN` and
// `class/powercap/intel-rapl:*` — and the files a writer changed read back into the simulation.
//
// Read-only files are replaced by rename, so a reader never sees half a value; writable files
// are rewritten in place (a writer holds them open) and only when their value changes.

import Foundation
import GearboxCore

/// A board's live sysfs tree under `root` (a folder holding `sys/`).
public final class BoardTree: @unchecked Sendable {
    /// The folder holding `sys/` (and the dump's `proc/`).
    public let root: String
    /// The files a writer may change, per policy index.
    public static let writableFiles = ["scaling_governor", "scaling_setspeed", "scaling_min_freq", "scaling_max_freq"]
    private var rendered: [String: String] = [:]

    /// Uses `root` (already holding the dump's static tree, e.g. from `SysfsRoot.extract`).
    public init(root: String) { self.root = root }

    /// Extracts `archive` into `directory` and renders `simulation`'s files over it.
    public static func create(archive: String, into directory: String, simulation: BoardSimulation) throws -> BoardTree {
        let dump = try SysfsRoot.extract(archive: archive, into: directory)
        guard let path = dump.directory else { throw BoardError.tree(path: directory, reason: "extracted no dump") }
        let tree = BoardTree(root: path)
        try tree.renderAll(simulation)
        return tree
    }

    public var cpuDirectory: String { root + "/sys/devices/system/cpu" }
    public var thermalDirectory: String { root + "/sys/class/thermal" }
    public var hwmonDirectory: String { root + "/sys/class/hwmon" }
    public var powercapDirectory: String { root + "/sys/class/powercap" }

    /// The cpufreq folder of policy CPU `cpu`.
    public func policyDirectory(cpu: Int) -> String { cpuDirectory + "/cpu\(cpu)/cpufreq" }

    // MARK: Rendering

    /// Writes every file, static ones included (call once after creating the tree).
    public func renderAll(_ simulation: BoardSimulation) throws {
        let model = simulation.model
        for policy in simulation.policies {
            let domain = model.domains[policy.domain]
            let directory = policyDirectory(cpu: policy.cpu)
            try makeDirectory(directory)
            let cpus = policy.cpus.map(String.init).joined(separator: " ")
            try put(directory + "/related_cpus", cpus)
            try put(directory + "/affected_cpus", cpus)
            try put(directory + "/scaling_driver", domain.driver)
            try put(directory + "/scaling_available_governors", domain.governors.joined(separator: " ") + " ")
            try put(directory + "/cpuinfo_min_freq", String(domain.minKHz))
            try put(directory + "/cpuinfo_max_freq", String(domain.maxKHz))
            try put(directory + "/cpuinfo_transition_latency", String(domain.transitionLatencyNs.wholeNanoseconds))
            if domain.semantics == .userspace {
                try put(directory + "/scaling_available_frequencies", domain.operatingPoints.map { String($0.kHz) }.joined(separator: " ") + " ")
            } else {
                try? FileManager.default.removeItem(atPath: directory + "/scaling_available_frequencies")
            }
        }
        let zone = thermalDirectory + "/thermal_zone0"
        try makeDirectory(zone)
        try put(zone + "/type", model.thermal.zoneType)
        for (index, trip) in model.thermal.trips.enumerated() {
            try put(zone + "/trip_point_\(index)_type", trip.type)
            try put(zone + "/trip_point_\(index)_temp", String(Int((trip.celsius * 1000).rounded())))
            try put(zone + "/trip_point_\(index)_hyst", String(Int((trip.hysteresisCelsius * 1000).rounded())))
        }
        for (index, sensor) in model.sensors.hwmon.enumerated() {
            let directory = hwmonDirectory + "/hwmon\(index)"
            try makeDirectory(directory)
            try put(directory + "/name", sensor.name)
            try put(directory + "/update_interval", String(max(1, sensor.updateIntervalMicroseconds / 1000)))
            for (c, channel) in sensor.channels.enumerated() { try put(directory + "/in\(c + 1)_label", channel.label) }
        }
        for zone in model.sensors.powercap {
            let directory = powercapDirectory + "/" + zone.id
            try makeDirectory(directory)
            try put(directory + "/name", zone.name)
            try put(directory + "/max_energy_range_uj", String(zone.maxEnergyRangeMicrojoules))
            try put(directory + "/enabled", "1")
        }
        try render(simulation)
    }

    /// Writes the files whose values changed since the last render.
    public func render(_ simulation: BoardSimulation) throws {
        for policy in simulation.policies {
            let directory = policyDirectory(cpu: policy.cpu)
            let current = String(policy.appliedKHz)
            try put(directory + "/scaling_cur_freq", current)
            try put(directory + "/cpuinfo_cur_freq", current)
            try put(directory + "/scaling_governor", policy.governor, inPlace: true)
            try put(directory + "/scaling_min_freq", String(simulation.effectiveMinKHz(policy)), inPlace: true)
            try put(directory + "/scaling_max_freq", String(simulation.effectiveMaxKHz(policy)), inPlace: true)
            let setspeed = policy.governor == "userspace" ? String(policy.setspeedKHz ?? policy.appliedKHz) : "<unsupported>"
            try put(directory + "/scaling_setspeed", setspeed, inPlace: true)
        }
        try put(thermalDirectory + "/thermal_zone0/temp", String(simulation.milliCelsius))
        for (index, sensor) in simulation.model.sensors.hwmon.enumerated() {
            let directory = hwmonDirectory + "/hwmon\(index)"
            for (c, channel) in sensor.channels.enumerated() {
                let watts = simulation.hwmonWatts[index][c]
                let milliamps = watts / (Double(channel.busMillivolts) / 1000) * 1000
                try put(directory + "/in\(c + 1)_input", String(channel.busMillivolts))
                try put(directory + "/curr\(c + 1)_input", String(Int(milliamps.rounded())))
                if sensor.hasPowerAttribute { try put(directory + "/power\(c + 1)_input", String(Int((watts * 1e6).rounded()))) }
            }
        }
        for (index, zone) in simulation.model.sensors.powercap.enumerated() {
            try put(powercapDirectory + "/" + zone.id + "/energy_uj", String(simulation.energyMicrojoules(zone: index)))
        }
    }

    // MARK: Reading writes back

    /// Reads the writable files; each whose value differs from what was rendered is applied to
    /// `simulation` as the driver would take it. An empty file is a writer between its
    /// truncation and its write, and is left for the next call.
    /// - Returns: the writes seen, as (policy index, file, value, outcome).
    @discardableResult
    public func collectWrites(into simulation: inout BoardSimulation) -> [(policy: Int, file: String, value: String, outcome: BoardSimulation.WriteOutcome)] {
        var seen: [(Int, String, String, BoardSimulation.WriteOutcome)] = []
        for (index, policy) in simulation.policies.enumerated() {
            let directory = policyDirectory(cpu: policy.cpu)
            for file in Self.writableFiles {
                let path = directory + "/" + file
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !value.isEmpty, value != rendered[path] else { continue }
                let outcome = simulation.write(policy: index, file: file, value: value)
                // The file keeps what was written; the next render rewrites it only if the
                // driver shows something else (a refused or rounded value): every rewrite is a
                // moment a reader could see it empty.
                rendered[path] = value
                seen.append((index, file, value, outcome))
            }
        }
        return seen
    }

    // MARK: Files

    private func makeDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw BoardError.tree(path: path, reason: "cannot create (\(error.localizedDescription))")
        }
    }

    private func put(_ path: String, _ value: String, inPlace: Bool = false) throws {
        guard rendered[path] != value else { return }
        let data = Data((value + "\n").utf8)
        do {
            if inPlace, let existing = FileManager.default.contents(atPath: path) {
                // A writer may be between its truncation and its write, or its write not yet
                // collected: never overwrite what is not ours; `collectWrites` reads it first.
                let onDisk = String(decoding: existing, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if let ours = rendered[path], onDisk != ours { return }
                // Overwrite, then cut the tail: truncating first would let a reader (libcpufreq
                // reading the policy before its write) see an empty file and fail with ENODEV.
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                defer { try? handle.close() }
                try handle.write(contentsOf: data)
                try handle.truncate(atOffset: UInt64(data.count))
            } else {
                // Temp file and rename, without AtomicFile's fsyncs: these files live for one
                // run and change every millisecond.
                try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            }
        } catch {
            throw BoardError.tree(path: path, reason: "cannot write (\(error.localizedDescription))")
        }
        rendered[path] = value
    }
}
