// GearboxEngine/LatencyMeasurement: the simple timing loop behind `gearbox run --repeat` and
// `gearbox bench engine` — warm-up runs, then N timed allocation-free runs on `MonotonicClock`
// (or the thread's CPU clock), summarised by nearest-rank percentiles. (The profiler has its own
// sampler with stop rules and DVFS control; this one is for quick, honest numbers.)

import GearboxCore

/// Percentiles of N timed runs.
public struct TimedRunsSummary: Sendable, Codable, Equatable {
    public var samples: Int
    public var p50Ns: Nanoseconds
    public var p99Ns: Nanoseconds
    public var minNs: Nanoseconds
    public var maxNs: Nanoseconds
    /// The mean truncated to whole nanoseconds, as it was when this field was an Int, so the JSON
    /// that holds it (`gearbox run --json`) keeps its bytes.
    public var meanNs: Nanoseconds
    /// Wall-clock time of real runs on this machine.
    public var source: MeasurementSource

    /// Summarises raw durations (nanoseconds); empty input gives zeros.
    public init(nanoseconds: [Int], source: MeasurementSource = .real) {
        let sorted = nanoseconds.sorted()
        func rank(_ p: Double) -> Int { NearestRank.value(in: sorted, at: p) ?? 0 }
        samples = sorted.count
        p50Ns = Nanoseconds(rank(0.50))
        p99Ns = Nanoseconds(rank(0.99))
        minNs = Nanoseconds(sorted.first ?? 0)
        maxNs = Nanoseconds(sorted.last ?? 0)
        meanNs = Nanoseconds(sorted.isEmpty ? 0 : sorted.reduce(0, +) / sorted.count)
        self.source = source
    }
}

/// What a latency sample measures.
public enum TimingClock: String, Sendable, Codable, CaseIterable {
    /// Wall time on the monotonic clock: the latency a caller sees.
    case wall
    /// CPU time of the calling thread: excludes time the thread waited for a CPU, so it is
    /// steadier on a loaded machine. Only meaningful with one thread.
    case threadCPU

    /// Reads this clock in nanoseconds (0 when the kernel refuses the thread's CPU time).
    var reader: () -> UInt64 {
        switch self {
        case .wall: return { MonotonicClock.nowNs() }
        case .threadCPU: return { ThreadCPUClock.nowNs() ?? 0 }
        }
    }
}

extension InferenceModel {
    /// Runs `warmupRuns` untimed, then times `runs` calls of `run()` on the current inputs.
    public func measureLatency(runs: Int, warmupRuns: Int = 3, clock: TimingClock = .wall) -> TimedRunsSummary {
        for _ in 0..<max(0, warmupRuns) { run() }
        var samples = [Int](repeating: 0, count: max(0, runs))
        let read = clock.reader
        for i in 0..<samples.count {
            let start = read()
            run()
            samples[i] = Int(read() - start)
        }
        return TimedRunsSummary(nanoseconds: samples)
    }

    /// Fills every input with seeded uniform values in [-1, 1] (input k uses seed + k).
    public func fillInputsRandomly(seed: UInt64) {
        for index in inputs.indices {
            var rng = SplitMix64(seed: seed &+ UInt64(index))
            withInputBuffer(at: index) { buffer in
                for i in buffer.indices { buffer[i] = rng.nextUnitFloat() * 2 - 1 }
            }
        }
    }
}

/// Time spent in one execution step (a node, or a Conv with its fused BatchNorm/activation/Add).
public struct StepTiming: Sendable, Codable {
    public var node: String
    public var opType: String
    /// Median over the timed runs.
    public var p50Ns: Nanoseconds
    /// Multiply-accumulates the step performs per inference (0 for data movement and element-wise steps).
    public var macs: Int
    /// The kernel of a convolution step (see `InferenceModel.convolutionKernels`), nil for other steps.
    public var kernel: String?

    public init(node: String, opType: String, p50Ns: Nanoseconds, macs: Int, kernel: String? = nil) {
        self.node = node
        self.opType = opType
        self.p50Ns = p50Ns
        self.macs = macs
        self.kernel = kernel
    }

    /// Multiply-accumulates per second at the median time, in billions (nil for steps without MACs).
    public var gigaMACsPerSecond: Double? { macs > 0 && p50Ns > .zero ? Double(macs) / p50Ns.value : nil }
}

extension InferenceModel {
    /// Runs `runs` times after warm-up, timing each step separately (adds two clock reads per step);
    /// reports each step's median.
    public func profileSteps(runs: Int, warmupRuns: Int = 3, clock: TimingClock = .wall) -> [StepTiming] {
        for _ in 0..<max(0, warmupRuns) { run() }
        let labels = planLabels, macs = planMACs, kernels = planKernels
        let count = max(labels.count, 1), rounds = max(1, runs)
        let times = UnsafeMutablePointer<Int>.allocate(capacity: count * rounds)
        times.initialize(repeating: 0, count: count * rounds)
        defer { times.deallocate() }
        let read = clock.reader
        for round in 0..<rounds { runTimed(into: times + round * count, clock: read) }
        return labels.enumerated().map { index, label in
            let samples = (0..<rounds).map { times[$0 * count + index] }
            return StepTiming(node: label.name, opType: label.opType, p50Ns: TimedRunsSummary(nanoseconds: samples).p50Ns,
                              macs: macs[index], kernel: kernels[index])
        }
    }
}
