// GearboxHardware/EmulatedFrequencyController: DVFS for machines without cpufreq. Enrolled
// threads run in the controller's own child cgroup whose CPU bandwidth is throttled to f/fmax;
// every step is calibrated by timing a spin workload, and the measured speed (not the requested
// one) is what `FrequencyChange.speedRatio` reports. The cgroup is removed on restore.
//
// Why a 63 ms period (the measurements are in docs/measurements.md, the reasoning in
// docs/emulation.md): the kernel charges the quota at scheduler ticks (4 ms at HZ=250), so
// periods shorter than 8 ms overshoot the requested slow-down; every throttle gap lets other work
// evict the thread's caches, so fewer, longer periods cost fewer refills; and a period that is a
// multiple of the tick locks the tick to one point of every period, so a variant can keep one
// on/off pattern for a whole cell. 63 ms is not a multiple of any common tick (4, 10, 3.3 or
// 1 ms). The measuring code yields after each inference (the kernel then charges the quota at
// that boundary) and averages over windows of whole periods (`GearboxProfiler.SampleWindow`),
// which keeps the period's coarse on/off pattern out of the samples. A SCHED_IDLE spinner fills
// the gaps (`GapFiller`, `Options.fillGaps`) so the host does not give the idle vCPU's core away.
// Calibration times with wall time only (`MonotonicClock`): reading CLOCK_THREAD_CPUTIME_ID
// between jobs weakens the throttle.

import Foundation
import GearboxCore
import CGearboxShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// DVFS emulated by cgroup CPU-bandwidth throttling, labelled `emulated`.
public final class EmulatedFrequencyController: FrequencyController, @unchecked Sendable {
    /// How the emulation is set up and calibrated.
    public struct Options: Sendable {
        /// The fmax the emulation stands for (reported as emulated, never as a real clock).
        public var maxKHz: Int
        /// The grid to offer; nil gives `gridSteps` fractions of `maxKHz`.
        public var gridKHz: [Int]?
        public var gridSteps: Int
        /// The CFS bandwidth period (see the measurements at the top of this file).
        public var periodUs: Int
        /// Spin work in each of the three throttled calibration trials, at least, in ns of
        /// unthrottled CPU time (a trial runs on to the end of a throttle gap).
        public var calibrationWorkNs: Nanoseconds
        /// Re-adjust the quota (up to twice) when a step's measured speed is off by more than
        /// `calibrationTolerance`. Off by default: at an 8 ms period the plain quota is already
        /// exact on average, and on a loaded machine the correction chases noise (measured: it
        /// turned a 2.0× step into 1.7× after one preempted calibration run).
        public var correctQuota: Bool
        public var calibrationTolerance: Double
        /// Give the throttled cgroup the highest CPU weight, so that other load on the machine
        /// does not slow the measured thread beyond the emulated frequency.
        public var boostWeight: Bool
        /// Keep the throttled threads' CPUs busy in the throttle gaps with SCHED_IDLE spinners
        /// (see `GapFiller`), so that an idle vCPU does not hand its core to the host.
        public var fillGaps: Bool

        public init(
            maxKHz: Int = DVFSInventory.defaultEmulatedMaxKHz, gridKHz: [Int]? = nil, gridSteps: Int = 8,
            periodUs: Int = 63_000, calibrationWorkNs: Nanoseconds = Nanoseconds(milliseconds: 64), correctQuota: Bool = false,
            calibrationTolerance: Double = 0.05, boostWeight: Bool = true, fillGaps: Bool = true
        ) {
            self.maxKHz = maxKHz; self.gridKHz = gridKHz; self.gridSteps = gridSteps; self.periodUs = periodUs
            self.calibrationWorkNs = calibrationWorkNs; self.correctQuota = correctQuota
            self.calibrationTolerance = calibrationTolerance; self.boostWeight = boostWeight; self.fillGaps = fillGaps
        }

        /// How the emulated steps are made, for the provenance: the throttle's period and whether
        /// its gaps are filled (see `GapFiller`).
        public var methodNote: String {
            "emulated DVFS: CPU-bandwidth throttle with a \(periodUs) µs period, gaps "
                + (fillGaps ? "filled by a SCHED_IDLE spinner on the measuring CPU" : "left idle (--idle-gaps)")
        }
    }

