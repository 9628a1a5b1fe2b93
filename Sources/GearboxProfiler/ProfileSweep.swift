// GearboxProfiler/ProfileSweep: the DVFS sweep. On one pinned OS thread (enrolled with the
// frequency controller): memory and switch costs at the top frequency, then every (frequency,
// variant) cell, frequencies in seeded random order, variants interleaved (seeded order per
// frequency); noisy cells retried at the end. Each cell is written to the sample database and the
// checkpoint before the next starts, so a killed sweep resumes losing at most one cell. The
// controller is restored on every exit path.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxPortfolio
import GearboxRuntime

/// What a sweep measures with.
public struct SweepEnvironment {
    public var controller: FrequencyController
    /// Makes a fresh backend (switch-cost and memory meters need empty ones).
    public var makeBackend: () -> VariantBackend
    public var clock: LatencyClock
    /// Set for simulated sweeps: the runners' virtual machine.
    public var simulation: SimulationState?
    /// Makes the counter group, on the measuring thread.
    public var makeCounters: () -> CellCounters
    public var thermal: ThermalSensor
    public var binder: ThreadBinder
    /// The device description, when one was given (governors, limits, CPU kinds for provenance).
    public var device: DeviceDescription?
    /// Probes the shared cache after each cell (real and emulated sweeps); nil: not probed.
    public var cacheProbe: SharedCacheProbe?
    /// The power or energy sensor each cell's energy is read from; nil: none (no energy figures).
    public var energy: EnergySource?

    public init(controller: FrequencyController, makeBackend: @escaping () -> VariantBackend, clock: LatencyClock,
                simulation: SimulationState? = nil, makeCounters: @escaping () -> CellCounters, thermal: ThermalSensor,
                binder: ThreadBinder, device: DeviceDescription? = nil, cacheProbe: SharedCacheProbe? = nil,
                energy: EnergySource? = nil) {
        self.controller = controller; self.makeBackend = makeBackend; self.clock = clock; self.simulation = simulation
        self.makeCounters = makeCounters; self.thermal = thermal; self.binder = binder; self.device = device
        self.cacheProbe = cacheProbe; self.energy = energy
    }
}

/// Where a sweep writes: the LUT, the sample database beside it, and the checkpoint.
public struct SweepPaths: Equatable, Sendable {
    public var lut: String
    public var samples: String
    public var checkpoint: String

    /// `X.lut.json` → `X.samples.sqlite` and `X.checkpoint.json` beside it.
    public init(lut: String) {
        self.lut = lut
        let stem = lut.hasSuffix(".lut.json") ? String(lut.dropLast(".lut.json".count))
            : lut.hasSuffix(".json") ? String(lut.dropLast(".json".count)) : lut
        samples = stem + ".samples.sqlite"
        checkpoint = stem + ".checkpoint.json"
    }
}

/// What a sweep reports while it runs.
public enum SweepEvent {
    case phase(String)
    case frequencySet(kHz: Int, change: FrequencyChange, verified: Bool)
    case switchPair(done: Int, total: Int)
    case cell(CellRecord, done: Int, total: Int, etaSeconds: Double?)
    case note(String)
}

public struct SweepOptions {
    /// Continue the checkpoint at `paths.checkpoint` instead of starting over.
    public var resume: Bool
    /// Stop (throwing `stoppedEarly`) after this many cells measured in this run: a test's stand-in for a kill.
    public var stopAfterCells: Int?
    public var progress: (SweepEvent) -> Void
    public init(resume: Bool = false, stopAfterCells: Int? = nil, progress: @escaping (SweepEvent) -> Void = { _ in }) {
        self.resume = resume; self.stopAfterCells = stopAfterCells; self.progress = progress
    }
}

/// The outcome of a finished sweep.
public struct SweepResult {
    public var lut: LookupTable
    public var paths: SweepPaths
    /// Cells measured in this run (a resumed run measures only the missing ones).
    public var cellsMeasured: Int
    public var cellsFromCheckpoint: Int
    public var checkpoint: SweepCheckpoint
    /// How much of the sweep ran slowed from outside the measuring thread (emulated sweeps).
    public var hostContention: HostContention?
    /// Which phase of the shared cache the cells ran in (real and emulated sweeps).
    public var sharedCache: SharedCacheState?
}

