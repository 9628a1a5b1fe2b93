// GearboxHardware/Cpufreq: typed Swift over libcpufreq (cpufrequtils), one method per C call,
// run where `/sys/devices/system/cpu` shows the chosen root (see CpufreqView). C types stay in
// here. libcpufreq only says "0" or "NULL" when something is wrong, so on a failure this file
// reads the files involved itself, to name the one that is missing or garbled.

import CCpufreq
import Foundation
import GearboxCore
#if canImport(Glibc)
import Glibc
#endif

/// libcpufreq for one sysfs root (the live machine or a dump shown in a private mount namespace).
///
/// Every method runs the libcpufreq call named in its documentation and throws a
/// `HardwareError` naming the file when the call fails.
public final class Cpufreq: @unchecked Sendable {
    /// A CPU's current policy: the limits the governor works within, and the governor.
    public struct Policy: Equatable, Sendable {
        public var minKHz: Int
        public var maxKHz: Int
        public var governor: String
        public init(minKHz: Int, maxKHz: Int, governor: String) {
            self.minKHz = minKHz; self.maxKHz = maxKHz; self.governor = governor
        }
    }

    /// The frequency range the hardware (driver) supports.
    public struct Limits: Equatable, Sendable {
        public var minKHz: Int
        public var maxKHz: Int
    }

    let view: CpufreqView

    /// Opens libcpufreq on `root`. For a dump this needs root (a private mount namespace).
    public init(root: SysfsRoot = .live) throws {
        view = try CpufreqView(root: root)
    }

    /// The root this instance reads.
    public var root: SysfsRoot { view.root }

    /// True when the root holds regular files (a dump), where nothing follows a write.
    public var isDump: Bool { view.holdsRegularFiles }

    /// True when a board model (`gearbox board run`) serves the tree: its files are regular, but
    /// `scaling_cur_freq` follows writes as on hardware.
    public var isServedByBoard: Bool {
        (try? view.perform { FileManager.default.fileExists(atPath: CpufreqView.cpuDirectory + "/" + BoardRunner.markerFile) }) ?? false
    }

    // MARK: Enumeration (libcpufreq has none; read from sysfs directly)

