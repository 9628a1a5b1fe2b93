// GearboxProfiler/Sampler: measures one cell. Warm-up runs batches until their medians stop
// trending; sampling then times single inferences until the median's 95% CI is within the target
// (±1% by default), or a sample-count or time limit ends it. Which rule ended each phase is
// recorded. The timed window holds only the inference and one clock read; bookkeeping (stop
// checks, sorting) happens outside it.

#if canImport(Glibc)
import Glibc
#endif
import GearboxCore

/// How long to warm up and when to stop sampling. Values, so sweeps can store them.
public struct SamplingPolicy: Codable, Equatable, Sendable {
    /// A warm-up batch lasts about this long (at least `warmupMinBatchIterations` inferences).
    public var warmupBatchTargetNs: Nanoseconds
    public var warmupMinBatchIterations: Int
    /// Successive batch medians within this fraction of each other count as "not trending".
    public var warmupStableTolerance: Double
    /// How many successive stable batch pairs end the warm-up.
    public var warmupStableBatches: Int
    public var warmupMaxBatches: Int
    public var warmupMaxNs: Nanoseconds
    /// Stop when the median's CI half-width is within this fraction of the median.
    public var targetRelativeCI: Double
    public var confidence: Double
    public var minSamples: Int
    public var maxSamples: Int
    public var maxNs: Nanoseconds

    public init(
        warmupBatchTargetNs: Nanoseconds = Nanoseconds(milliseconds: 20), warmupMinBatchIterations: Int = 3,
        warmupStableTolerance: Double = 0.02, warmupStableBatches: Int = 2, warmupMaxBatches: Int = 25,
        warmupMaxNs: Nanoseconds = Nanoseconds(seconds: 1), targetRelativeCI: Double = 0.01, confidence: Double = 0.95,
        minSamples: Int = 30, maxSamples: Int = 4000, maxNs: Nanoseconds = Nanoseconds(seconds: 3)
    ) {
        self.warmupBatchTargetNs = warmupBatchTargetNs; self.warmupMinBatchIterations = warmupMinBatchIterations
        self.warmupStableTolerance = warmupStableTolerance; self.warmupStableBatches = warmupStableBatches
        self.warmupMaxBatches = warmupMaxBatches; self.warmupMaxNs = warmupMaxNs
        self.targetRelativeCI = targetRelativeCI; self.confidence = confidence; self.minSamples = minSamples
        self.maxSamples = maxSamples; self.maxNs = maxNs
    }

    /// The default: ±1% CI at 95%, at most 4000 samples or 3 s per cell (warm-up ≤ 1 s).
    public static let standard = SamplingPolicy()
    /// CI-sized runs: shorter warm-up, ±2% CI, at most 1 s per cell.
    public static let quick = SamplingPolicy(
        warmupBatchTargetNs: Nanoseconds(milliseconds: 10), warmupMaxBatches: 10, warmupMaxNs: Nanoseconds(milliseconds: 300),
        targetRelativeCI: 0.02, minSamples: 20, maxSamples: 1000, maxNs: Nanoseconds(seconds: 1))

    /// A copy whose per-cell time limit is `ns`, shorter or longer than this one's (warm-up gets
    /// at most a third of it and never more than before). A cell's CI narrows about as the square
    /// root of its time: on a noisy machine a longer limit buys precision with sweep time.
    public func cappingCellTime(atNs ns: Nanoseconds) -> SamplingPolicy {
        var copy = self
        copy.maxNs = ns
        // Whole nanoseconds, as the limits were when they were integers (sweep configurations keep their bytes).
        copy.warmupMaxNs = Swift.min(copy.warmupMaxNs, Nanoseconds(ns.wholeNanoseconds / 3))
        return copy
    }
}

/// Why sampling ended.
public enum StopRule: String, Codable, Sendable, CaseIterable {
    /// The median's CI reached the target half-width.
    case ci
    case maxSamples
    case maxTime
}