/// One DVFS sweep of one portfolio.
public final class ProfileSweep {
    public let portfolio: Portfolio
    public let configuration: SweepConfiguration
    public let environment: SweepEnvironment
    public let paths: SweepPaths
    /// Set once a cool-down ran its whole budget and the device stayed hot (a board at a hot
    /// ambient cannot get below its trip): later cells and retries no longer wait, since every
    /// wait would cost the same budget again for nothing (at 85 °C ambient, 120 s per cell).
    private var coolingGaveUpAtMilliCelsius: Int?
    private var coolingNoteWritten = false

    public init(portfolio: Portfolio, configuration: SweepConfiguration, environment: SweepEnvironment, paths: SweepPaths) {
        self.portfolio = portfolio; self.configuration = configuration; self.environment = environment; self.paths = paths
    }

    /// Runs the sweep on a dedicated pinned OS thread; returns when the LUT is written.
    public func run(options: SweepOptions = SweepOptions()) throws -> SweepResult {
        try MeasuringThread.run { try self.runOnMeasuringThread(options) }
    }

    // MARK: - The sweep body (measuring thread)

    private func runOnMeasuringThread(_ options: SweepOptions) throws -> SweepResult {
        let env = environment
        let placement = try env.binder.bindCurrentThread(configuration.pin)
        try env.controller.enrollCurrentThread()
        defer { try? env.controller.restore() }

        let checkpoint = try startOrResume(options.resume)
        do {
            return try measure(from: checkpoint, placement: placement, options)
        } catch {
            // Without a checkpoint nothing can be resumed: take the sample database this run
            // created away rather than leave a partial (or 0-byte) one.
            if !FileManager.default.fileExists(atPath: paths.checkpoint) { SampleStore.remove(at: paths.samples) }
            throw error
        }
    }

