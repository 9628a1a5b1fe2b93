// GearboxProfiler/CellMonitor: what the board did while one cell was sampled — the energy its
// power sensor counted, the hottest zone at the start and end, the lowest frequency the driver
// delivered and whether a trip point was crossed — read through the hardware layer between
// samples (never inside a timed window) and rate-limited to the sensor's own update interval.

import Foundation
import GearboxCore
import GearboxHardware

/// The sensor a sweep takes its energy figures from, with how often its value changes.
public struct EnergySource: Equatable, Sendable {
    public let sensor: DeviceDescription.PowerSensor
    /// How often the sensor's value changes: hwmon's `update_interval`; for powercap RAPL,
    /// which has no such file, the 1 ms its counters update at (Intel SDM, "RAPL interfaces").
    public let updateIntervalNs: Nanoseconds
    /// Whether `updateIntervalNs` is the sensor's own (false: the 1 ms assumed for RAPL, or for a
    /// chip without `update_interval`).
    public let intervalFromSensor: Bool

    public init(sensor: DeviceDescription.PowerSensor, updateIntervalNs: Nanoseconds? = nil) {
        self.sensor = sensor
        let own = updateIntervalNs ?? PowerSensors.updateIntervalNs(of: sensor)
        self.updateIntervalNs = max(own ?? Self.assumedIntervalNs, 1)
        intervalFromSensor = own != nil
    }

    static let assumedIntervalNs = Nanoseconds(milliseconds: 1)

    /// The sensor to use among `sensors`: an energy counter before a power reading (a counter
    /// needs no integration), a package-wide powercap zone before a partial one.
    public static func choose(from sensors: [DeviceDescription.PowerSensor]) -> EnergySource? {
        func rank(_ sensor: DeviceDescription.PowerSensor) -> Int {
            switch (sensor.kind, sensor.unit) {
            case ("powercap", _): return sensor.scope.hasPrefix("package") ? 0 : 1
            case (_, "uJ"): return 2
            case (_, "uW"): return 3
            default: return 4
            }
        }
        return sensors.enumerated().min { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map { EnergySource(sensor: $0.element) }
    }

    /// The sensors of `root` (see `PowerSensors.read`), chosen as `choose(from:)` does.
    public static func find(root: SysfsRoot = .live) -> EnergySource? { choose(from: PowerSensors.read(root: root)) }

    /// One line for the LUT's `method.energySensor`.
    public var summary: String {
        let interval = "updates every \(Self.milliseconds(updateIntervalNs))" + (intervalFromSensor ? " (update_interval)" : " (assumed)")
        if sensor.unit == "uJ" {
            let wrap = sensor.maxRangeMicrojoules.map { ", wraps at max_energy_range_uj \($0)" } ?? ""
            return "\(sensor.kind) \(sensor.name) (\(sensor.scope)) energy counter \(sensor.path), differenced per cell\(wrap); \(interval)"
        }
        let what = sensor.unit == "mA" ? "current × bus voltage" : "power"
        return "\(sensor.kind) \(sensor.name) (\(sensor.scope)) \(what), integrated over readings at least one update apart; \(interval)"
    }

    static func milliseconds(_ span: Nanoseconds) -> String {
        let ms = span.milliseconds
        return ms == ms.rounded() ? "\(Int(ms)) ms" : String(format: "%.2f ms", ms)
    }
}

/// What a `CellMonitor` saw over one cell.
public struct CellObservation: Codable, Equatable, Sendable {
    /// Energy over the cell in J; nil without a sensor (or when it could not be read).
    public var energyJ: Double?
    /// Mean power over the cell in W (energy / duration); nil without a sensor.
    public var powerW: Double?
    /// Sensor readings used (counter reads, or power readings integrated).
    public var readings: Int
    /// Wall time between the first and last reading.
    public var durationNs: Nanoseconds
    /// Hottest zone at the start and end of the cell, °C; nil without zones.
    public var startCelsius: Double?
    public var endCelsius: Double?
    /// The lowest frequency the driver reported during the cell; nil when it cannot be read.
    public var lowestDeliveredKHz: Int?
    /// Trip temperatures (m°C) crossed from below during the cell.
    public var tripsCrossedMilliCelsius: [Int]
    /// Why the cell counts as throttled; nil when it does not.
    public var throttleReason: String?

    public var throttled: Bool { throttleReason != nil }
}

/// Watches the board around one cell's sampling phase: `start` before the first sample, `poll`
/// between samples, `stop` after the last.
public final class CellMonitor {
    public let energy: EnergySource?
    public let thermal: ThermalSensor
    /// Trip temperatures of the device's zones in m°C (passive and hotter).
    public let tripsMilliCelsius: [Int]
    /// Reads the delivered frequency (`scaling_cur_freq`); nil: not watched.
    public let delivered: (() -> Int?)?
    public let clock: LatencyClock
    /// How often temperature and frequency are read between samples.
    public let watchIntervalNs: Nanoseconds
    /// Delivered frequencies this far below the set one count as throttled (driver rounding,
    /// intel_pstate's averaging).
    public static let deliveredTolerance = 0.02