    /// Options that emulate `device`'s fastest DVFS domain: its grid and its maximum as fmax.
    /// Falls back to the defaults when the device has no domains.
    public static func options(emulating device: DeviceDescription, base: Options = Options()) -> Options {
        var options = base
        guard let fastest = device.dvfs.domains.max(by: { ($0.gridKHz.last ?? $0.maxKHz) < ($1.gridKHz.last ?? $1.maxKHz) }) else {
            return options
        }
        options.maxKHz = fastest.gridKHz.last ?? fastest.maxKHz
        options.gridKHz = fastest.gridKHz
        return options
    }

    /// One emulated step's calibration: what was asked and what the spin workload measured.
    public struct Calibration: Codable, Equatable, Sendable {
        public var requestedKHz: Int
        /// f / fmax.
        public var requestedRatio: Double
        /// Unthrottled wall time / throttled wall time of the same spin work.
        public var measuredRatio: Double
        public var periodUs: Int
        /// Quota per enrolled thread, µs per period (-1: unthrottled).
        public var quotaUs: Int
        /// Quota re-adjustments made to bring the measured ratio towards the requested one.
        public var corrections: Int
        /// Unthrottled CPU time of the spin work measured, ns.
        public var workNs: Nanoseconds
        /// When the spin workload measured this step (ISO 8601); nil in files written before
        /// calibrations were kept. A reused step keeps the date it was measured.
        public var measuredAt: String?
    }

    public let source = MeasurementSource.emulated
    public let domains: [DeviceDescription.Domain]
    public let options: Options
    /// The controller's own cgroup.
    public let cgroupDirectory: String
    public let bandwidth: CgroupCPUBandwidth
    /// Spinners for the throttle gaps (`Options.fillGaps`).
    private let filler: GapFiller?

    private let lock = NSLock()
    private var calibrations: [Int: Calibration] = [:]
    private var adopted: Set<Int> = []
    /// Enrolled thread ids and the cgroup each came from (v1 `tasks` files to move them back to).
    private var enrolled: [pid_t: String] = [:]
    private var currentQuotaPerThreadUs = -1
    private var currentPeriodUs: Int
    private var removed = false
    /// Set by the signal-time restore, without the lock: from then on no cgroup write of the
    /// interrupted work (a calibration, a change) may throttle again.
    private let interrupted = Atomic<Bool>(false)

    /// Creates the controller's cgroup `gearbox-<pid>-<suffix>` under this process's own cgroup.
    /// - Throws: `HardwareError.cgroup` / `.permissionDenied` when no cpu controller is writable.
    public init(options: Options = Options()) throws {
        let bandwidth: CgroupCPUBandwidth
        switch CgroupCPUBandwidth.detect() {
        case let .success(found): bandwidth = found
        case let .failure(unavailable): throw HardwareError.cgroup(path: "/sys/fs/cgroup", reason: unavailable.reason)
        }
        let grid = (options.gridKHz?.sorted()).flatMap { $0.isEmpty ? nil : $0 }
            ?? FrequencyGrid.fractions(ofMaxKHz: options.maxKHz, steps: options.gridSteps)
        var domain = DVFSInventory.emulatedDomain(cpus: Self.onlineCPUs(), maxKHz: options.maxKHz, steps: options.gridSteps)
        domain.gridKHz = grid
        domain.minKHz = grid.first ?? options.maxKHz
        self.domains = [domain]
        self.options = options
        self.bandwidth = bandwidth
        self.currentPeriodUs = options.periodUs
        let home = bandwidth.parentDirectory, tasks = bandwidth.version == .v1 ? "tasks" : "cgroup.threads"
        self.filler = options.fillGaps ? GapFiller { tid in try? bandwidth.write(String(tid), to: tasks, in: home) } : nil
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let directory = bandwidth.parentDirectory + "/gearbox-\(getpid())-\(suffix)"
        self.cgroupDirectory = directory
        guard mkdir(directory, 0o755) == 0 else { throw CgroupCPUBandwidth.error(path: directory, errno: errno) }
        do {
            if bandwidth.version == .v2 { try prepareThreadedV2() }
            if options.boostWeight {
                try bandwidth.version == .v1
                    ? bandwidth.write("262144", to: "cpu.shares", in: directory)
                    : bandwidth.write("10000", to: "cpu.weight", in: directory)
            }
            try applyQuota(perThreadUs: -1, periodUs: options.periodUs, threads: 1)
        } catch {
            rmdir(directory)
            throw error
        }
    }