    private func measure(from start: SweepCheckpoint, placement: Placement, _ options: SweepOptions) throws -> SweepResult {
        let env = environment
        var checkpoint = start
        let fromCheckpoint = checkpoint.cells.count
        if checkpoint.placement == nil { checkpoint.placement = placement }
        let store = try SampleStore(path: paths.samples)
        try store.deleteCells(notIn: Set(checkpoint.cells.map(\.key)))
        try store.setMeta("configuration", configuration)
        try store.setMeta("clock", checkpoint.clock)
        try store.setMeta("provenance", provenance(checkpoint))
        try store.setMeta("placement", placement)
        try save(checkpoint)

        let maxKHz = configuration.gridKHz.max() ?? configuration.frequenciesKHz.max() ?? 1
        if configuration.measureMemory && checkpoint.memory == nil {
            options.progress(.phase("memory per variant and for the whole portfolio"))
            _ = try setFrequency(maxKHz, maxKHz: maxKHz, options)
            let meter = MemoryMeter(portfolio: portfolio, makeBackend: env.makeBackend, measureRSS: !env.clock.isVirtual)
            let memory = try meter.measure()
            checkpoint.memory = memory
            try store.record(memory: memory)
            try save(checkpoint)
        }
        if configuration.measureSwitchCosts && checkpoint.switchCosts == nil {
            options.progress(.phase("switch-cost matrix (\(portfolio.variants.count * (portfolio.variants.count - 1)) ordered pairs)"))
            _ = try setFrequency(maxKHz, maxKHz: maxKHz, options)
            let meter = SwitchCostMeter(
                portfolio: portfolio, makeBackend: env.makeBackend, clock: env.clock,
                repetitions: configuration.switchRepetitions, source: env.controller.source,
                dropPageCache: !env.clock.isVirtual, simulation: env.simulation)
            let costs = try meter.measure { done, total in options.progress(.switchPair(done: done, total: total)) }
            checkpoint.switchCosts = costs
            try store.record(switchCosts: costs)
            try save(checkpoint)
        }

        options.progress(.phase("latency cells"))
        let backend = env.makeBackend()
        var runners: [String: VariantRunner] = [:]
        for variant in portfolio.variants { runners[variant.name] = try backend.load(variant, from: portfolio) }
        let counters = env.makeCounters()
        let domainIndex = configuration.domainIndex
        let monitor = CellMonitor(
            energy: env.energy, thermal: env.thermal,
            delivered: { [controller = env.controller] in controller.deliveredKHz(forDomain: domainIndex) }, clock: env.clock)
        if checkpoint.energySensor == nil, let energy = env.energy { checkpoint.energySensor = energy.summary }
        var measured = 0
        var done = Set(checkpoint.cells.map(\.key))
        let visits = configuration.visitCount
        let total = checkpoint.frequencyOrderKHz.count * portfolio.variants.count * visits
        let wallStart = Date()

        @discardableResult
        func measureAndSave(kHz: Int, change: FrequencyChange, verified: Bool, variant: String, attempt: Int, visit: Int,
                            coolDownNs: Nanoseconds? = nil) throws -> CellRecord? {
            guard let runner = runners[variant] else { return nil }
            var (record, sampling) = try measureCell(
                kHz: kHz, change: change, verified: verified, runner: runner, attempt: attempt, visit: visit, counters: counters,
                monitor: monitor)
            record.coolDownNs = coolDownNs
            if let hottest = coolingGaveUpAtMilliCelsius, !coolingNoteWritten {
                coolingNoteWritten = true
                let note = "the device stayed at \(Double(hottest) / 1000) °C after \(String(format: "%g", configuration.thermal.maxPauseNs.seconds)) s of cool-down; later cells and throttled retries did not wait (cells say when they were hot or throttled)"
                checkpoint.notes.append(note)
                options.progress(.note(note))
            }
            try store.record(record, samplesNs: sampling.samplesNs, windowQuartilesNs: sampling.windowQuartilesNs,
                             interfered: sampling.interfered)
            checkpoint.cells.append(record)
            // Noisy retries count against their budget; throttled cells' retries do not.
            if attempt > 0 && coolDownNs == nil {
                checkpoint.retriedKeys.append(CellRecord.key(kHz: kHz, variant: variant, threads: configuration.threads,
                                                             pin: configuration.pin.description, attempt: 0, visit: visit))
            }
            try save(checkpoint)
            done.insert(record.key)
            measured += 1
            let finished = checkpoint.cells.filter { $0.attempt == 0 }.count
            let perCell = Date().timeIntervalSince(wallStart) / Double(measured)
            options.progress(.cell(record, done: finished, total: total, etaSeconds: perCell * Double(total - finished)))
            if let limit = options.stopAfterCells, measured >= limit {
                throw ProfilerError.stoppedEarly(completedCells: checkpoint.cells.count, checkpoint: paths.checkpoint)
            }
            return record
        }

        /// A throttled first attempt is measured again after the board has cooled down (at the
        /// domain's lowest frequency, bounded by the thermal guard's longest pause); the LUT keeps
        /// an unthrottled attempt where there is one.
        func retryThrottled(_ cell: CellRecord) throws {
            options.progress(.note("\(cell.kHz) kHz \(cell.variant): throttled (\(cell.throttleReason ?? "")); cooling down and measuring again"))
            let cooled = try coolDown(minKHz: configuration.gridKHz.min() ?? cell.kHz, maxKHz: maxKHz, options)
            let (change, verified) = try setFrequency(cell.kHz, maxKHz: maxKHz, options)
            let retry = try measureAndSave(kHz: cell.kHz, change: change, verified: verified, variant: cell.variant,
                                           attempt: cell.attempt + 1, visit: cell.visit ?? 1, coolDownNs: cooled)
            if let retry, retry.throttled {
                options.progress(.note("\(cell.kHz) kHz \(cell.variant): still throttled after \(String(format: "%.1f", cooled.seconds)) s of cool-down (\(retry.throttleReason ?? "")); the cell says so"))
            }
        }
        func needsThrottleRetry(_ cell: CellRecord) -> Bool {
            cell.attempt == 0 && cell.throttled
                && !checkpoint.cells.contains { $0.attempt > 0 && $0.visitKey == cell.visitKey }
        }

        // Every cell once per visit; each visit in its own seeded order, so a cell's visits fall
        // at different points of the sweep (and of the host's slow phases).
        for visit in 1...visits {
            for kHz in frequencyOrder(visit: visit, first: checkpoint.frequencyOrderKHz) {
                let pending = variantOrder(kHz: kHz, visit: visit).filter {
                    !done.contains(CellRecord.key(kHz: kHz, variant: $0, threads: configuration.threads,
                                                  pin: configuration.pin.description, attempt: 0, visit: visit))
                }
                guard !pending.isEmpty else { continue }
                var (change, verified) = try setFrequency(kHz, maxKHz: maxKHz, options)
                for variant in pending {
                    guard let cell = try measureAndSave(kHz: kHz, change: change, verified: verified, variant: variant,
                                                        attempt: 0, visit: visit),
                          needsThrottleRetry(cell) else { continue }
                    try retryThrottled(cell)
                    (change, verified) = try setFrequency(kHz, maxKHz: maxKHz, options)
                }
            }
        }
        // Throttled cells whose retry a kill interrupted (a resumed sweep) get it now.
        for cell in checkpoint.cells where needsThrottleRetry(cell) { try retryThrottled(cell) }

        // Noisy cells, and cells off their variant's frequency model, get one more try at the end,
        // when conditions may have changed: model outliers first (furthest first), then the
        // noisiest, at most `maxRetryFraction` of the cells (on a machine that is noisy throughout,
        // retrying everything would double the sweep and change nothing).
        let retryBudget = Int((Double(total) * configuration.maxRetryFraction).rounded(.down)) - checkpoint.retriedKeys.count
        let firstAttempts = checkpoint.cells.filter { $0.attempt == 0 && !checkpoint.retriedKeys.contains($0.key) }
        let retriedAlready = Set(checkpoint.cells.filter { $0.attempt > 0 || $0.throttled }.map(\.visitKey))
        let outliers = LookupTableBuilder.modelOutliers(
            checkpoint.cells.filter { $0.attempt == 0 }, maxKHz: configuration.gridKHz.max() ?? maxKHz
        ).map(\.cell).filter { cell in firstAttempts.contains { $0.key == cell.key } }
        let noisiest = firstAttempts.filter(\.noisy).sorted { $0.latency.cv > $1.latency.cv }
        var retry: [CellRecord] = []
        for cell in outliers + noisiest where !retry.contains(where: { $0.key == cell.key })
            && !retriedAlready.contains(cell.visitKey) {
            retry.append(cell)
        }
        retry = Array(retry.prefix(Swift.max(0, retryBudget)))
        if !retry.isEmpty {
            let flagged = checkpoint.cells.filter { $0.attempt == 0 && $0.noisy }.count
            options.progress(.phase("retrying \(retry.count) cell(s): \(outliers.count) off their variant's t(f) = a + b/f by more than \(Int(LookupTableBuilder.modelOutlierTolerance * 100))%, \(flagged) noisy (CV > \(configuration.noisyCV))"))
            for kHz in checkpoint.frequencyOrderKHz {
                let here = retry.filter { $0.kHz == kHz }
                guard !here.isEmpty else { continue }
                let (change, verified) = try setFrequency(kHz, maxKHz: maxKHz, options)
                for cell in here {
                    try measureAndSave(kHz: kHz, change: change, verified: verified, variant: cell.variant, attempt: 1,
                                       visit: cell.visit ?? 1)
                }
            }
        }
        runners.removeAll()
        backend.releaseAll()
        try env.controller.restore()

        for problem in env.controller.gapFillProblems {
            checkpoint.notes.append(problem + "; those gaps stayed idle")
            options.progress(.note(problem))
        }
        // How quiet the machine was (emulated sweeps): a figure for the provenance, and a warning
        // when reruns cannot be expected to agree.
        let formats = Dictionary(portfolio.variants.map { ($0.name, $0.format.rawValue) }, uniquingKeysWith: { a, _ in a })
        let contention = try HostContention.read(from: store, formatOf: { formats[$0] ?? "unknown" },
                                                 tolerance: Self.interferenceTolerance)
        if let contention {
            try store.setMeta("hostContention", contention)
            checkpoint.notes.append("host contention: \(contention.summary)")
            if contention.total.fraction > Self.contentionWarning {
                options.progress(.note("something outside this thread slowed the inferences of \(contention.summary): on this machine two sweeps will not agree within a few percent"))
            }
        }
        // Which phase of the host's shared cache the cells ran in (see `SharedCacheProbe`).
        let sharedCache = SharedCacheState(cells: checkpoint.cells, probeBytes: env.cacheProbe?.bytes ?? SharedCacheProbe.defaultBytes)
        if let sharedCache {
            try store.setMeta("sharedCache", sharedCache)
            checkpoint.notes.append("shared cache: \(sharedCache.summary)")
        }

        let lut = LookupTableBuilder.build(checkpoint: checkpoint, manifest: portfolio.manifest, provenance: provenance(checkpoint))
        try JSONFile.write(lut, to: paths.lut)
        try store.setMeta("lut", lut.method)
        try? FileManager.default.removeItem(atPath: paths.checkpoint)
        return SweepResult(lut: lut, paths: paths, cellsMeasured: measured, cellsFromCheckpoint: fromCheckpoint,
                           checkpoint: checkpoint, hostContention: contention,
                           sharedCache: sharedCache)
    }

