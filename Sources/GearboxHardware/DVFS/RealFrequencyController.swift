// GearboxHardware/RealFrequencyController: moves real cpufreq domains through libcpufreq — the
// userspace governor + scaling_setspeed where the driver offers it, else min = max limits —
// verifies by reading the frequency back, journals the original state before the first change,
// and puts it back on restore (also after a crash, from the journal).

import Foundation
import GearboxCore

/// DVFS on cpufreq hardware (or a sysfs dump of it), labelled `real`.
public final class RealFrequencyController: FrequencyController, @unchecked Sendable {
    /// How changes are made and checked.
    public struct Options: Sendable {
        /// Where the crash-safety journal goes (see `DVFSJournal.path`).
        public var journalPath: String
        /// Read the frequency back after each change.
        public var verify: Bool
        /// How long to wait for the read-back to reach the request.
        public var settleTimeoutNs: Nanoseconds
        /// How far the read-back may be from the request and still count as settled; drivers
        /// like intel_pstate report an average over the last tick, not the programmed value.
        public var settleToleranceFraction: Double
        /// Steps of the derived grid for drivers without a frequency list.
        public var gridSteps: Int

        public init(
            journalPath: String = DVFSJournal.path(), verify: Bool = true, settleTimeoutNs: Nanoseconds = Nanoseconds(milliseconds: 200),
            settleToleranceFraction: Double = 0.05, gridSteps: Int = 8
        ) {
            self.journalPath = journalPath; self.verify = verify; self.settleTimeoutNs = settleTimeoutNs
            self.settleToleranceFraction = settleToleranceFraction; self.gridSteps = gridSteps
        }
    }

    /// What `restore` put back, one line per domain.
    public struct RestoreReport: Equatable, Sendable {
        public var journalPath: String
        public var root: SysfsRoot
        public var lines: [String]
    }

    /// `real` on hardware; `emulated` inside `gearbox board run`, where the same cpufreq path
    /// drives a board model's files and the host's throttle, not a real clock.
    public let source: MeasurementSource
    public let domains: [DeviceDescription.Domain]
    public let options: Options
    public var root: SysfsRoot { cpufreq.root }

    private let cpufreq: Cpufreq
    private let policyCPUs: [Int]
    private let lock = NSLock()
    private var journal: DVFSJournal?

    /// Opens the cpufreq domains of `root`.
    /// - Throws: `HardwareError.dvfsRequest` when `root` has no cpufreq policies, or a discovery error.
    public init(root: SysfsRoot = .live, options: Options = Options()) throws {
        let cpufreq = try Cpufreq(root: root)
        let dvfs = try DVFSInventory.discover(cpufreq: cpufreq, gridSteps: options.gridSteps)
        guard dvfs.controller == .real, !dvfs.domains.isEmpty else {
            throw HardwareError.dvfsRequest(reason: "no cpufreq DVFS to control on \(root): \(dvfs.note ?? "no policies")")
        }
        self.cpufreq = cpufreq
        self.options = options
        self.source = cpufreq.isServedByBoard ? .emulated : .real
        self.domains = dvfs.domains
        self.policyCPUs = try dvfs.domains.map { domain in
            try domain.cpus.first(where: { try cpufreq.hasPolicy(cpu: $0) }) ?? domain.cpus[0]
        }
    }

    public func enrollCurrentThread() throws {}

    /// Applies `frequency` to domain `domainIndex`; writes the journal first if this is the
    /// first change (or adopts the journal an earlier, finished run left for the same root). Verification never fails the change: a read-back that does not reach the
    /// request within the timeout comes back with `settled == false` and a warning.
    public func setFrequency(_ frequency: Frequency, forDomain domainIndex: Int) throws -> FrequencyChange {
        let domain = try validate(frequency, domainIndex: domainIndex)
        let cpu = policyCPUs[domainIndex]
        lock.lock()
        defer { lock.unlock() }
        try writeJournalIfNeeded()
        let start = MonotonicClock.nowNs()
        let useSetspeed = try domain.governors.contains("userspace") && cpufreq.hasSetspeed(cpu: cpu)
        if useSetspeed {
            let policy = try cpufreq.policy(cpu: cpu)
            if frequency.kHz < policy.minKHz || frequency.kHz > policy.maxKHz,
               let low = domain.hardwareMinKHz, let high = domain.hardwareMaxKHz {
                try cpufreq.setLimits(minKHz: low, maxKHz: high, cpu: cpu)
            }
            try cpufreq.setSpeed(frequency.kHz, cpu: cpu)
        } else {
            try cpufreq.setLimits(minKHz: frequency.kHz, maxKHz: frequency.kHz, cpu: cpu)
        }
        return try verify(frequency, domain: domain, cpu: cpu, startNs: start)
    }