    /// CPUs that have a `cpuN` folder, ascending. libcpufreq offers no enumeration, so this lists
    /// the folder itself.
    public func cpus() throws -> [Int] {
        try view.perform {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: CpufreqView.cpuDirectory)) ?? []
            return entries.compactMap { name -> Int? in
                guard name.hasPrefix("cpu"), let n = Int(name.dropFirst(3)), n >= 0 else { return nil }
                return n
            }.sorted()
        }
    }

    /// Whether `cpu` has a cpufreq policy folder with policy files (`scaling_governor` or
    /// `scaling_driver`). Read directly: libcpufreq cannot tell "no cpufreq" from "broken cpufreq".
    public func hasPolicy(cpu: Int) throws -> Bool {
        try view.perform {
            FileManager.default.fileExists(atPath: CpufreqView.cpufreqPath(cpu: cpu, "scaling_governor"))
                || FileManager.default.fileExists(atPath: CpufreqView.cpufreqPath(cpu: cpu, "scaling_driver"))
        }
    }

    /// Whether `cpu` has a cpufreq folder at all (possibly holding only `cpuinfo_max_freq`, as
    /// in hwloc-gathered dumps). Read directly, as `hasPolicy`.
    public func hasCpufreqFolder(cpu: Int) throws -> Bool {
        try view.perform {
            FileManager.default.fileExists(atPath: CpufreqView.cpuDirectory + "/cpu\(cpu)/cpufreq")
        }
    }

    // MARK: Reads

    /// The scaling driver (`cpufreq_get_driver`, file `scaling_driver`).
    public func driver(cpu: Int) throws -> String {
        try view.perform {
            guard let pointer = cpufreq_get_driver(UInt32(cpu)) else {
                throw diagnose(cpu: cpu, files: [("scaling_driver", .text)], call: "cpufreq_get_driver")
            }
            defer { cpufreq_put_driver(pointer) }
            return String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// The current policy (`cpufreq_get_policy`: `scaling_min_freq`, `scaling_max_freq`,
    /// `scaling_governor`).
    public func policy(cpu: Int) throws -> Policy {
        try view.perform { try policyInView(cpu: cpu) }
    }

    /// The governors the kernel offers (`cpufreq_get_available_governors`); empty if the file is absent.
    public func availableGovernors(cpu: Int) throws -> [String] {
        try view.perform {
            guard let first = cpufreq_get_available_governors(UInt32(cpu)) else {
                try requireAbsentOrEmpty(cpu: cpu, "scaling_available_governors", call: "cpufreq_get_available_governors")
                return []
            }
            defer { cpufreq_put_available_governors(first) }
            var names: [String] = []
            var node: UnsafeMutablePointer<cpufreq_available_governors>? = first
            while let current = node {
                if let name = current.pointee.governor { names.append(String(cString: name)) }
                node = current.pointee.next
            }
            return names
        }
    }

    /// The driver's frequency list in kHz, ascending (`cpufreq_get_available_frequencies`).
    /// Empty when the driver gives none (intel_pstate, cppc_cpufreq).
    public func availableFrequenciesKHz(cpu: Int) throws -> [Int] {
        try view.perform {
            guard let first = cpufreq_get_available_frequencies(UInt32(cpu)) else {
                try requireAbsentOrEmpty(cpu: cpu, "scaling_available_frequencies", call: "cpufreq_get_available_frequencies")
                return []
            }
            defer { cpufreq_put_available_frequencies(first) }
            var values: [Int] = []
            var node: UnsafeMutablePointer<cpufreq_available_frequencies>? = first
            while let current = node {
                values.append(Int(current.pointee.frequency))
                node = current.pointee.next
            }
            return Array(Set(values)).sorted()
        }
    }

    /// The hardware range (`cpufreq_get_hardware_limits`: `cpuinfo_min_freq`, `cpuinfo_max_freq`).
    public func hardwareLimits(cpu: Int) throws -> Limits {
        try view.perform {
            var low: UInt = 0
            var high: UInt = 0
            guard cpufreq_get_hardware_limits(UInt32(cpu), &low, &high) == 0, low > 0, high > 0 else {
                throw diagnose(cpu: cpu, files: [("cpuinfo_min_freq", .kHz), ("cpuinfo_max_freq", .kHz)],
                               call: "cpufreq_get_hardware_limits")
            }
            return Limits(minKHz: Int(low), maxKHz: Int(high))
        }
    }

    /// CPUs whose frequency must be coordinated in software (`cpufreq_get_affected_cpus`).
    public func affectedCPUs(cpu: Int) throws -> [Int]? {
        try view.perform { try cpuList(cpu: cpu, file: "affected_cpus", call: "cpufreq_get_affected_cpus", cpufreq_get_affected_cpus) }
    }

    /// CPUs that share the clock (`cpufreq_get_related_cpus`): the DVFS domain.
    public func relatedCPUs(cpu: Int) throws -> [Int]? {
        try view.perform { try cpuList(cpu: cpu, file: "related_cpus", call: "cpufreq_get_related_cpus", cpufreq_get_related_cpus) }
    }

    /// The kernel's idea of the current frequency (`cpufreq_get_freq_kernel`, `scaling_cur_freq`), or nil.
    public func currentKHz(cpu: Int) throws -> Int? {
        try view.perform {
            let value = cpufreq_get_freq_kernel(UInt32(cpu))
            return value > 0 ? Int(value) : nil
        }
    }

    /// The transition latency (`cpufreq_get_transition_latency`), or nil if unknown.
    public func transitionLatencyNs(cpu: Int) throws -> Nanoseconds? {
        try view.perform {
            let value = cpufreq_get_transition_latency(UInt32(cpu))
            return value > 0 ? Nanoseconds(value) : nil
        }
    }

    /// Whether `scaling_setspeed` accepts a frequency now (read directly: libcpufreq has no
    /// getter for it; the kernel shows `<unsupported>` unless the userspace governor is active).
    public func setspeedKHz(cpu: Int) throws -> Int? {
        try view.perform {
            guard let text = readText(CpufreqView.cpufreqPath(cpu: cpu, "scaling_setspeed")) else { return nil }
            return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Whether the policy has a `scaling_setspeed` file (read directly; see `setspeedKHz`).
    public func hasSetspeed(cpu: Int) throws -> Bool {
        try view.perform { FileManager.default.fileExists(atPath: CpufreqView.cpufreqPath(cpu: cpu, "scaling_setspeed")) }
    }

    // MARK: Writes

    /// Switches the governor (`cpufreq_modify_policy_governor`, file `scaling_governor`).
    public func setGovernor(_ governor: String, cpu: Int) throws {
        try view.perform {
            try write(cpu: cpu, file: "scaling_governor", value: governor) {
                governor.withCString { cpufreq_modify_policy_governor(UInt32(cpu), UnsafeMutablePointer(mutating: $0)) }
            }
        }
    }

    /// Sets the lower limit (`cpufreq_modify_policy_min`, file `scaling_min_freq`).
    public func setMinKHz(_ kHz: Int, cpu: Int) throws {
        try view.perform {
            try write(cpu: cpu, file: "scaling_min_freq", value: String(kHz)) { cpufreq_modify_policy_min(UInt32(cpu), UInt(kHz)) }
        }
    }

    /// Sets the upper limit (`cpufreq_modify_policy_max`, file `scaling_max_freq`).
    public func setMaxKHz(_ kHz: Int, cpu: Int) throws {
        try view.perform {
            try write(cpu: cpu, file: "scaling_max_freq", value: String(kHz)) { cpufreq_modify_policy_max(UInt32(cpu), UInt(kHz)) }
        }
    }

    /// Sets both limits, writing them in the order that never has min > max in between.
    public func setLimits(minKHz: Int, maxKHz: Int, cpu: Int) throws {
        try view.perform {
            let current = try policyInView(cpu: cpu)
            if minKHz > current.maxKHz {
                try setMaxKHz(maxKHz, cpu: cpu)
                try setMinKHz(minKHz, cpu: cpu)
            } else {
                try setMinKHz(minKHz, cpu: cpu)
                try setMaxKHz(maxKHz, cpu: cpu)
            }
        }
    }

    /// Writes `scaling_setspeed` (`cpufreq_set_frequency`; switches to the userspace governor
    /// first if it is not active).
    public func setSpeed(_ kHz: Int, cpu: Int) throws {
        try view.perform {
            if try policyInView(cpu: cpu).governor != "userspace" { try setGovernor("userspace", cpu: cpu) }
            try write(cpu: cpu, file: "scaling_setspeed", value: String(kHz)) { cpufreq_set_frequency(UInt32(cpu), UInt(kHz)) }
        }
    }

    // MARK: Raw file access for dumps

    /// The bytes of `relativePath` under the cpu folder, or nil if absent (dumps only: used to
    /// put a dump copy back byte for byte, since no kernel regenerates derived files there).
    func rawContents(_ relativePath: String) throws -> Data? {
        try view.perform { FileManager.default.contents(atPath: CpufreqView.cpuDirectory + "/" + relativePath) }
    }

    /// Overwrites `relativePath` under the cpu folder with `data` (dumps only; see `rawContents`).
    func writeRawContents(_ data: Data, to relativePath: String) throws {
        try view.perform {
            let path = CpufreqView.cpuDirectory + "/" + relativePath
            let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard fd >= 0 else { throw writeError(path: path, errno: errno) }
            defer { close(fd) }
            let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written == data.count else {
                throw HardwareError.dvfsControl(path: view.displayPath(path), reason: "short write while restoring the dump")
            }
        }
    }

    // MARK: Private

    private enum Content { case text, kHz }

    private func policyInView(cpu: Int) throws -> Policy {
        guard let pointer = cpufreq_get_policy(UInt32(cpu)) else {
            throw diagnose(cpu: cpu, files: [("scaling_governor", .text), ("scaling_min_freq", .kHz), ("scaling_max_freq", .kHz)],
                           call: "cpufreq_get_policy")
        }
        defer { cpufreq_put_policy(pointer) }
        let governor = pointer.pointee.governor.map { String(cString: $0) } ?? ""
        return Policy(minKHz: Int(pointer.pointee.min), maxKHz: Int(pointer.pointee.max),
                      governor: governor.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func cpuList(
        cpu: Int, file: String, call: String,
        _ function: (UInt32) -> UnsafeMutablePointer<cpufreq_affected_cpus>?
    ) throws -> [Int]? {
        guard let first = function(UInt32(cpu)) else {
            let path = CpufreqView.cpufreqPath(cpu: cpu, file)
            guard let text = readText(path) else { return nil }
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return nil }
            throw HardwareError.sysfsFile(path: view.displayPath(path), reason: "\(call) could not parse \"\(Self.clip(text))\" as a CPU list")
        }
        defer { cpufreq_put_affected_cpus(first) }
        var cpus: [Int] = []
        var node: UnsafeMutablePointer<cpufreq_affected_cpus>? = first
        while let current = node {
            cpus.append(Int(current.pointee.cpu))
            node = current.pointee.next
        }
        return Array(Set(cpus)).sorted()
    }

    /// A list file libcpufreq returned nothing for must be absent or empty; otherwise it is garbled.
    private func requireAbsentOrEmpty(cpu: Int, _ file: String, call: String) throws {
        let path = CpufreqView.cpufreqPath(cpu: cpu, file)
        guard let text = readText(path) else { return }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
        throw HardwareError.sysfsFile(path: view.displayPath(path), reason: "\(call) could not parse \"\(Self.clip(text))\"")
    }

    /// Names the first of `files` that is missing or does not hold what libcpufreq expects.
    private func diagnose(cpu: Int, files: [(String, Content)], call: String) -> HardwareError {
        for (file, content) in files {
            let path = CpufreqView.cpufreqPath(cpu: cpu, file)
            let shown = view.displayPath(path)
            guard FileManager.default.fileExists(atPath: path) else {
                return .sysfsFile(path: shown, reason: "missing (\(call) needs it)")
            }
            guard let text = readText(path) else {
                return .sysfsFile(path: shown, reason: "unreadable (\(call) needs it)")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            switch content {
            case .text where trimmed.isEmpty:
                return .sysfsFile(path: shown, reason: "empty (\(call) needs a name)")
            case .kHz where Int(trimmed).map({ $0 <= 0 }) ?? true:
                return .sysfsFile(path: shown, reason: "holds \"\(Self.clip(trimmed))\", not a frequency in kHz")
            default:
                continue
            }
        }
        let folder = view.displayPath(CpufreqView.cpuDirectory + "/cpu\(cpu)/cpufreq")
        return .sysfsFile(path: folder, reason: "\(call) failed for CPU \(cpu)")
    }

    /// Runs a libcpufreq write. On a dump the file is a regular file: libcpufreq opens it without
    /// O_TRUNC, so a shorter value would leave the old tail behind ("400000" over "5000000\n"
    /// reads 4000000); truncate first and end with the newline sysfs shows, so the dump behaves
    /// like the kernel files it copies.
    private func write(cpu: Int, file: String, value: String, _ call: () -> Int32) throws {
        let path = CpufreqView.cpufreqPath(cpu: cpu, file)
        if view.holdsRegularFiles {
            let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard fd >= 0 else { throw writeError(path: path, errno: errno) }
            close(fd)
        }
        let status = call()
        if status != 0 {
            // libcpufreq folds every failure into -ENODEV; open the file ourselves to learn why.
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            if fd < 0 { throw writeError(path: path, errno: errno) }
            close(fd)
            throw HardwareError.dvfsControl(path: view.displayPath(path), reason: "the kernel refused \"\(value)\" (check `gearbox dvfs list` for what this domain accepts)")
        }
        if view.holdsRegularFiles, let text = readText(path), !text.hasSuffix("\n") {
            let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            if fd >= 0 { _ = Glibc.write(fd, "\n", 1); close(fd) }
        }
    }

    private func writeError(path: String, errno code: Int32) -> HardwareError {
        let shown = view.displayPath(path)
        switch code {
        case EACCES, EPERM, EROFS: return .permissionDenied(path: shown)
        case ENOENT: return .sysfsFile(path: shown, reason: "missing (the driver does not offer it)")
        default: return .dvfsControl(path: shown, reason: String(cString: strerror(code)))
        }
    }

    private func readText(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    private static func clip(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count > 40 ? String(line.prefix(40)) + "…" : line
    }
}