    // MARK: - Steps

    /// Loads the checkpoint (resume) or starts a new one; refuses to overwrite an unfinished sweep.
    private func startOrResume(_ resume: Bool) throws -> SweepCheckpoint {
        let exists = FileManager.default.fileExists(atPath: paths.checkpoint)
        if resume && exists {
            var checkpoint: SweepCheckpoint
            do { checkpoint = try JSONFile.read(SweepCheckpoint.self, from: paths.checkpoint) } catch {
                throw ProfilerError.unreadable(path: paths.checkpoint, reason: "\(error)")
            }
            guard checkpoint.configuration == configuration else {
                throw ProfilerError.checkpointMismatch(path: paths.checkpoint, reason: Self.difference(checkpoint.configuration, configuration))
            }
            checkpoint.resumes += 1
            checkpoint.notes.append("resumed at \(ISO8601DateFormatter().string(from: Date())) with \(checkpoint.cells.count) cells done")
            return checkpoint
        }
        if exists { throw ProfilerError.checkpointExists(path: paths.checkpoint) }
        // A fresh sweep replaces an old sample database (the old LUT stays until the new one is written).
        SampleStore.remove(at: paths.samples)
        var random = SplitMix64(seed: configuration.seed, key: "frequency-order")
        let order = configuration.frequenciesKHz.shuffled(using: &random)
        return SweepCheckpoint(
            configuration: configuration, startedAt: ISO8601DateFormatter().string(from: Date()),
            clock: LatencyClockCalibration.measure(environment.clock), frequencyOrderKHz: order,
            backend: environment.makeBackend().name)
    }

