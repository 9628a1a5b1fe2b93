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
    public var settleNs: Nanoseconds
    public var source: MeasurementSource
    /// Whether the read-back reached the request within the settle timeout (nil: not checked).
    public var settled: Bool?
    /// Why the change is less than it seems (did not settle, not verified, calibration drift).
    public var warning: String?
    public init(
        requestedKHz: Int, appliedKHz: Int, speedRatio: Double, settleNs: Nanoseconds, source: MeasurementSource,
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
    func restoreAfterInterrupt(lockWaitNs: Nanoseconds) throws

    // What measurement code asks of an emulating controller. Real and simulated controllers keep
    // the defaults below: no calibrations, no problems, a steady clock, nothing more to say.

    /// Whether the controller keeps per-step calibrations worth saving beside a lookup table.
    var keepsCalibrations: Bool { get }
    /// Adopts the usable calibrations saved at `path` (at most `maxAgeSeconds` old) and says in
    /// one line what happened. A missing or stale file is not an error.
    func reuseCalibrations(from path: String, maxAgeSeconds: Double) -> String
    /// Writes the calibrations made or adopted so far to `path`.
    func saveCalibrations(to path: String, deviceID: String) throws
    /// Problems met while holding frequencies, worth reporting after a sweep.
    var gapFillProblems: [String] { get }
    /// The on/off pattern the controller imposes at `kHz`, for measurement code that must average
    /// over it; nil when the clock runs steadily.
    func throttleShape(forKHz kHz: Int) -> ThrottleShape?
    /// How the controller makes its frequency steps, for provenance; nil when `source` says it all.
    var methodNote: String? { get }
    /// The frequency domain `domainIndex` runs at now as the driver reports it (`scaling_cur_freq`),
    /// for measurement code watching for throttling; nil when the controller cannot read one back.
    func deliveredKHz(forDomain domainIndex: Int) -> Int?
}

extension FrequencyController {
    /// Controllers whose lock is never held for long (simulated) restore the ordinary way.
    public func restoreAfterInterrupt(lockWaitNs: Nanoseconds) throws { try restore() }

    public var keepsCalibrations: Bool { false }
    public func reuseCalibrations(from path: String, maxAgeSeconds: Double) -> String { "" }
    public func saveCalibrations(to path: String, deviceID: String) throws {}
    public var gapFillProblems: [String] { [] }
    public func throttleShape(forKHz kHz: Int) -> ThrottleShape? { nil }
    public var methodNote: String? { nil }
    public func deliveredKHz(forDomain domainIndex: Int) -> Int? { nil }
}

/// A throttle's on/off pattern at one step (emulated DVFS), for measurement code that must
/// average over it.
public struct ThrottleShape: Equatable, Sendable {
    public var periodNs: Nanoseconds
    /// The idle part of each period (0 when the step is not throttled).
    public var gapNs: Nanoseconds

    public init(periodNs: Nanoseconds, gapNs: Nanoseconds) { self.periodNs = periodNs; self.gapNs = gapNs }
}