    deinit { try? restore() }

    /// Moves the calling OS thread into the throttled cgroup. Call it from each thread that does
    /// measured work (a dedicated thread, not a Swift concurrency pool thread).
    public func enrollCurrentThread() throws {
        lock.lock()
        defer { lock.unlock() }
        try checkNotInterrupted()
        filler?.cover(Self.currentThreadCPUs())
        try enrollInLock(gearbox_gettid())
        // More threads share the group quota: re-apply it per thread.
        try applyQuota(perThreadUs: currentQuotaPerThreadUs, periodUs: currentPeriodUs, threads: try liveThreadCount())
    }

    /// Throttles to `frequency`/fmax, calibrating that step on first use, and reports the
    /// measured speed ratio.
    public func setFrequency(_ frequency: Frequency, forDomain domainIndex: Int) throws -> FrequencyChange {
        guard domainIndex == 0 else {
            throw HardwareError.dvfsRequest(reason: "no DVFS domain \(domainIndex) (the emulated controller has one domain, 0)")
        }
        guard frequency.kHz > 0, frequency.kHz <= options.maxKHz else {
            throw HardwareError.dvfsRequest(reason: "\(frequency.kHz) kHz is outside the emulated range 1–\(options.maxKHz) kHz")
        }
        lock.lock()
        defer { lock.unlock() }
        let start = MonotonicClock.nowNs()
        let calibration = try calibrations[frequency.kHz] ?? calibrateInLock(frequency)
        try applyQuota(perThreadUs: calibration.quotaUs, periodUs: calibration.periodUs, threads: try liveThreadCount())
        let requested = calibration.requestedRatio
        let drift = abs(calibration.measuredRatio / requested - 1)
        let warning = drift > options.calibrationTolerance
            ? String(format: "emulated speed measured %.3f of fmax, asked %.3f (calibration off by %.0f%%)", calibration.measuredRatio, requested, drift * 100)
            : nil
        return FrequencyChange(
            requestedKHz: frequency.kHz, appliedKHz: frequency.kHz, speedRatio: calibration.measuredRatio,
            settleNs: MonotonicClock.elapsed(since: start), source: .emulated, settled: true, warning: warning)
    }

    /// Calibrates `frequencies` (default: the whole grid) and returns them in order.
    public func calibrate(_ frequencies: [Frequency]? = nil) throws -> [Calibration] {
        lock.lock()
        defer { lock.unlock() }
        var results: [Calibration] = []
        for frequency in frequencies ?? domains[0].gridKHz.map(Frequency.init(kHz:)) {
            let result = try calibrations[frequency.kHz] ?? calibrateInLock(frequency)
            results.append(result)
        }
        try applyQuota(perThreadUs: currentQuotaPerThreadUs, periodUs: currentPeriodUs, threads: try liveThreadCount())
        return results
    }

    /// The calibrations made (or adopted) so far, by frequency.
    public var calibrationTable: [Calibration] {
        lock.lock()
        defer { lock.unlock() }
        return calibrations.values.sorted { $0.requestedKHz < $1.requestedKHz }
    }

    /// Why the throttle gaps could not be filled (see `Options.fillGaps`); empty when they are,
    /// or when filling is off.
    public var gapFillProblems: [String] { filler?.problems ?? [] }

    /// Its calibrations are worth keeping beside a lookup table (see ``EmulatedCalibrationFile``).
    public var keepsCalibrations: Bool { true }

    /// The throttle's period and whether its gaps are filled.
    public var methodNote: String? { options.methodNote }

    /// Kernel ids of the gap fillers running now (for tests and diagnostics).
    var gapFillerThreadIDs: [pid_t] { filler?.threadIDs ?? [] }

    /// Frequencies (kHz) whose calibration was adopted from an earlier run rather than measured by
    /// this controller.
    public var adoptedKHz: Set<Int> {
        lock.lock()
        defer { lock.unlock() }
        return adopted
    }