    /// The seeded variant order at one frequency (interleaving: every variant once per frequency);
    /// a later visit has its own.
    func variantOrder(kHz: Int, visit: Int = 1) -> [String] {
        var random = SplitMix64(seed: configuration.seed, key: "variant-order/\(kHz)" + (visit > 1 ? "/visit\(visit)" : ""))
        return portfolio.variants.map(\.name).shuffled(using: &random)
    }

    /// The frequency order of `visit`: the checkpoint's for the first, a seeded shuffle of its own
    /// for each later one.
    func frequencyOrder(visit: Int, first: [Int]) -> [Int] {
        guard visit > 1 else { return first }
        var random = SplitMix64(seed: configuration.seed, key: "frequency-order/visit\(visit)")
        return configuration.frequenciesKHz.shuffled(using: &random)
    }

    /// Sets, verifies and settles one frequency.
    private func setFrequency(_ kHz: Int, maxKHz: Int, _ options: SweepOptions) throws -> (FrequencyChange, Bool) {
        let change: FrequencyChange
        do { change = try environment.controller.setFrequency(.kHz(kHz), forDomain: configuration.domainIndex) } catch {
            throw ProfilerError.frequency(reason: "setting \(kHz) kHz on domain \(configuration.domainIndex) failed: \(error)")
        }
        let verified = Self.verify(change, requestedKHz: kHz, maxKHz: maxKHz)
        environment.simulation?.speedRatio = change.speedRatio
        environment.clock.pass(ns: configuration.settleNs.clockNs)
        options.progress(.frequencySet(kHz: kHz, change: change, verified: verified))
        if let warning = change.warning { options.progress(.note("\(kHz) kHz: \(warning)")) }
        if !verified {
            options.progress(.note("frequency \(kHz) kHz not verified: applied \(change.appliedKHz) kHz, speed ratio \(String(format: "%.3f", change.speedRatio)) (expected \(String(format: "%.3f", Double(kHz) / Double(maxKHz))))"))
        }
        return (change, verified)
    }