    /// `scaling_cur_freq` of the domain's policy CPU (the driver's view, which a thermal cap
    /// lowers), or nil when it cannot be read.
    public func deliveredKHz(forDomain domainIndex: Int) -> Int? {
        guard policyCPUs.indices.contains(domainIndex) else { return nil }
        return (try? cpufreq.currentKHz(cpu: policyCPUs[domainIndex])) ?? nil
    }

    /// Puts back every domain's journalled governor and limits and deletes the journal.
    /// Does nothing if this controller has changed nothing.
    public func restore() throws {
        lock.lock()
        defer { lock.unlock() }
        try restoreInLock()
    }

    /// The signal-time restore: waits at most `lockWaitNs` for a change in flight (bounded by
    /// the settle timeout), else replays the journal file, which is written before the first
    /// change, without the lock.
    public func restoreAfterInterrupt(lockWaitNs: Nanoseconds) throws {
        if lock.lock(before: Date(timeIntervalSinceNow: max(0, lockWaitNs.seconds))) {
            defer { lock.unlock() }
            try restoreInLock()
            return
        }
        _ = try Self.restore(journalAt: options.journalPath, root: root, force: true)
    }

    private func restoreInLock() throws {
        guard let journal else { return }
        _ = try Self.apply(journal, with: cpufreq)
        try DVFSJournal.remove(at: options.journalPath)
        self.journal = nil
    }

    /// Restores the state journalled at `journalPath` (after a crash or SIGKILL).
    ///
    /// - Parameters:
    ///   - root: the root to restore on; nil means the one recorded in the journal. A root that
    ///     differs from the journal's is refused.
    ///   - force: restore even though the process that wrote the journal still runs.
    /// - Returns: nil when there is no journal (nothing to do).
    public static func restore(journalAt journalPath: String, root: SysfsRoot? = nil, force: Bool = false) throws -> RestoreReport? {
        guard let journal = try DVFSJournal.load(from: journalPath) else { return nil }
        if let root, root != journal.root {
            throw HardwareError.dvfsJournal(path: journalPath, reason: "records the state of \(journal.root), not \(root) (run restore with --sysfs-root \(journal.sysfsRoot), or without it)")
        }
        if journal.writerIsAlive && !force {
            throw HardwareError.dvfsJournal(path: journalPath, reason: "belongs to gearbox pid \(journal.pid), which is still running (stop it, or pass --force)")
        }
        let cpufreq = try Cpufreq(root: journal.root)
        let lines = try apply(journal, with: cpufreq)
        try DVFSJournal.remove(at: journalPath)
        return RestoreReport(journalPath: journalPath, root: journal.root, lines: lines)
    }

    // MARK: Private

    private func validate(_ frequency: Frequency, domainIndex: Int) throws -> DeviceDescription.Domain {
        guard domains.indices.contains(domainIndex) else {
            throw HardwareError.dvfsRequest(reason: "no DVFS domain \(domainIndex) (domains are 0…\(domains.count - 1))")
        }
        let domain = domains[domainIndex]
        if !domain.availableKHz.isEmpty {
            guard domain.availableKHz.contains(frequency.kHz) else {
                throw HardwareError.dvfsRequest(reason: "\(frequency.kHz) kHz is not a frequency of domain \(domainIndex) (it offers \(domain.availableKHz.map(String.init).joined(separator: ", ")) kHz)")
            }
        } else {
            let low = domain.hardwareMinKHz ?? domain.gridKHz.first ?? domain.minKHz
            let high = domain.hardwareMaxKHz ?? domain.gridKHz.last ?? domain.maxKHz
            guard (low...high).contains(frequency.kHz) else {
                throw HardwareError.dvfsRequest(reason: "\(frequency.kHz) kHz is outside domain \(domainIndex)'s range \(low)–\(high) kHz")
            }
        }
        return domain
    }

