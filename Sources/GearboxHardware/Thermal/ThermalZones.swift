// GearboxHardware/ThermalZones: temperatures and trip points from
// `<root>/sys/class/thermal/thermal_zone*`. A zone whose temperature cannot be read is still
// listed, with no temperature and a note saying why; a machine without zones yields an empty
// list, which callers report as "absent".

import Foundation

/// One thermal zone as sysfs describes it.
public struct ThermalZone: Equatable, Sendable {
    /// The directory name, e.g. `thermal_zone0`.
    public let name: String
    /// The zone's `type` (e.g. `x86_pkg_temp`, `cpu-thermal`); `"unknown"` when the file is missing.
    public let type: String
    /// The temperature in millidegrees Celsius, or nil when `temp` is missing or garbled.
    public let milliCelsius: Int?
    /// Why `milliCelsius` is nil (one line naming the file), when it is.
    public let problem: String?
    /// Trip points that parsed (type and temperature), in index order.
    public let tripPoints: [DeviceDescription.TripPoint]
    /// The zone's `temp` file, for re-reading with `ThermalZones.temperature(of:)`.
    public let temperaturePath: String
}

/// Reads the thermal zones under a sysfs root.
///
/// ```swift
/// for zone in ThermalZones.zones() { print(zone.type, zone.milliCelsius ?? "n/a") }
/// ```
public enum ThermalZones {
    /// Every `thermal_zone<N>` under `<root>/sys/class/thermal`, by N. Never throws: a zone
    /// with an unreadable temperature carries a `problem` instead.
    public static func zones(root: SysfsRoot = .live) -> [ThermalZone] {
        let directory = root.path("sys/class/thermal")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("thermal_zone") && Int($0.dropFirst("thermal_zone".count)) != nil }
            .sorted { zoneNumber($0) < zoneNumber($1) }
        return names.map { zone(named: $0, in: directory + "/" + $0) }
    }

    /// The zones as `DeviceDescription` records them (`note` says why a temperature is missing).
    public static func read(root: SysfsRoot = .live) -> [DeviceDescription.ThermalZone] {
        zones(root: root).map {
            DeviceDescription.ThermalZone(
                type: $0.type, milliCelsius: $0.milliCelsius, tripPoints: $0.tripPoints, zone: $0.name,
                note: $0.problem)
        }
    }

    /// Re-reads a zone's current temperature in millidegrees Celsius.
    ///
    /// - Throws: `HardwareError.sysfsFile` naming the `temp` file when it is missing or garbled.
    public static func temperature(of zone: ThermalZone) throws -> Int {
        try readMilliCelsius(zone.temperaturePath)
    }

    private static func zone(named name: String, in directory: String) -> ThermalZone {
        let type = (try? readLine(directory + "/type")) ?? "unknown"
        let temperaturePath = directory + "/temp"
        var milliCelsius: Int?
        var problem: String?
        do { milliCelsius = try readMilliCelsius(temperaturePath) } catch { problem = "\(error)" }
        return ThermalZone(
            name: name, type: type.isEmpty ? "unknown" : type, milliCelsius: milliCelsius, problem: problem,
            tripPoints: tripPoints(in: directory), temperaturePath: temperaturePath)
    }

    private static func tripPoints(in directory: String) -> [DeviceDescription.TripPoint] {
        var points: [DeviceDescription.TripPoint] = []
        // Trip points are numbered densely from 0; stop at the first missing one.
        for index in 0..<64 {
            let prefix = directory + "/trip_point_\(index)_"
            guard FileManager.default.fileExists(atPath: prefix + "temp") else { break }
            guard let temperature = try? readMilliCelsius(prefix + "temp") else { continue }
            let type = (try? readLine(prefix + "type")) ?? "unknown"
            points.append(DeviceDescription.TripPoint(type: type, milliCelsius: temperature))
        }
        return points
    }

    private static func readMilliCelsius(_ path: String) throws -> Int {
        let text = try readLine(path)
        guard let value = Int(text) else {
            let shown = text.count > 20 ? String(text.prefix(20)) + "…" : text
            throw HardwareError.sysfsFile(path: path, reason: "expected millidegrees Celsius as an integer, found \"\(shown)\"")
        }
        return value
    }

    /// The file's first line, trimmed. Sysfs attributes can fail on read (EAGAIN, ENODATA from a
    /// sleeping sensor), which is reported like a missing file.
    private static func readLine(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (sensor unavailable?)" : "missing"
            throw HardwareError.sysfsFile(path: path, reason: reason)
        }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).first
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }

    private static func zoneNumber(_ name: String) -> Int { Int(name.dropFirst("thermal_zone".count)) ?? .max }
}