/// Why warm-up ended.
public enum WarmupRule: String, Codable, Sendable {
    /// Successive batch medians stopped trending.
    case stable
    case maxBatches
    case maxTime
}

/// How samples are formed when the clock slows by CPU-bandwidth throttling (emulated DVFS).
///
/// Throttling does not slow each inference: the thread runs at full speed until its quota is
/// spent and then waits for the next period. Only the mean over whole periods follows the
/// emulated frequency, so a sample is the mean latency of the inferences in a window that
/// starts and ends right after a throttle gap: a window then spans whole periods, and the
/// phase of its ends within a period does not move its value (measured on this VM with 4-period
/// windows of fixed length: a median bias of up to 10% that flipped between reruns).
public struct SampleWindow: Codable, Equatable, Sendable {
    /// A window lasts at least this long (several throttle periods).
    public var minimumNs: Nanoseconds
    /// An iteration at least this much longer than the fastest one seen contained a throttle
    /// gap, and a window due to close closes right after it. 0: windows close on time alone.
    public var gapNs: Nanoseconds
    /// A window due to close that sees no gap closes anyway after this long.
    public var maximumNs: Nanoseconds
    /// A window also holds about this many inferences (at the latency warm-up ended with), up
    /// to a sixth of the cell's time limit: a window's value moves in steps of one inference,
    /// so a window of k inferences cannot resolve better than 1/k (measured: a 1.25 ms variant
    /// at 1/8 of fmax gave 10.67 or 16.0 ms, three or two inferences per period, in windows of
    /// 13 inferences).
    public var minimumInferences: Int
    /// Yield the CPU after each inference, so that the kernel charges the quota at the
    /// inference boundary rather than at the next scheduler tick (4 ms at HZ=250): the throttle
    /// then lands between inferences (measured: window CV 0.1–2% instead of 1.5–6%).
    public var yieldsBetweenInferences: Bool
    /// A window whose upper-quartile inference (of those that held no throttle gap) is more than
    /// this fraction slower than the lowest such quartile among the cell's windows is set aside
    /// as interfered (0: keep every window). Throttling stops an inference but never slows one,
    /// so within a cell the inferences of every window should take the same time; on this VM,
    /// in bursts of 0.3 s to minutes with nothing else running in it, the sparse kernels ran
    /// 1.55× slower (a scalar loop on the same vCPU did not move): another tenant of the host,
    /// which the LUT must not mistake for the emulated clock. The upper quartile flags a window
    /// once a quarter of its inferences ran slow, while its mean has risen by 14% at most.
    public var interferenceTolerance: Double

    public init(
        minimumNs: Nanoseconds, gapNs: Nanoseconds = .zero, maximumNs: Nanoseconds? = nil, minimumInferences: Int = 1,
        yieldsBetweenInferences: Bool = false, interferenceTolerance: Double = 0
    ) {
        self.minimumNs = minimumNs; self.gapNs = gapNs
        self.maximumNs = Swift.max(maximumNs ?? minimumNs * 2, minimumNs)
        self.minimumInferences = Swift.max(1, minimumInferences)
        self.yieldsBetweenInferences = yieldsBetweenInferences
        self.interferenceTolerance = Swift.max(0, interferenceTolerance)
    }

    /// Which windows' upper quartiles (`quartilesNs`) lie more than `interferenceTolerance` above
    /// the lowest. None are set aside when fewer than `minimumKept` would remain.
    func interfered(quartilesNs: [UInt64], minimumKept: Int = 3) -> [Bool] {
        guard interferenceTolerance > 0, let floor = quartilesNs.min() else { return quartilesNs.map { _ in false } }
        let limit = Double(floor) * (1 + interferenceTolerance)
        let marks = quartilesNs.map { Double($0) > limit }
        return marks.filter { !$0 }.count >= minimumKept ? marks : quartilesNs.map { _ in false }
    }

