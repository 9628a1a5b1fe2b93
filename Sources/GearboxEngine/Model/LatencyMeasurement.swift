// GearboxEngine/LatencyMeasurement: the simple timing loop behind `gearbox run --repeat` and
// `gearbox bench engine` — warm-up runs, then N timed allocation-free runs on the monotonic
// clock, summarised by nearest-rank percentiles. (The profiler has its own sampler with stop
// rules and DVFS control; this one is for quick, honest numbers.)

import GearboxCore

/// Percentiles of N timed runs, in nanoseconds.
public struct LatencySummary: Sendable, Codable, Equatable {
    public var samples: Int
    public var p50Ns: Int
    public var p99Ns: Int
    public var minNs: Int
    public var maxNs: Int
    public var meanNs: Int
    /// Wall-clock time of real runs on this machine.
    public var source: MeasurementSource

    /// Summarises raw durations (nanoseconds); empty input gives zeros.
    public init(nanoseconds: [Int], source: MeasurementSource = .real) {
        let sorted = nanoseconds.sorted()
        func rank(_ p: Double) -> Int {
            guard !sorted.isEmpty else { return 0 }
            let index = Int((p * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(max(index, 0), sorted.count - 1)]
        }
        samples = sorted.count
        p50Ns = rank(0.50)
        p99Ns = rank(0.99)
        minNs = sorted.first ?? 0
        maxNs = sorted.last ?? 0
        meanNs = sorted.isEmpty ? 0 : sorted.reduce(0, +) / sorted.count
        self.source = source
    }
}

extension InferenceModel {
    /// Runs `warmupRuns` untimed, then times `runs` calls of `run()` on the current inputs.
    public func measureLatency(runs: Int, warmupRuns: Int = 3) -> LatencySummary {
        for _ in 0..<max(0, warmupRuns) { run() }
        var samples = [Int](repeating: 0, count: max(0, runs))
        for i in 0..<samples.count {
            let start = monotonicNanoseconds()
            run()
            samples[i] = Int(monotonicNanoseconds() - start)
        }
        return LatencySummary(nanoseconds: samples)
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
