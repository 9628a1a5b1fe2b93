// GearboxHardware/PowerSensors: the power and energy sensors under a sysfs root — powercap
// zones (`class/powercap/*/energy_uj`, RAPL) and hwmon chips (`power*_input` in µW,
// `energy*_input` in µJ, and INA-style rails: `curr*_input` in mA beside `in*_input` in mV).
// A machine without them yields an empty list, which `device probe` reports as absent.

import Foundation

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