    /// Lets the board cool after a throttled cell: the domain at its lowest frequency until the
    /// hottest zone is below the cool-down threshold (see `coolDownBelowMilliCelsius`), at most
    /// the thermal guard's longest pause (`--max-cool-down-seconds`). Returns the time waited.
    private func coolDown(minKHz: Int, maxKHz: Int, _ options: SweepOptions) throws -> Nanoseconds {
        let clock = environment.clock
        let threshold = Self.coolDownBelowMilliCelsius(guard: configuration.thermal, trips: environment.thermal.throttlingTripsMilliCelsius)
        _ = try setFrequency(minKHz, maxKHz: maxKHz, options)
        guard coolingGaveUpAtMilliCelsius == nil else { return .zero }
        let start = clock.nowNs()
        let maxPauseNs = configuration.thermal.maxPauseNs.clockNs
        let step = Swift.min(UInt64(500_000_000), Swift.max(maxPauseNs / 4, 1))
        while clock.nowNs() &- start < maxPauseNs {
            let hottest = environment.thermal.readMilliCelsius().values.max()
            guard let hottest, hottest >= threshold else { return Nanoseconds(clock.nowNs() &- start) }
            clock.pass(ns: Swift.min(step, maxPauseNs - (clock.nowNs() &- start)))
        }
        noteCoolingGaveUp(below: threshold)
        return Nanoseconds(clock.nowNs() &- start)
    }

    /// Records that a full cool-down budget left the device at or above `threshold`.
    private func noteCoolingGaveUp(below threshold: Int) {
        guard let hottest = environment.thermal.readMilliCelsius().values.max(), hottest >= threshold else { return }
        coolingGaveUpAtMilliCelsius = hottest
    }

    /// The temperature a throttled cell's retry waits for: the thermal guard's resume level, and
    /// at least 5 °C below the lowest throttling trip (a passive trip's hysteresis is commonly
    /// a few degrees, and sysfs does not always show it).
    static func coolDownBelowMilliCelsius(guard thermal: ThermalGuard, trips: [Int]) -> Int {
        Swift.min(thermal.resumeBelowMilliCelsius, (trips.min() ?? Int.max / 2) - 5000)
    }

    /// Real: read-back within 2% (or 1 MHz); emulated: calibrated speed ratio within 10% of f/fmax.
    public static func verify(_ change: FrequencyChange, requestedKHz: Int, maxKHz: Int) -> Bool {
        switch change.source {
        case .real:
            return abs(change.appliedKHz - requestedKHz) <= Swift.max(requestedKHz / 50, 1000)
        case .emulated:
            let expected = Double(requestedKHz) / Double(Swift.max(maxKHz, 1))
            return abs(change.speedRatio - expected) / expected <= 0.10
        case .simulated, .predicted:
            return true
        }
    }