    /// This window, lengthened to hold `minimumInferences` of `latencyNs` each (at most `capNs`).
    func lengthened(forLatencyNs latencyNs: Nanoseconds, capNs: Nanoseconds) -> SampleWindow {
        let wanted = Swift.min(latencyNs * Double(minimumInferences), capNs)
        guard wanted > minimumNs else { return self }
        var copy = self
        copy.maximumNs = maximumNs - minimumNs + wanted
        copy.minimumNs = wanted
        return copy
    }

    /// Windows of at least `minimumNs` that close on time alone, without yielding.
    public static func fixed(_ minimumNs: Nanoseconds) -> SampleWindow { SampleWindow(minimumNs: minimumNs) }
}

/// The raw outcome of sampling one cell.
public struct CellSampling: Sendable {
    /// One value per sample: the latency of one inference, or in window mode the mean latency
    /// of the inferences of one window.
    public var samplesNs: [UInt64]
    /// Window mode: each window's upper-quartile inference among those that held no throttle
    /// gap (empty otherwise).
    public var windowQuartilesNs: [UInt64] = []
    /// Window mode: which windows were set aside as interfered (see
    /// `SampleWindow.interferenceTolerance`); empty when none were.
    public var interfered: [Bool] = []
    /// Inferences per sample (1 without a window; in window mode the mean count, rounded).
    public var inferencesPerSample: Int
    /// Inferences timed in the sampling phase.
    public var sampledInferences: Int
    public var warmupIterations: Int
    public var warmupRule: WarmupRule
    public var warmupBatchMediansNs: [UInt64]
    public var stopRule: StopRule
    /// Wall time of the sampling phase (excluding warm-up), on the sampler's clock.
    public var samplingNs: Nanoseconds
    /// Per-iteration time outside the timed windows: (sampling time − Σ samples) / n.
    public var outsideWindowNsPerIteration: Nanoseconds

    /// The samples the cell's statistics use: all but the interfered windows.
    public var keptSamplesNs: [UInt64] {
        guard interfered.count == samplesNs.count else { return samplesNs }
        return zip(samplesNs, interfered).filter { !$0.1 }.map(\.0)
    }

    /// How many windows were set aside as interfered.
    public var interferedCount: Int { interfered.filter { $0 }.count }
}

/// Times a workload on one clock under a `SamplingPolicy`. Call it from the measuring thread.
///
/// With a `SampleWindow`, one sample is the mean of the consecutive inferences of one window
/// (see `SampleWindow`): emulated DVFS needs this, since single inferences under CPU-bandwidth
/// throttling are bimodal (full speed, or stalled for the rest of the period).
public struct Sampler {
    public let clock: LatencyClock
    public let policy: SamplingPolicy
    public let window: SampleWindow?

    public init(clock: LatencyClock, policy: SamplingPolicy, window: SampleWindow? = nil) {
        self.clock = clock; self.policy = policy; self.window = window
    }

    /// A sampler whose windows last `sampleWindowNs` and close on time alone (0: no window).
    public init(clock: LatencyClock, policy: SamplingPolicy, sampleWindowNs: Nanoseconds) {
        self.init(clock: clock, policy: policy, window: sampleWindowNs > .zero ? .fixed(sampleWindowNs) : nil)
    }

