// GearboxHardware/FrequencyController: the seam between measurement code and whatever moves
// the CPU clock: real cpufreq DVFS, cgroup-throttling emulation, or a virtual clock.

import GearboxCore

/// A CPU frequency in kHz (the unit cpufreq uses).
public struct Frequency: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var kHz: Int
    public init(kHz: Int) { self.kHz = kHz }
    public static func kHz(_ value: Int) -> Frequency { Frequency(kHz: value) }
    public static func < (a: Frequency, b: Frequency) -> Bool { a.kHz < b.kHz }
    public var description: String {
        kHz >= 1_000_000 ? String(format: "%.2f GHz", Double(kHz) / 1e6) : "\(kHz / 1000) MHz"
    }
}

/// What happened when a controller applied a frequency.
public struct FrequencyChange: Codable, Equatable, Sendable {
    /// The frequency asked for.
    public var requestedKHz: Int
    /// The frequency read back (real), or the requested one (emulated/simulated).
    public var appliedKHz: Int
    /// Effective speed relative to the domain's maximum: read-back ratio (real), the calibrated
    /// measured slow-down inverse (emulated), or exact (simulated).
    public var speedRatio: Double
    /// Time from the request until the read-back settled (0 for simulated).
    public var settleNs: Int
    public var source: MeasurementSource
    /// Whether the read-back reached the request within the settle timeout (nil: not checked).
    public var settled: Bool?
    /// Why the change is less than it seems (did not settle, not verified, calibration drift).
    public var warning: String?
    public init(
        requestedKHz: Int, appliedKHz: Int, speedRatio: Double, settleNs: Int, source: MeasurementSource,
        settled: Bool? = nil, warning: String? = nil
    ) {
        self.requestedKHz = requestedKHz; self.appliedKHz = appliedKHz; self.speedRatio = speedRatio
        self.settleNs = settleNs; self.source = source; self.settled = settled; self.warning = warning
    }
}

/// Moves a DVFS domain's clock (really, by emulation, or virtually).
///
/// Measurement threads call `enrollCurrentThread()` once from the thread that does the measured
/// work (a dedicated OS thread), so that an emulating controller can put that thread under its
/// throttle; the emulated quota is per enrolled thread. Controllers remember the
/// original state before their first change and put it back in `restore()`.
public protocol FrequencyController: AnyObject {
    /// `real`, `emulated` or `simulated`: printed next to every figure measured under it.
    var source: MeasurementSource { get }
    /// The domains this controller can drive, with their frequency grids.
    var domains: [DeviceDescription.Domain] { get }
    /// Applies `frequency` to the domain at `domainIndex` and reports what was achieved.
    func setFrequency(_ frequency: Frequency, forDomain domainIndex: Int) throws -> FrequencyChange
    /// Places the calling OS thread under this controller (a no-op for real and simulated).
    func enrollCurrentThread() throws
    /// Restores every governor and limit this controller changed (idempotent).
    func restore() throws
    /// Restores after SIGINT/SIGTERM while the interrupted work may still hold this controller's
    /// lock (a calibration or a change in flight): waits at most `lockWaitNs` for the lock, then
    /// puts the state back without it. Never blocks for longer than a few file writes past that.
    func restoreAfterInterrupt(lockWaitNs: Int) throws
}

extension FrequencyController {
    /// Controllers whose lock is never held for long (simulated) restore the ordinary way.
    public func restoreAfterInterrupt(lockWaitNs: Int) throws { try restore() }
}