    /// Measures one cell with the thermal guard and counters around it.
    private func measureCell(kHz: Int, change: FrequencyChange, verified: Bool, runner: VariantRunner, attempt: Int,
                             visit: Int, counters: CellCounters, monitor: CellMonitor) throws -> (CellRecord, CellSampling) {
        let env = environment
        let key = CellRecord.key(kHz: kHz, variant: runner.variant.name, threads: configuration.threads,
                                 pin: configuration.pin.description, attempt: attempt, visit: visit)
        env.simulation?.beginCell(key: key)
        let startedAt = ISO8601DateFormatter().string(from: Date())
        let pause = env.clock.isVirtual || coolingGaveUpAtMilliCelsius != nil
            ? .zero : configuration.thermal.waitUntilCool(env.thermal, clock: env.clock)
        if pause >= configuration.thermal.maxPauseNs { noteCoolingGaveUp(below: configuration.thermal.resumeBelowMilliCelsius) }
        let before = env.thermal.readMilliCelsius()
        do { try runner.activate() } catch {
            throw ProfilerError.measurement(variant: runner.variant.name, reason: "activate failed: \(error)")
        }
        var totals: CounterTotals?
        var counterFailure: String?
        var observation: CellObservation?
        let sampler = Sampler(clock: env.clock, policy: visitSampling, window: sampleWindow(kHz: kHz))
        let sampling: CellSampling
        do {
            sampling = try sampler.measure(
                { try runner.runOnce() },
                beforeSampling: {
                    monitor.start(setKHz: kHz)
                    do { try counters.start() } catch { counterFailure = "\(error)" }
                },
                afterSampling: {
                    defer { observation = monitor.stop() }
                    guard counterFailure == nil else { return }
                    do { totals = try counters.stop() } catch { counterFailure = "\(error)" }
                },
                betweenSamples: { monitor.poll() })
        } catch {
            throw ProfilerError.measurement(variant: runner.variant.name, reason: "inference failed at \(kHz) kHz: \(error)")
        }
        let cache = env.cacheProbe?.measure()
        let after = env.thermal.readMilliCelsius()
        // Interfered windows stay in the sample database (flagged) but not in the summary.
        let summary = LatencySummary(samplesNs: sampling.keptSamplesNs, confidence: configuration.sampling.confidence)
        var counterCell: LookupTable.CounterCell?
        if let totals {
            counterCell = CounterDerivation.perInference(totals, inferences: sampling.sampledInferences)
        } else if let counterFailure {
            counterCell = LookupTable.CounterCell(
                values: [:], unsupported: Dictionary(uniqueKeysWithValues: CounterDerivation.defaultEvents.map { ($0, counterFailure) }),
                derived: [:])
        }
        var record = CellRecord(
            kHz: kHz, variant: runner.variant.name, threads: configuration.threads, pin: configuration.pin.description,
            attempt: attempt, source: env.controller.source, latency: summary,
            inferencesPerSample: sampling.inferencesPerSample, stopRule: sampling.stopRule,
            warmupRule: sampling.warmupRule, warmupIterations: sampling.warmupIterations, appliedKHz: change.appliedKHz,
            speedRatio: change.speedRatio, frequencyVerified: verified, counters: counterCell, milliCelsiusBefore: before,
            milliCelsiusAfter: after, thermalPauseNs: pause,
            loopOverheadFraction: summary.p50Ns > .zero ? sampling.outsideWindowNsPerIteration / summary.p50Ns : 0,
            noisy: summary.cv > configuration.noisyCV || sampling.interferedCount * 2 > sampling.samplesNs.count,
            startedAt: startedAt, interferedWindows: sampling.interferedCount > 0 ? sampling.interferedCount : nil,
            sharedCacheLoadNs: cache?.loadNs)
        record.visit = visit > 1 ? visit : nil
        if let observation {
            record.energyJ = observation.energyJ
            record.powerW = observation.powerW
            // The cell's mean power × its mean latency, not energy / inferences: the time between
            // timed inferences (bookkeeping, and on a shared host preemption, which measured 47%
            // of the wall time inside a board at load 15) is not an inference's.
            if let watts = observation.powerW { record.energyPerInferenceJ = watts * summary.meanNs.seconds }
            record.lowestDeliveredKHz = observation.lowestDeliveredKHz
            record.throttleReason = observation.throttleReason
        }
        return (record, sampling)
    }

    /// The sampling budget of one visit: the cell's time limit shared among its visits.
    var visitSampling: SamplingPolicy {
        let visits = Int64(configuration.visitCount)
        let sampling = configuration.sampling
        return visits > 1 ? sampling.cappingCellTime(atNs: Nanoseconds(sampling.maxNs.wholeNanoseconds / visits)) : sampling
    }

    /// Above this share of slowed windows (see `HostContention`) the sweep warns that its figures
    /// will not repeat closely.
    static let contentionWarning = 0.10

    /// Windows whose upper-quartile inference is more than this much slower than the cell's
    /// lowest are set aside (see `SampleWindow.interferenceTolerance`): the host's bursts
    /// measured 1.3–1.6×.
    static let interferenceTolerance = 0.20