    /// Warms up, then samples `workload` until a stop rule fires. `beforeSampling` and
    /// `afterSampling` bracket the sampling phase only (e.g. to start and stop counters);
    /// `betweenSamples` runs after each sample's bookkeeping, outside every timed window (e.g. to
    /// read a power sensor).
    public func measure(
        _ workload: () throws -> Void, beforeSampling: () throws -> Void = {}, afterSampling: () throws -> Void = {},
        betweenSamples: () -> Void = {}
    ) throws -> CellSampling {
        let (warmupIterations, warmupRule, medians) = try warmUp(workload)
        let window = self.window.map {
            $0.lengthened(forLatencyNs: Nanoseconds(medians.last ?? 0), capNs: Nanoseconds(policy.maxNs.wholeNanoseconds / 6))
        }
        let maxNs = policy.maxNs.clockNs
        let windowMinimumNs = window?.minimumNs.clockNs ?? 0, windowMaximumNs = window?.maximumNs.clockNs ?? 0
        let windowGapNs = window?.gapNs.clockNs ?? 0
        try beforeSampling()
        var samples: [UInt64] = []
        samples.reserveCapacity(policy.maxSamples)
        var scratch: [UInt64] = []
        scratch.reserveCapacity(policy.maxSamples)
        var nextCheck = Swift.max(policy.minSamples, 6)
        var stop = StopRule.maxSamples
        var inferences = 0
        let start = clock.nowNs()
        var sum: UInt64 = 0
        var t0 = start
        // Window mode: the fastest iteration seen, the yardstick for spotting a throttle gap;
        // each window's inference times, for its upper quartile, the yardstick for interference.
        var fastest = UInt64.max
        var windowQuartiles: [UInt64] = []
        var steps: [UInt64] = []
        if window != nil {
            windowQuartiles.reserveCapacity(policy.maxSamples)
            steps.reserveCapacity(4096)
        }
        while samples.count < policy.maxSamples {
            let t1: UInt64
            var count = 1
            if let window {
                count = 0
                var last = t0
                var now = t0
                steps.removeAll(keepingCapacity: true)
                while true {
                    try workload()
                    if window.yieldsBetweenInferences { sched_yield() }
                    now = clock.nowNs()
                    count += 1
                    let step = now &- last
                    last = now
                    fastest = Swift.min(fastest, step)
                    steps.append(step)
                    let elapsed = now &- t0
                    guard elapsed >= windowMinimumNs else { continue }
                    if windowGapNs == 0 || elapsed >= windowMaximumNs || step >= fastest &+ windowGapNs { break }
                }
                t1 = now
                windowQuartiles.append(Self.upperQuartile(of: &steps, below: windowGapNs == 0 ? .max : fastest &+ windowGapNs))
            } else {
                try workload()
                t1 = clock.nowNs()
            }
            inferences += count
            samples.append((t1 &- t0) / UInt64(count))
            sum &+= t1 &- t0
            if t1 &- start >= maxNs { stop = .maxTime; break }
            if samples.count >= nextCheck {
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: samples)
                Self.sortInPlace(&scratch)
                if let relative = MedianConfidence.relativeHalfWidth(sorted: scratch, confidence: policy.confidence),
                   relative <= policy.targetRelativeCI {
                    stop = .ci; break
                }
                // Geometric check points keep the sorting cost per sample small (amortised O(log n)).
                nextCheck = samples.count + Swift.max(10, samples.count / 4)
            }
            betweenSamples()
            // The next window starts after the bookkeeping, so that it is never timed.
            t0 = clock.nowNs()
        }
        let elapsed = clock.nowNs() &- start
        try afterSampling()
        let outside = samples.isEmpty ? 0 : Double(elapsed &- Swift.min(sum, elapsed)) / Double(inferences)
        let perSample = samples.isEmpty ? 1 : Swift.max(1, Int((Double(inferences) / Double(samples.count)).rounded()))
        let interfered = window?.interfered(quartilesNs: windowQuartiles) ?? []
        return CellSampling(
            samplesNs: samples, windowQuartilesNs: windowQuartiles, interfered: interfered.contains(true) ? interfered : [],
            inferencesPerSample: perSample, sampledInferences: inferences, warmupIterations: warmupIterations,
            warmupRule: warmupRule, warmupBatchMediansNs: medians, stopRule: stop, samplingNs: Nanoseconds(elapsed),
            outsideWindowNsPerIteration: Nanoseconds(outside))
    }

    /// Warm-up in window mode: each batch runs until `max(warmupBatchTargetNs, window)` has
    /// passed; its value is elapsed / inferences.
    func warmUpWindowed(_ workload: () throws -> Void, window: SampleWindow) rethrows -> (Int, WarmupRule, [UInt64]) {
        let start = clock.nowNs()
        let batchNs = Swift.max(policy.warmupBatchTargetNs, window.minimumNs).clockNs
        var iterations = 0
        var means = WarmupProgress(policy: policy)
        while true {
            let t0 = clock.nowNs()
            var count = 0
            var now = t0
            repeat {
                try workload()
                if window.yieldsBetweenInferences { sched_yield() }
                count += 1
                now = clock.nowNs()
            } while now &- t0 < batchNs || count < policy.warmupMinBatchIterations
            iterations += count
            if let rule = means.record((now &- t0) / UInt64(count), elapsedNs: { now &- start }) {
                return (iterations, rule, means.statistics)
            }
        }
    }

    /// The upper quartile of the inference times in `steps` shorter than `limit` (those that held
    /// no throttle gap); reorders `steps`. Runs between windows, never inside one.
    static func upperQuartile(of steps: inout [UInt64], below limit: UInt64) -> UInt64 {
        steps.removeAll { $0 >= limit }
        guard !steps.isEmpty else { return 0 }
        sortInPlace(&steps)
        return steps[(steps.count * 3) / 4]
    }

    /// Sorts with libc's qsort: the stop check runs between inferences, and qsort through a C
    /// comparator costs the same in debug and release builds (Swift's generic sort does not).
    static func sortInPlace(_ values: inout [UInt64]) {
        values.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, buffer.count > 1 else { return }
            qsort(base, buffer.count, MemoryLayout<UInt64>.stride) { a, b in
                guard let a, let b else { return 0 }
                let x = a.load(as: UInt64.self), y = b.load(as: UInt64.self)
                return x < y ? -1 : (x > y ? 1 : 0)
            }
        }
    }

    /// Runs batches of about `warmupBatchTargetNs` until `warmupStableBatches` successive pairs of
    /// batch medians differ by at most `warmupStableTolerance`, or a limit is hit. With a sample
    /// window, a batch lasts at least the window and its statistic is its mean latency.
    func warmUp(_ workload: () throws -> Void) rethrows -> (Int, WarmupRule, [UInt64]) {
        if let window { return try warmUpWindowed(workload, window: window) }
        let start = clock.nowNs()
        var t0 = start
        try workload()
        let first = Swift.max(clock.nowNs() &- t0, 1)
        var iterations = 1
        let batchSize = Swift.min(1000, Swift.max(policy.warmupMinBatchIterations, Int(policy.warmupBatchTargetNs.clockNs / first)))
        var medians = WarmupProgress(policy: policy)
        var batch = [UInt64](repeating: 0, count: batchSize)
        while true {
            for i in 0..<batchSize {
                t0 = clock.nowNs()
                try workload()
                batch[i] = clock.nowNs() &- t0
            }
            iterations += batchSize
            batch.sort()
            if let rule = medians.record(batch[batchSize / 2], elapsedNs: { clock.nowNs() &- start }) {
                return (iterations, rule, medians.statistics)
            }
        }
    }
}

/// The warm-up's stop rule over successive batch statistics (medians, or window means): stable
/// once `warmupStableBatches` successive pairs differ by at most `warmupStableTolerance`, else
/// ended by the batch count or time limit.
struct WarmupProgress {
    let policy: SamplingPolicy
    private(set) var statistics: [UInt64] = []
    private var stableRun = 0

    init(policy: SamplingPolicy) { self.policy = policy }

    /// Records one batch's statistic; the rule that ends the warm-up, if one does. `elapsedNs`
    /// (since the warm-up began) is read only when neither of the other rules applies.
    mutating func record(_ statistic: UInt64, elapsedNs: () -> UInt64) -> WarmupRule? {
        if let previous = statistics.last, previous > 0 {
            let change = abs(Double(statistic) - Double(previous)) / Double(previous)
            stableRun = change <= policy.warmupStableTolerance ? stableRun + 1 : 0
        }
        statistics.append(statistic)
        if stableRun >= policy.warmupStableBatches { return .stable }
        if statistics.count >= policy.warmupMaxBatches { return .maxBatches }
        if elapsedNs() >= policy.warmupMaxNs.clockNs { return .maxTime }
        return nil
    }
}
