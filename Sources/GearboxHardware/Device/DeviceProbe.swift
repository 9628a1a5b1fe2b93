// GearboxHardware/DeviceProbe: assembles `Devices/<id>.json` — model, topology, CPU kinds, DVFS
// domains, counters, thermal zones and timer — from one sysfs root. `gearbox device probe` is a
// thin shell around `DeviceProbe.run`.

import Foundation
import GearboxCore

/// Describes a machine (live or from a sysfs dump) as a `DeviceDescription`.
public enum DeviceProbe {
    /// What to probe and how.
    public struct Options: Sendable {
        /// The device id; nil derives it from the model and topology (`DeviceID.derive`).
        public var id: String?
        /// Steps of derived DVFS grids (drivers without a frequency list, emulation).
        public var gridSteps: Int
        /// Counters to try on the live machine.
        public var counterNames: [String]
        /// How a dump is named in the file (e.g. the archive it was extracted from); nil: its path.
        public var rootLabel: String?

        public init(
            id: String? = nil, gridSteps: Int = 8, counterNames: [String] = PerformanceCounters.standardEventNames,
            rootLabel: String? = nil
        ) {
            self.id = id; self.gridSteps = gridSteps; self.counterNames = counterNames; self.rootLabel = rootLabel
        }
    }

    /// Probes `root`.
    ///
    /// Everything is read from `root`, except what a dump cannot hold: on a dump, counters are
    /// listed as unsupported ("not probed") and the timer is this host's, as the provenance
    /// notes say.
    /// - Throws: `HardwareError` (topology, a missing or garbled cpufreq file, a dump without
    ///   root privileges) as one line naming the file or setting.
    public static func run(root: SysfsRoot = .live, options: Options = Options()) throws -> DeviceDescription {
        let label = options.rootLabel ?? root.description
        let topology = try Topology.load(root: root)
        let summary = topology.summary()
        let cpuModel = CPUInfo.model(root: root)
        let dvfs = try DVFSInventory.discover(root: root, gridSteps: options.gridSteps)
        var notes: [String] = []
        let counters: [DeviceDescription.Counter]
        if root.isLive {
            counters = CounterProbe.probe(names: options.counterNames)
        } else {
            counters = options.counterNames.map {
                DeviceDescription.Counter(name: $0, status: "unsupported", reason: "not probed: described from a sysfs dump, counters can only be tried on the live machine")
            }
            notes.append("described from the sysfs dump \(label); counters not probed; timer measured on the probing host")
        }
        if let note = dvfs.note { notes.append("dvfs: " + note) }
        let pusWithoutKind = topology.pusWithoutKind
        if !pusWithoutKind.isEmpty {
            let cpus = pusWithoutKind.count == 1 ? "CPU \(pusWithoutKind.listString) is" : "CPUs \(pusWithoutKind.listString) are"
            notes.append("\(cpus) in no CPU kind hwloc reports")
        }
        let thermal = ThermalZones.read(root: root)
        if thermal.isEmpty { notes.append("thermal zones: absent (no sys/class/thermal/thermal_zone*)") }
        let powerSensors = PowerSensors.read(root: root)
        if powerSensors.isEmpty {
            notes.append("power sensors: absent (no sys/class/powercap/*/energy_uj, no hwmon power, energy or current-with-voltage inputs)")
        }
        // Inside `gearbox board run` the tree is a board model's: the real controller path runs,
        // but what it measures is a model's behaviour on this host, so it is labelled emulated.
        let board = BoardRunner.label(root: root)
        if let board {
            notes.append("board model \(board.name): its cpufreq, thermal and power files are a model's (gearbox board run), not hardware; figures are emulated")
        }
        let software = PlatformSoftware.read(root: root)
        notes.append(contentsOf: software.absenceNotes)
        let id = options.id ?? DeviceID.derive(cpuModel: cpuModel, topology: summary)
        let source: MeasurementSource = dvfs.controller == .emulated || board != nil ? .emulated : .real
        let governors = dvfs.domains.map(\.governor)
        let limits = dvfs.domains.map { [$0.minKHz, $0.maxKHz] }
        let temperatures = Dictionary(thermal.compactMap { zone in zone.milliCelsius.map { ((zone.zone ?? zone.type), $0) } },
                                      uniquingKeysWith: { first, _ in first })
        return DeviceDescription(
            id: id, hostname: hostname(for: root), cpuModel: cpuModel, topology: summary, cpuKinds: topology.cpuKinds(),
            dvfs: dvfs, counters: counters, thermalZones: thermal, timer: ClockCalibration.measure(),
            sysfsRoot: label,
            provenance: Provenance(deviceID: id, controller: source, governors: governors, limitsKHz: limits,
                                   milliCelsius: temperatures, notes: notes, board: board),
            powerSensors: powerSensors, board: board, software: software)
    }

    /// The default file for a description: `<directory>/<id>.json`.
    public static func defaultPath(for description: DeviceDescription, directory: String = "Devices") -> String {
        (directory.hasSuffix("/") ? String(directory.dropLast()) : directory) + "/\(description.id).json"
    }

    private static func hostname(for root: SysfsRoot) -> String {
        guard let directory = root.directory else { return ProcessInfo.processInfo.hostName }
        return "sysfs-dump:" + URL(fileURLWithPath: directory).lastPathComponent
    }
}
