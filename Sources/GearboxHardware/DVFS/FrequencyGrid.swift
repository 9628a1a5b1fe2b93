// GearboxHardware/FrequencyGrid: the frequencies a sweep visits when a driver gives only a range
// (intel_pstate, cppc_cpufreq) or when DVFS is emulated: evenly spaced steps, endpoints exact.

/// Evenly spaced frequency grids.
public enum FrequencyGrid {
    /// Most steps a grid may have (a sweep visits each one; no DVFS driver offers more).
    public static let maximumSteps = 1000

    /// `steps` frequencies from `minKHz` to `maxKHz` inclusive, evenly spaced; interior points are
    /// rounded to whole MHz (drivers work in MHz or coarser). One step gives `[maxKHz]`; more than
    /// ``maximumSteps`` give ``maximumSteps``.
    public static func evenlySpaced(minKHz: Int, maxKHz: Int, steps requested: Int) -> [Int] {
        let steps = min(requested, maximumSteps)
        guard steps > 1, maxKHz > minKHz else { return [maxKHz] }
        let span = Double(maxKHz - minKHz)
        var grid: [Int] = []
        for index in 0..<steps {
            if index == 0 { grid.append(minKHz); continue }
            if index == steps - 1 { grid.append(maxKHz); continue }
            let exact = Double(minKHz) + span * Double(index) / Double(steps - 1)
            grid.append(Int((exact / 1000).rounded()) * 1000)
        }
        return Array(Set(grid)).sorted()
    }

    /// `steps` fractions of `maxKHz`: maxKHz·k/steps for k = 1…steps (the emulated grid, so that
    /// 1/2 and 1/4 of fmax are on it whenever `steps` is a multiple of 4); at most ``maximumSteps``.
    public static func fractions(ofMaxKHz maxKHz: Int, steps requested: Int) -> [Int] {
        let steps = min(requested, maximumSteps)
        guard steps > 0 else { return [maxKHz] }
        return (1...steps).map { maxKHz * $0 / steps }
    }
}
