// GearboxPolicy/TraceRecorder: samples each cpufreq policy's scaling_cur_freq (and the hottest
// thermal zone, where there is one) at a fixed interval into a FrequencyTrace (`gearbox trace
// record`), for a duration or while a command runs. Reads a sysfs root, so tests can point it at a dump.

import Foundation
import GearboxHardware
import GearboxRuntime

/// Records the real CPU frequency of every cpufreq domain over time.
public struct TraceRecorder {
    /// One cpufreq domain and the file its current frequency is read from.
    public struct Domain: Equatable, Sendable {
        /// `policy0`, `policy4`, … (or `cpu0` on kernels without policy directories).
        public var name: String
        public var curFreqPath: String
    }

    /// Where sysfs lives: `/` on a live system, or an extracted dump.
    public let sysfsRoot: String
    public let domains: [Domain]
    /// The thermal zones whose hottest temperature each sample records (`temp_c`); empty without any.
    public let thermalZones: [ThermalZone]

    /// Finds the cpufreq domains under `sysfsRoot`.
    /// - Throws: ``PolicyError/noCpufreq(root:)`` when there is no `scaling_cur_freq` to read.
    public init(sysfsRoot: String = "/") throws {
        self.sysfsRoot = sysfsRoot
        let base = (sysfsRoot == "/" ? "" : sysfsRoot) + "/sys/devices/system/cpu"
        let fm = FileManager.default
        func numbered(_ prefix: String, in dir: String) -> [(Int, String)] {
            ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).compactMap { entry in
                guard entry.hasPrefix(prefix), let n = Int(entry.dropFirst(prefix.count)) else { return nil }
                return (n, entry)
            }.sorted { $0.0 < $1.0 }
        }
        var found = numbered("policy", in: base + "/cpufreq").compactMap { _, entry -> Domain? in
            let path = base + "/cpufreq/" + entry + "/scaling_cur_freq"
            return fm.isReadableFile(atPath: path) ? Domain(name: entry, curFreqPath: path) : nil
        }
        if found.isEmpty {
            // Older layout: cpuN/cpufreq/; CPUs that share a policy repeat the same frequency.
            found = numbered("cpu", in: base).compactMap { _, entry -> Domain? in
                let path = base + "/" + entry + "/cpufreq/scaling_cur_freq"
                return fm.isReadableFile(atPath: path) ? Domain(name: entry, curFreqPath: path) : nil
            }
        }
        guard !found.isEmpty else { throw PolicyError.noCpufreq(root: sysfsRoot) }
        domains = found
        let root: SysfsRoot = sysfsRoot == "/" ? .live : .dump(directory: sysfsRoot)
        thermalZones = ThermalZones.zones(root: root).filter { $0.milliCelsius != nil }
    }

    /// The hottest readable thermal zone now in °C, or nil without one.
    public func readCelsius() -> Double? {
        thermalZones.compactMap { try? ThermalZones.temperature(of: $0) }.max().map { Double($0) / 1000 }
    }

    /// Reads every domain's current frequency once, in kHz.
    /// - Throws: ``PolicyError/runFailed(reason:)`` naming the file that could not be read.
    public func readKHz() throws -> [Int] {
        try domains.map { domain in
            guard let text = try? String(contentsOfFile: domain.curFreqPath, encoding: .utf8),
                  let kHz = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), kHz > 0 else {
                throw PolicyError.runFailed(reason: "cannot read a frequency from \(domain.curFreqPath)")
            }
            return kHz
        }
    }

    /// Samples every `intervalMs` for `durationMs` of wall time (sleeping between samples), or
    /// until `whileRunning` returns false (checked before each sample), and returns the trace,
    /// labelled `real`. `progress` is called after each sample.
    public func record(
        durationMs: Double, intervalMs: Double, whileRunning: () -> Bool = { true }, progress: (Int, Double) -> Void = { _, _ in }
    ) throws -> FrequencyTrace {
        guard intervalMs > 0, durationMs >= intervalMs else {
            throw PolicyError.badSetting(name: "--interval", reason: "must be positive and at most --duration")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var samples: [FrequencyTrace.Sample] = []
        var next = 0.0
        while next < durationMs && (samples.isEmpty || whileRunning()) {
            let target = start + UInt64(next * 1e6)
            let now = DispatchTime.now().uptimeNanoseconds
            if target > now { usleep(useconds_t((target - now) / 1000)) }
            // Microsecond resolution: the CSV keeps it exactly.
            let at = (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3).rounded() / 1e3
            samples.append(FrequencyTrace.Sample(timeMs: at, kHz: try readKHz(), temperatureC: readCelsius()))
            progress(samples.count, at)
            next += intervalMs
        }
        let names = domains.count == 1 ? ["khz"] : domains.map { "khz_" + $0.name }
        return FrequencyTrace(
            name: "recorded from \(sysfsRoot == "/" ? "this machine" : sysfsRoot)", domainNames: names,
            samples: samples, durationMs: min(durationMs, (samples.last?.timeMs ?? 0) + intervalMs), source: .real)
    }
}
