// GearboxHardware/PowerSensors: the power and energy sensors under a sysfs root — powercap
// zones (`class/powercap/*/energy_uj`, RAPL) and hwmon chips (`power*_input` in µW,
// `energy*_input` in µJ, and INA-style rails: `curr*_input` in mA beside `in*_input` in mV).
// A machine without them yields an empty list, which `device probe` reports as absent.

import Foundation
import GearboxCore

/// Reads the power sensors a sysfs root exposes.
public enum PowerSensors {
    /// Every sensor found, powercap zones first, each group by directory name.
    public static func read(root: SysfsRoot = .live) -> [DeviceDescription.PowerSensor] {
        powercap(root: root) + hwmon(root: root)
    }

    private static func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted {
            $0.compare($1, options: .numeric) == .orderedAscending
        }
    }

    private static func line(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    private static func powercap(root: SysfsRoot) -> [DeviceDescription.PowerSensor] {
        let directory = root.path("sys/class/powercap")
        return entries(directory).compactMap { zone in
            let energy = directory + "/" + zone + "/energy_uj"
            guard FileManager.default.fileExists(atPath: energy) else { return nil }
            let name = line(directory + "/" + zone + "/name") ?? zone
            return DeviceDescription.PowerSensor(name: zone, kind: "powercap", path: energy, unit: "uJ", scope: name,
                                                 maxRangeMicrojoules: line(directory + "/" + zone + "/max_energy_range_uj").flatMap { Int($0) })
        }
    }

    private static func hwmon(root: SysfsRoot) -> [DeviceDescription.PowerSensor] {
        let directory = root.path("sys/class/hwmon")
        var sensors: [DeviceDescription.PowerSensor] = []
        for chip in entries(directory) where chip.hasPrefix("hwmon") {
            let folder = directory + "/" + chip
            let chipName = line(folder + "/name") ?? chip
            let files = Set(entries(folder))
            func channel(_ file: String, prefix: String) -> Int? {
                guard file.hasPrefix(prefix), file.hasSuffix("_input") else { return nil }
                return Int(file.dropFirst(prefix.count).dropLast("_input".count))
            }
            func label(_ prefix: String, _ n: Int) -> String {
                line(folder + "/\(prefix)\(n)_label") ?? line(folder + "/in\(n)_label") ?? "channel \(n)"
            }
            for file in files.sorted(by: { $0.compare($1, options: .numeric) == .orderedAscending }) {
                if let n = channel(file, prefix: "power") {
                    sensors.append(.init(name: "\(chipName)/power\(n)", kind: "hwmon", path: folder + "/" + file, unit: "uW", scope: label("power", n)))
                } else if let n = channel(file, prefix: "energy") {
                    sensors.append(.init(name: "\(chipName)/energy\(n)", kind: "hwmon", path: folder + "/" + file, unit: "uJ", scope: label("energy", n)))
                } else if let n = channel(file, prefix: "curr"), files.contains("in\(n)_input") {
                    // An INA-style rail: current with its bus voltage (power = mV × mA).
                    sensors.append(.init(name: "\(chipName)/curr\(n)", kind: "hwmon", path: folder + "/" + file, unit: "mA", scope: label("curr", n),
                                         voltagePath: folder + "/in\(n)_input"))
                }
            }
        }
        return sensors
    }
}

/// One reading of a power or energy sensor.
public enum PowerReading: Equatable, Sendable {
    /// An energy counter (`energy_uj`, hwmon `energy*_input`) in µJ; a powercap counter wraps at
    /// the sensor's `maxRangeMicrojoules`.
    case microjoules(UInt64)
    /// Power in W: `power*_input` (µW), or an INA-style rail's mV × mA.
    case watts(Double)
}

extension PowerSensors {
    /// Reads `sensor` once; nil when its file (or its bus voltage file) is missing or not a number.
    public static func reading(of sensor: DeviceDescription.PowerSensor) -> PowerReading? {
        guard let text = line(sensor.path), let value = Double(text), value.isFinite, value >= 0 else { return nil }
        switch sensor.unit {
        case "uJ": return UInt64(exactly: value.rounded(.down)).map { .microjoules($0) }
        case "uW": return .watts(value / 1e6)
        case "mA":
            guard let voltagePath = sensor.voltagePath, let volts = line(voltagePath).flatMap(Double.init), volts.isFinite else { return nil }
            return .watts(volts / 1000 * value / 1000)
        default: return nil
        }
    }

    /// How often an hwmon chip's readings change: its `update_interval` file (ms); nil for
    /// powercap zones (no such file) and chips without one.
    public static func updateIntervalNs(of sensor: DeviceDescription.PowerSensor) -> Nanoseconds? {
        guard sensor.kind == "hwmon" else { return nil }
        let chip = (sensor.path as NSString).deletingLastPathComponent
        guard let text = line(chip + "/update_interval"), let milliseconds = Int64(text), milliseconds > 0 else { return nil }
        return Nanoseconds(milliseconds: Double(milliseconds))
    }
}