    /// Takes calibrations measured earlier on this machine with the same settings, so that
    /// ``setFrequency(_:forDomain:)`` and ``calibrate(_:)`` use them instead of spinning again.
    /// Steps already calibrated by this controller are kept. The caller checks that the
    /// calibrations come from this machine and these options (``EmulatedCalibrationFile``).
    /// - Returns: the frequencies adopted.
    @discardableResult
    public func adopt(_ earlier: [Calibration]) -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        var taken: [Int] = []
        for calibration in earlier where calibrations[calibration.requestedKHz] == nil {
            calibrations[calibration.requestedKHz] = calibration
            adopted.insert(calibration.requestedKHz)
            taken.append(calibration.requestedKHz)
        }
        return taken.sorted()
    }

    /// Lifts the throttle, moves enrolled threads back where they came from, and removes the
    /// cgroup. Idempotent.
    public func restore() throws {
        lock.lock()
        defer { lock.unlock() }
        try restoreInLock()
    }

    /// The signal-time restore. Calibrating a step holds the lock for seconds (and a whole grid
    /// for much longer), so this waits at most `lockWaitNs` for it and otherwise restores
    /// without it: it stops every further cgroup write of the interrupted work, lifts the quota,
    /// moves the threads still in the cgroup to this process's own cgroup and removes ours —
    /// plain file writes that take no lock.
    public func restoreAfterInterrupt(lockWaitNs: Nanoseconds) throws {
        interrupted.store(true, ordering: .sequentiallyConsistent)
        if lock.lock(before: Date(timeIntervalSinceNow: max(0, lockWaitNs.seconds))) {
            defer { lock.unlock() }
            try restoreInLock()
            return
        }
        try restoreWithoutLock()
    }

    private func restoreInLock() throws {
        guard !removed else { return }
        try? liftQuota()
        filler?.stop()
        for (tid, origin) in enrolled {
            // ESRCH (the thread has exited) is fine: it left the cgroup with it.
            try? bandwidth.write(String(tid), to: bandwidth.version == .v1 ? "tasks" : "cgroup.threads", in: origin)
        }
        enrolled.removeAll()
        for tid in residentThreads() {
            try? bandwidth.write(String(tid), to: bandwidth.version == .v1 ? "tasks" : "cgroup.threads", in: bandwidth.parentDirectory)
        }
        guard rmdir(cgroupDirectory) == 0 || errno == ENOENT else {
            throw CgroupCPUBandwidth.error(path: cgroupDirectory, errno: errno)
        }
        currentQuotaPerThreadUs = -1
        removed = true
    }

    /// Reads only immutable state and the cgroup's own files. A thread the interrupted work starts
    /// meanwhile is moved out on the next pass; after half a second it gives up and says so.
    private func restoreWithoutLock() throws {
        try? liftQuota()
        filler?.stop()
        let tasks = bandwidth.version == .v1 ? "tasks" : "cgroup.threads"
        for _ in 0..<50 {
            for tid in residentThreads() { try? bandwidth.write(String(tid), to: tasks, in: bandwidth.parentDirectory) }
            if rmdir(cgroupDirectory) == 0 || errno == ENOENT { return }
            usleep(10_000)
        }
        throw HardwareError.cgroup(path: cgroupDirectory, reason: "quota lifted, but threads stayed in it; `gearbox dvfs restore` removes it once this process has exited")
    }

    /// Unthrottles the group (no lock, no interrupted check: the restore paths use it).
    private func liftQuota() throws {
        filler?.setActive(false)
        switch bandwidth.version {
        case .v1: try bandwidth.write("-1", to: "cpu.cfs_quota_us", in: cgroupDirectory)
        case .v2: try bandwidth.write("max", to: "cpu.max", in: cgroupDirectory)
        }
    }

    /// Whether a signal-time restore has lifted the throttle (the work must not throttle again).
    private func checkNotInterrupted() throws {
        if interrupted.load(ordering: .sequentiallyConsistent) {
            throw HardwareError.cgroup(path: cgroupDirectory, reason: "interrupted: the throttle was lifted by the signal-time restore")
        }
    }

    /// Removes `gearbox-<pid>-*` cgroups left by processes that no longer exist (after a crash
    /// or SIGKILL). Returns the directories removed.
    @discardableResult
    public static func removeStaleCgroups() -> [String] {
        guard case let .success(bandwidth) = CgroupCPUBandwidth.detect() else { return [] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: bandwidth.parentDirectory)) ?? []
        var removed: [String] = []
        for entry in entries where entry.hasPrefix("gearbox-") {
            let fields = entry.split(separator: "-")
            guard fields.count >= 2, let pid = Int32(fields[1]), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let path = bandwidth.parentDirectory + "/" + entry
            if rmdir(path) == 0 { removed.append(path) }
        }
        return removed
    }

    /// The CFS period the throttle uses at `kHz`: the configured period, stretched for very low
    /// ratios so that the quota stays at the kernel's 1 ms minimum.
    public func throttlePeriodUs(forKHz kHz: Int) -> Int {
        let ratio = Double(kHz) / Double(options.maxKHz)
        guard ratio > 0, ratio < 1 else { return options.periodUs }
        return max(options.periodUs, Int((1000 / ratio).rounded(.up)))
    }

    /// A measurement window that averages over the throttle's on/off pattern at `kHz`: four
    /// periods (a single inference shorter than a period runs either at full speed or stalls).
    public func averagingWindowNs(forKHz kHz: Int) -> Nanoseconds {
        Nanoseconds(microseconds: Double(4 * throttlePeriodUs(forKHz: kHz)))
    }

    /// The period and idle gap at `kHz`, from its calibration when it has one (never nil).
    public func throttleShape(forKHz kHz: Int) -> ThrottleShape? {
        let calibration = calibrationTable.first { $0.requestedKHz == kHz }
        let periodUs = calibration?.periodUs ?? throttlePeriodUs(forKHz: kHz)
        let ratio = Double(kHz) / Double(options.maxKHz)
        let quotaUs = calibration?.quotaUs ?? (ratio >= 1 ? -1 : max(1000, Int((Double(periodUs) * ratio).rounded())))
        let gapUs = quotaUs < 0 ? 0 : max(0, periodUs - quotaUs)
        return ThrottleShape(periodNs: Nanoseconds(microseconds: Double(periodUs)), gapNs: Nanoseconds(microseconds: Double(gapUs)))
    }

    // MARK: Calibration

    private func calibrateInLock(_ frequency: Frequency) throws -> Calibration {
        let ratio = Double(frequency.kHz) / Double(options.maxKHz)
        guard ratio < 1 else {
            let result = Calibration(requestedKHz: frequency.kHz, requestedRatio: 1, measuredRatio: 1, periodUs: currentPeriodUs,
                                     quotaUs: -1, corrections: 0, workNs: .zero, measuredAt: nil)
            calibrations[frequency.kHz] = result
            return result
        }
        let periodUs = throttlePeriodUs(forKHz: frequency.kHz)
        var quotaUs = max(1000, Int((Double(periodUs) * ratio).rounded()))
        var best: Calibration?
        var corrections = 0
        while true {
            let measured = try measure(quotaUs: quotaUs, periodUs: periodUs)
            let candidate = Calibration(requestedKHz: frequency.kHz, requestedRatio: ratio, measuredRatio: measured.ratio,
                                        periodUs: periodUs, quotaUs: quotaUs, corrections: corrections, workNs: Nanoseconds(measured.workNs),
                                        measuredAt: ISO8601DateFormatter().string(from: Date()))
            if best.map({ abs($0.measuredRatio - ratio) > abs(candidate.measuredRatio - ratio) }) ?? true { best = candidate }
            let off = abs(measured.ratio / ratio - 1)
            guard options.correctQuota, off > options.calibrationTolerance, corrections < 2, measured.ratio > 0 else { break }
            let adjusted = Int((Double(quotaUs) * ratio / measured.ratio).rounded())
            let next = min(periodUs, max(1000, adjusted))
            if next == quotaUs { break }
            quotaUs = next
            corrections += 1
        }
        guard let best else { throw HardwareError.cgroup(path: cgroupDirectory, reason: "calibration measured nothing") }
        calibrations[frequency.kHz] = best
        return best
    }

    /// Times the same spin work unthrottled and throttled on a fresh thread in the cgroup, in
    /// three trials, and returns the median trial's speed ratio (one trial hit by a preempting
    /// task or hypervisor steal does not decide the calibration). The quota is for that one
    /// thread; the caller re-applies the measurement quota afterwards.
    private func measure(quotaUs: Int, periodUs: Int) throws -> (ratio: Double, workNs: Int) {
        // The throttled run spins in small chunks and yields after each, as the sampler does
        // between inferences, and is timed over whole periods: from the end of one throttle gap
        // to the end of a later one. A run timed from start to finish instead ends part-way
        // through a period without its idle tail, which biases it by about period·r(1−r)/W
        // (25% for W = 64 ms of work at a 63 ms period and r = 1/2).
        let trials = 3, referenceChunks = 16
        let chunkNs = 250_000
        let periodNs = UInt64(periodUs) * 1000
        let gapThresholdNs = UInt64(max(0, periodUs - quotaUs)) * 500
        return try onEnrolledThread { () throws -> (Double, Int) in
            // The gaps of the calibration are filled as the measurement's are (on its CPUs).
            self.filler?.cover(Self.currentThreadCPUs())
            try self.applyQuota(perThreadUs: -1, periodUs: periodUs, threads: 1)
            let iterations = SpinWorkload.iterations(forNs: chunkNs)
            func chunkTimes(_ count: Int) -> [UInt64] { (0..<count).map { _ in SpinWorkload.timeNs(iterations: iterations) } }
            func median(_ values: [UInt64]) -> UInt64 { values.sorted()[values.count / 2] }
            var ratios: [Double] = []
            var work: UInt64 = 0
            for _ in 0..<trials {
                let before = chunkTimes(referenceChunks)
                let reference = median(before)
                try self.applyQuota(perThreadUs: quotaUs, periodUs: periodUs, threads: 1)
                let minimumWorkNs = UInt64(self.options.calibrationWorkNs.wholeNanoseconds)
                let deadline = MonotonicClock.nowNs() + 4 * periodNs + minimumWorkNs * periodNs / UInt64(max(quotaUs, 1) * 1000) * 2
                var last = MonotonicClock.nowNs()
                var start: UInt64?
                var end: UInt64 = 0
                var chunks: UInt64 = 0
                while true {
                    SpinWorkload.consume(SpinWorkload.run(iterations: iterations, seed: last))
                    sched_yield()
                    let now = MonotonicClock.nowNs()
                    let hadGap = now &- last > reference + gapThresholdNs
                    last = now
                    if let start {
                        chunks += 1
                        end = now
                        if hadGap, chunks * reference >= minimumWorkNs { break }
                        // No gap seen in time (the quota is not biting): time what ran.
                        if now > deadline, now > start { break }
                    } else if hadGap || now > deadline {
                        start = now
                    }
                }
                try self.applyQuota(perThreadUs: -1, periodUs: periodUs, threads: 1)
                // Unthrottled chunks take the same time unless something interferes, so the
                // median of those before and after the throttled run is the clean reference.
                let unthrottled = Double(median(before + chunkTimes(referenceChunks)))
                let elapsed = Double(max(end &- (start ?? end), 1))
                ratios.append(Double(chunks) * unthrottled / elapsed)
                work += UInt64(Double(chunks) * unthrottled)
            }
            return (ratios.sorted()[trials / 2], Int(work))
        }
    }

    /// Runs `body` on a new OS thread enrolled in the cgroup. The thread moves itself back out
    /// before it reports: the quota that follows is sized by the threads resident in the
    /// cgroup, and a calibration thread still exiting there would double it.
    private func onEnrolledThread<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let tasksFile = bandwidth.version == .v1 ? "tasks" : "cgroup.threads"
        let thread = Thread { [self] in
            let tid = gearbox_gettid()
            let origin = Self.currentCgroupDirectory(of: tid, bandwidth: bandwidth)
            box.result = Result {
                try checkNotInterrupted()
                try bandwidth.write(String(tid), to: tasksFile, in: cgroupDirectory)
                defer { try? bandwidth.write(String(tid), to: tasksFile, in: origin) }
                return try body()
            }
            done.signal()
        }
        thread.name = "gearbox-emulated-dvfs-calibration"
        thread.start()
        done.wait()
        guard let result = box.result else { throw HardwareError.cgroup(path: cgroupDirectory, reason: "calibration thread did not report") }
        return try result.get()
    }

    // MARK: cgroup files

    private func enrollInLock(_ tid: pid_t) throws {
        try checkNotInterrupted()
        if enrolled[tid] == nil { enrolled[tid] = Self.currentCgroupDirectory(of: tid, bandwidth: bandwidth) }
        try bandwidth.write(String(tid), to: bandwidth.version == .v1 ? "tasks" : "cgroup.threads", in: cgroupDirectory)
    }

    /// Writes the group quota for `threads` threads each allowed `perThreadUs` per period.
    private func applyQuota(perThreadUs: Int, periodUs: Int, threads: Int) throws {
        try checkNotInterrupted()
        let groupQuota = perThreadUs < 0 ? -1 : perThreadUs * max(1, threads)
        switch bandwidth.version {
        case .v1:
            // Lift the quota before changing the period so no intermediate pair is rejected.
            try bandwidth.write("-1", to: "cpu.cfs_quota_us", in: cgroupDirectory)
            try bandwidth.write(String(periodUs), to: "cpu.cfs_period_us", in: cgroupDirectory)
            if groupQuota > 0 { try bandwidth.write(String(groupQuota), to: "cpu.cfs_quota_us", in: cgroupDirectory) }
        case .v2:
            try bandwidth.write((groupQuota > 0 ? String(groupQuota) : "max") + " \(periodUs)", to: "cpu.max", in: cgroupDirectory)
        }
        currentQuotaPerThreadUs = perThreadUs
        currentPeriodUs = periodUs
        filler?.setActive(groupQuota > 0)
    }

    /// Enrolled threads still alive (the quota is shared by the group).
    private func liveThreadCount() throws -> Int {
        max(1, residentThreads().count)
    }

    private func residentThreads() -> [pid_t] {
        let file = bandwidth.version == .v1 ? "tasks" : "cgroup.threads"
        return (bandwidth.read(file, in: cgroupDirectory) ?? "").split(whereSeparator: \.isNewline).compactMap { pid_t($0) }
    }

    /// cgroup v2 moves single threads only into a threaded child; this makes ours one and
    /// enables the cpu controller below our own cgroup (the one write outside our child, needed
    /// for any per-thread throttling on v2; without it this throws).
    private func prepareThreadedV2() throws {
        try bandwidth.write("threaded", to: "cgroup.type", in: cgroupDirectory)
        let enabled = bandwidth.read("cgroup.subtree_control", in: bandwidth.parentDirectory) ?? ""
        if !enabled.split(separator: " ").contains("cpu") {
            do { try bandwidth.write("+cpu", to: "cgroup.subtree_control", in: bandwidth.parentDirectory) } catch {
                throw HardwareError.cgroup(path: bandwidth.parentDirectory + "/cgroup.subtree_control",
                                           reason: "cannot enable the cpu controller for a threaded child (\(error)); run gearbox in a delegated cgroup, e.g. systemd-run --scope -p Delegate=yes")
            }
        }
    }

    private static func currentCgroupDirectory(of tid: pid_t, bandwidth: CgroupCPUBandwidth) -> String {
        let text = (try? String(contentsOfFile: "/proc/self/task/\(tid)/cgroup", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let matches = bandwidth.version == .v1 ? fields[1].split(separator: ",").contains("cpu") : fields[0] == "0"
            if matches {
                let base = bandwidth.version == .v1 ? "/sys/fs/cgroup/cpu" : "/sys/fs/cgroup"
                return base + (fields[2] == "/" ? "" : String(fields[2]))
            }
        }
        return bandwidth.parentDirectory
    }

    /// The CPUs the calling thread may run on.
    static func currentThreadCPUs() -> [Int] {
        var cpus = [Int32](repeating: 0, count: 1024)
        let count = gearbox_thread_cpus(&cpus, Int32(cpus.count))
        return count > 0 ? cpus.prefix(Int(count)).map(Int.init) : onlineCPUs()
    }

    private static func onlineCPUs() -> [Int] {
        let text = (try? String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)) ?? "0"
        var cpus: [Int] = []
        for part in text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2, bounds[0] <= bounds[1] { cpus += Array(bounds[0]...bounds[1]) } else if let one = bounds.first { cpus.append(one) }
        }
        return cpus.isEmpty ? [0] : cpus
    }
}

/// Carries a result from a dedicated thread back to the thread waiting for it.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