    private func writeJournalIfNeeded() throws {
        guard journal == nil else { return }
        if let existing = try DVFSJournal.load(from: options.journalPath) {
            guard existing.root == cpufreq.root else {
                throw HardwareError.dvfsJournal(path: options.journalPath, reason: "holds unrestored DVFS state of \(existing.root) from gearbox pid \(existing.pid); run `gearbox dvfs restore` first")
            }
            guard !existing.writerIsAlive else {
                throw HardwareError.dvfsJournal(path: options.journalPath, reason: "belongs to gearbox pid \(existing.pid), which is still changing DVFS (one gearbox at a time)")
            }
            // An earlier run (`dvfs set`, or a crash) left the state from before any Gearbox
            // change: keep that as the state to restore, never today's modified one.
            journal = existing
            return
        }
        var states: [DVFSJournal.DomainState] = []
        var files: [String: Data] = [:]
        for (index, domain) in domains.enumerated() {
            let cpu = policyCPUs[index]
            let policy = try cpufreq.policy(cpu: cpu)
            states.append(.init(cpus: domain.cpus, policyCPU: cpu, governor: policy.governor, minKHz: policy.minKHz, maxKHz: policy.maxKHz))
            if cpufreq.isDump {
                for file in Self.writableFiles {
                    let relative = "cpu\(cpu)/cpufreq/\(file)"
                    if let data = try cpufreq.rawContents(relative) { files[relative] = data }
                }
            }
        }
        let journal = DVFSJournal(pid: getpid(), sysfsRoot: cpufreq.root, domains: states, dumpFiles: cpufreq.isDump ? files : nil)
        try journal.write(to: options.journalPath)
        self.journal = journal
    }

    /// The files a change may write (and a dump restore puts back byte for byte).
    private static let writableFiles = ["scaling_governor", "scaling_min_freq", "scaling_max_freq", "scaling_setspeed"]

    /// Restores every domain in `journal`, trying all of them before reporting the first failure.
    private static func apply(_ journal: DVFSJournal, with cpufreq: Cpufreq) throws -> [String] {
        var lines: [String] = []
        var firstError: Error?
        for state in journal.domains {
            do {
                try cpufreq.setLimits(minKHz: state.minKHz, maxKHz: state.maxKHz, cpu: state.policyCPU)
                if try cpufreq.policy(cpu: state.policyCPU).governor != state.governor {
                    try cpufreq.setGovernor(state.governor, cpu: state.policyCPU)
                }
                lines.append("CPUs \(CPUSet(state.cpus).listString): governor \(state.governor), limits \(state.minKHz)–\(state.maxKHz) kHz")
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if cpufreq.isDump, let files = journal.dumpFiles {
            for (relative, data) in files.sorted(by: { $0.key < $1.key }) {
                do { try cpufreq.writeRawContents(data, to: relative) } catch { if firstError == nil { firstError = error } }
            }
        }
        if let firstError { throw firstError }
        return lines
    }

    private func verify(_ frequency: Frequency, domain: DeviceDescription.Domain, cpu: Int, startNs: UInt64) throws -> FrequencyChange {
        let maxKHz = Double(domain.hardwareMaxKHz ?? domain.maxKHz)
        func change(applied: Int, settleNs: Nanoseconds, settled: Bool?, warning: String?) -> FrequencyChange {
            FrequencyChange(requestedKHz: frequency.kHz, appliedKHz: applied, speedRatio: Double(applied) / maxKHz,
                            settleNs: settleNs, source: source, settled: settled, warning: warning)
        }
        guard options.verify else {
            return change(applied: frequency.kHz, settleNs: .zero, settled: nil, warning: "read-back not verified (--no-verify)")
        }
        if cpufreq.isDump && !cpufreq.isServedByBoard {
            let readBack = try cpufreq.currentKHz(cpu: cpu)
            return change(applied: readBack ?? frequency.kHz, settleNs: .zero, settled: false,
                          warning: "did not settle: on a sysfs dump scaling_cur_freq does not follow writes (reads \(readBack.map { "\($0) kHz" } ?? "nothing"))")
        }
        let tolerance = Double(frequency.kHz) * options.settleToleranceFraction
        var last: Int?
        while true {
            let elapsed = MonotonicClock.elapsed(since: startNs)
            last = try cpufreq.currentKHz(cpu: cpu)
            if let value = last, abs(Double(value - frequency.kHz)) <= tolerance {
                return change(applied: value, settleNs: elapsed, settled: true, warning: nil)
            }
            if elapsed >= options.settleTimeoutNs { break }
            usleep(1000)
        }
        let waitedMs = Int(options.settleTimeoutNs.milliseconds)
        return change(applied: last ?? frequency.kHz, settleNs: options.settleTimeoutNs, settled: false,
                      warning: "did not settle: read back \(last.map { "\($0) kHz" } ?? "nothing") after \(waitedMs) ms, asked for \(frequency.kHz) kHz")
    }
}