    // The intervals as differences of clock readings, converted once: `poll` runs between samples.
    private let energyIntervalClockNs: UInt64
    private let watchIntervalClockNs: UInt64
    private var setKHz = 0
    private var startNs: UInt64 = 0
    private var lastEnergyNs: UInt64 = 0
    private var lastWatchNs: UInt64 = 0
    private var lastCounter: UInt64?
    private var joules = 0.0
    private var readings = 0
    private var failed = false
    private var startMilliCelsius: Int?
    private var hottest: Int?
    private var lowest: Int?

    /// `tripsMilliCelsius` defaults to the sensor's throttling trips.
    public init(energy: EnergySource?, thermal: ThermalSensor, tripsMilliCelsius: [Int]? = nil, delivered: (() -> Int?)? = nil,
                clock: LatencyClock, watchIntervalNs: Nanoseconds = Nanoseconds(milliseconds: 5)) {
        self.energy = energy; self.thermal = thermal
        self.tripsMilliCelsius = (tripsMilliCelsius ?? thermal.throttlingTripsMilliCelsius).sorted()
        self.delivered = delivered; self.clock = clock; self.watchIntervalNs = watchIntervalNs
        energyIntervalClockNs = energy?.updateIntervalNs.clockNs ?? 0
        watchIntervalClockNs = watchIntervalNs.clockNs
    }

    /// Begins a cell set to `setKHz`.
    public func start(setKHz: Int) {
        self.setKHz = setKHz
        joules = 0; readings = 0; failed = false; lastCounter = nil; lowest = nil
        startNs = clock.nowNs()
        lastEnergyNs = startNs
        lastWatchNs = startNs
        startMilliCelsius = thermal.readMilliCelsius().values.max()
        hottest = startMilliCelsius
        readEnergy(at: startNs, first: true)
        watchFrequency()
    }

    /// Between samples: reads the sensor once its update interval has passed, and temperature
    /// and frequency every `watchIntervalNs`. One clock read when there is nothing to do.
    public func poll() {
        let now = clock.nowNs()
        if energy != nil, now &- lastEnergyNs >= energyIntervalClockNs { readEnergy(at: now, first: false) }
        if now &- lastWatchNs >= watchIntervalClockNs {
            lastWatchNs = now
            if let value = thermal.readMilliCelsius().values.max() { hottest = max(hottest ?? value, value) }
            watchFrequency()
        }
    }

    /// Ends the cell: a last reading of everything, and the verdict.
    public func stop() -> CellObservation {
        let now = clock.nowNs()
        // The last reading always counts, even inside the update interval: a counter has moved
        // by what it has, and a power reading covers the interval before it.
        readEnergy(at: now, first: false)
        watchFrequency()
        let end = thermal.readMilliCelsius().values.max()
        if let end { hottest = max(hottest ?? end, end) }
        let duration = now &- startNs
        var energyJ: Double?
        var powerW: Double?
        if energy != nil, !failed, readings > 0, duration > 0 {
            energyJ = joules
            powerW = joules / (Double(duration) / 1e9)
        }
        let crossed = tripsMilliCelsius.filter { trip in
            guard let start = startMilliCelsius, let top = hottest else { return false }
            return start < trip && top >= trip
        }
        var reasons: [String] = []
        if let lowest, Double(lowest) < Double(setKHz) * (1 - Self.deliveredTolerance) {
            reasons.append("the driver delivered \(lowest) kHz of the \(setKHz) kHz set")
        }
        if !crossed.isEmpty {
            reasons.append("crossed the trip point(s) at \(crossed.map { Self.celsiusText($0) }.joined(separator: ", "))")
        }
        return CellObservation(
            energyJ: energyJ, powerW: powerW, readings: readings, durationNs: Nanoseconds(duration),
            startCelsius: startMilliCelsius.map { Double($0) / 1000 }, endCelsius: end.map { Double($0) / 1000 },
            lowestDeliveredKHz: lowest, tripsCrossedMilliCelsius: crossed,
            throttleReason: reasons.isEmpty ? nil : reasons.joined(separator: "; "))
    }

    private func watchFrequency() {
        guard let delivered, let kHz = delivered() else { return }
        lowest = min(lowest ?? kHz, kHz)
    }

    private func readEnergy(at now: UInt64, first: Bool) {
        guard let energy, !failed else { return }
        guard let reading = PowerSensors.reading(of: energy.sensor) else { failed = true; return }
        switch reading {
        case let .microjoules(value):
            if let previous = lastCounter {
                // Read at least every update interval, so at most one wrap lies between reads.
                let delta: UInt64
                if let range = energy.sensor.maxRangeMicrojoules {
                    delta = EnergyCounter.deltaMicrojoules(from: previous, to: value, maxRange: UInt64(range))
                } else {
                    // No stated range (hwmon energy*_input, 64-bit): a smaller value is a reset.
                    delta = value >= previous ? value - previous : value
                }
                joules += Double(delta) / 1e6
            }
            lastCounter = value
            readings += 1
        case let .watts(watts):
            // The chip's value is its average over the interval before it was read: it covers
            // the time since the previous reading (the first reading only opens the cell).
            if !first {
                joules += watts * Double(now &- lastEnergyNs) / 1e9
                readings += 1
            }
        }
        lastEnergyNs = now
    }

    static func celsiusText(_ milliCelsius: Int) -> String {
        let celsius = Double(milliCelsius) / 1000
        return celsius == celsius.rounded() ? "\(Int(celsius)) °C" : String(format: "%.1f °C", celsius)
    }
}
