// GearboxCore/MeasurementSource: how a figure was obtained. Travels with every latency,
// frequency and counter value Gearbox writes, so that no number is mistaken for another kind.

/// How a figure was obtained.
public enum MeasurementSource: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    /// Measured while the CPU really ran at the frequency (cpufreq DVFS).
    case real
    /// Measured under cgroup CPU-bandwidth throttling standing in for a lower frequency.
    case emulated
    /// Computed on a virtual clock from a model or a table; no real time passed.
    case simulated
    /// Interpolated or extrapolated by a fitted model, not measured.
    case predicted

    public var description: String { rawValue }
}