    /// Emulated DVFS: a sample is a window of whole throttle periods (see `SampleWindow`);
    /// nil otherwise.
    func sampleWindow(kHz: Int) -> SampleWindow? {
        guard let shape = environment.controller.throttleShape(forKHz: kHz) else { return nil }
        // Four periods, or two when the cell's time limit would leave fewer than six windows
        // (`--quick`: 1 s cells).
        let periodNs = Int(shape.periodNs.wholeNanoseconds)
        let fitting = Int(visitSampling.maxNs.wholeNanoseconds / 6) / max(periodNs, 1)
        let windowNs = max(2, min(4, fitting)) * periodNs
        return SampleWindow(minimumNs: Nanoseconds(windowNs), gapNs: Nanoseconds(shape.gapNs.wholeNanoseconds / 2),
                            maximumNs: Nanoseconds(windowNs + 2 * periodNs), minimumInferences: 32,
                            yieldsBetweenInferences: true, interferenceTolerance: Self.interferenceTolerance)
    }

    private func save(_ checkpoint: SweepCheckpoint) throws {
        do { try JSONFile.write(checkpoint, to: paths.checkpoint) } catch {
            throw ProfilerError.sampleStore(path: paths.checkpoint, reason: "\(error)")
        }
    }

    /// The provenance block of the LUT and the sample database.
    func provenance(_ checkpoint: SweepCheckpoint) -> Provenance {
        let device = environment.device
        let domains = device?.dvfs.domains ?? environment.controller.domains
        var notes = [
            "clock \(checkpoint.clock.clock): resolution \(checkpoint.clock.observedResolutionNs), read cost \(String(format: "%.1f", checkpoint.clock.readCostNs.value)) ns",
            "backend \(checkpoint.backend), \(configuration.threads) thread(s), pin \(configuration.pin)",
            "sweep started \(checkpoint.startedAt), seed \(configuration.seed)",
        ]
        if let placement = checkpoint.placement { notes.append("measuring thread: \(placement.note)") }
        if let note = environment.controller.methodNote { notes.append(note) }
        if environment.controller.source == .simulated {
            notes.append("simulated: latencies from a deterministic model on a virtual clock; no inference ran")
        }
        if environment.thermal.readMilliCelsius().isEmpty { notes.append("no thermal zones: temperatures not recorded") }
        // Inside `gearbox board run` the figures are the board model's (the tree names it).
        let board = environment.controller.source == .simulated ? nil : (device?.board ?? BoardRunner.label(root: .live))
        if let board { notes.append("measured on the board model \(board.name) (gearbox board run): a model, not hardware") }
        if !environment.clock.isVirtual, let load = LoadAverage.current() {
            notes.append("load average when written: \(load.text) (other work on the machine adds noise)")
        }
        notes += checkpoint.notes
        return Provenance(
            deviceID: configuration.deviceID, controller: environment.controller.source, governors: domains.map(\.governor),
            limitsKHz: domains.map { [$0.minKHz, $0.maxKHz] }, milliCelsius: environment.thermal.readMilliCelsius(),
            notes: notes, board: board)
    }

    /// Names the settings that differ between two configurations.
    static func difference(_ a: SweepConfiguration, _ b: SweepConfiguration) -> String {
        var fields: [String] = []
        if a.deviceID != b.deviceID { fields.append("device \(a.deviceID) vs \(b.deviceID)") }
        if a.portfolioName != b.portfolioName || a.portfolioDigest != b.portfolioDigest { fields.append("portfolio") }
        if a.controller != b.controller { fields.append("controller \(a.controller) vs \(b.controller)") }
        if a.frequenciesKHz != b.frequenciesKHz { fields.append("frequencies") }
        if a.threads != b.threads { fields.append("threads \(a.threads) vs \(b.threads)") }
        if a.pin != b.pin { fields.append("pin \(a.pin) vs \(b.pin)") }
        if a.seed != b.seed { fields.append("seed") }
        if a.sampling != b.sampling { fields.append("sampling budget") }
        if a.visitCount != b.visitCount {
            fields.append("visits per cell \(a.visitCount) vs \(b.visitCount)" + (a.visits == nil
                ? " (a checkpoint from before cells were visited more than once cannot be continued)" : ""))
        }
        return fields.isEmpty ? "other settings differ" : fields.joined(separator: ", ")
    }
}
