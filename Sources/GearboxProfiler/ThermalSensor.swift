// GearboxProfiler/ThermalSensor: temperatures read around each cell for the sweep's thermal guard.
// The zone reader covers /sys/class/thermal through the hardware layer; a machine without zones reads as empty (and the
// sweep says so in the provenance), never as a made-up temperature.

import Foundation
import GearboxCore
import GearboxHardware

/// Reads the device's temperatures.
public protocol ThermalSensor: AnyObject {
    /// Zone name → millidegrees Celsius; empty when the device exposes no zones.
    func readMilliCelsius() -> [String: Int]
    /// The temperatures (m°C) of the zones' trip points that throttle (passive, hot, critical;
    /// not the active ones, which start fans), ascending; empty without any.
    var throttlingTripsMilliCelsius: [Int] { get }
}

extension ThermalSensor {
    public var throttlingTripsMilliCelsius: [Int] { [] }
}

/// The device's thermal zones through the hardware layer (`<root>/sys/class/thermal`).
/// Zones whose temperature cannot be read are left out of a reading, not given a value.
public final class ZoneThermalSensor: ThermalSensor {
    public let zones: [ThermalZone]
    public init(root: SysfsRoot = .live) { zones = ThermalZones.zones(root: root) }

    public var throttlingTripsMilliCelsius: [Int] {
        Array(Set(zones.flatMap { $0.tripPoints.filter { $0.type != "active" }.map(\.milliCelsius) })).sorted()
    }

    public func readMilliCelsius() -> [String: Int] {
        var result: [String: Int] = [:]
        for zone in zones {
            guard let value = try? ThermalZones.temperature(of: zone) else { continue }
            result["\(zone.name):\(zone.type)"] = value
        }
        return result
    }
}

/// A sensor with fixed (or scripted) readings, for simulated sweeps and tests.
public final class FixedThermalSensor: ThermalSensor {
    public var readings: [String: Int]
    public var throttlingTripsMilliCelsius: [Int]
    public init(readings: [String: Int] = [:], trips: [Int] = []) { self.readings = readings; throttlingTripsMilliCelsius = trips }
    public func readMilliCelsius() -> [String: Int] { readings }
}

/// When to pause a sweep because the device is hot.
public struct ThermalGuard: Codable, Equatable, Sendable {
    /// Pause before a cell when any zone is at or above this.
    public var pauseAtMilliCelsius: Int
    /// Resume once every zone is below this.
    public var resumeBelowMilliCelsius: Int
    /// Give up waiting after this long (the cell then runs, and its record says it was hot).
    public var maxPauseNs: Nanoseconds
    public init(pauseAtMilliCelsius: Int = 85_000, resumeBelowMilliCelsius: Int = 75_000, maxPauseNs: Nanoseconds = Nanoseconds(seconds: 120)) {
        self.pauseAtMilliCelsius = pauseAtMilliCelsius; self.resumeBelowMilliCelsius = resumeBelowMilliCelsius
        self.maxPauseNs = maxPauseNs
    }

    /// Waits (on `clock`) while `sensor` reads hot; returns the time paused.
    public func waitUntilCool(_ sensor: ThermalSensor, clock: LatencyClock) -> Nanoseconds {
        var readings = sensor.readMilliCelsius()
        guard readings.values.contains(where: { $0 >= pauseAtMilliCelsius }) else { return .zero }
        let start = clock.nowNs()
        let limit = maxPauseNs.clockNs
        while readings.values.contains(where: { $0 >= resumeBelowMilliCelsius }), clock.nowNs() - start < limit {
            clock.pass(ns: 1_000_000_000)
            readings = sensor.readMilliCelsius()
        }
        return Nanoseconds(clock.nowNs() - start)
    }
}
