// GearboxReport/Inputs/TimelineSummary: condenses a long timeline into what a chart can show
// honestly: frequency change points and variant runs (exact), and latency per time bucket as
// min/mean/max with every bucket holding a violation flagged (downsampled, and said so).

import Foundation
import GearboxCore

/// A timeline reduced for drawing.
public struct TimelineSummary: Sendable, Equatable {
    /// A stretch of time during which one value held.
    public struct Run: Sendable, Equatable {
        public var startMs: Double
        public var endMs: Double
        public var value: String
    }

    /// A frequency that held from `timeMs` until the next step.
    public struct Step: Sendable, Equatable {
        public var timeMs: Double
        public var kHz: Int
    }

    /// Latency over one slice of time.
    public struct Bucket: Sendable, Equatable {
        public var startMs: Double
        public var endMs: Double
        public var minNs: Nanoseconds
        public var meanNs: Nanoseconds
        public var maxNs: Nanoseconds
        public var inferences: Int
        public var violations: Int
        /// The worst latency among this bucket's violations, where there is one.
        public var worstViolationNs: Nanoseconds?
    }

    public var startMs: Double
    public var endMs: Double
    /// (time, kHz) at every change of frequency, starting with the first row.
    public var frequencySteps: [Step]
    public var variantRuns: [Run]
    public var buckets: [Bucket]
    /// True when rows were merged into buckets (more rows than `maxBuckets`).
    public var downsampled: Bool
    public var inferences: Int
    public var violations: Int
    public var switches: Int

    /// Summarises `rows` (one policy, any order) into at most `maxBuckets` latency buckets.
    public init(rows unsorted: [TimelineFile.Row], maxBuckets: Int = 480) {
        let rows = unsorted.sorted { $0.timeMs < $1.timeMs }
        startMs = rows.first?.timeMs ?? 0
        let lastTime = rows.last?.timeMs ?? 0
        // The last inference lasts until it finishes.
        endMs = max(lastTime + (rows.last.map { $0.latencyNs.milliseconds } ?? 0), startMs + 1e-9)
        inferences = rows.count
        violations = rows.filter(\.violation).count
        switches = rows.filter(\.switched).count

        var steps: [Step] = []
        for row in rows where steps.last?.kHz != row.kHz { steps.append(Step(timeMs: row.timeMs, kHz: row.kHz)) }
        frequencySteps = steps

        var runs: [Run] = []
        for row in rows {
            if let last = runs.last, last.value == row.variant { continue }
            if !runs.isEmpty { runs[runs.count - 1].endMs = row.timeMs }
            runs.append(Run(startMs: row.timeMs, endMs: row.timeMs, value: row.variant))
        }
        if !runs.isEmpty { runs[runs.count - 1].endMs = endMs }
        variantRuns = runs

        let bucketCount = max(1, min(maxBuckets, rows.count))
        downsampled = rows.count > maxBuckets
        var buckets: [Bucket] = []
        if !rows.isEmpty {
            let span = endMs - startMs
            var grouped = [[TimelineFile.Row]](repeating: [], count: bucketCount)
            if downsampled {
                for row in rows {
                    let position = Int(((row.timeMs - startMs) / span) * Double(bucketCount))
                    grouped[min(bucketCount - 1, max(0, position))].append(row)
                }
            } else {
                for (index, row) in rows.enumerated() { grouped[index] = [row] }
            }
            for (index, group) in grouped.enumerated() where !group.isEmpty {
                let latencies = group.map(\.latencyNs)
                let start = downsampled ? startMs + span * Double(index) / Double(bucketCount) : group[0].timeMs
                let end = downsampled ? startMs + span * Double(index + 1) / Double(bucketCount) : group[0].timeMs
                let violating = group.filter(\.violation)
                buckets.append(Bucket(
                    startMs: start, endMs: end, minNs: latencies.min() ?? .zero,
                    meanNs: latencies.reduce(.zero, +) / Double(latencies.count), maxNs: latencies.max() ?? .zero,
                    inferences: group.count, violations: violating.count,
                    worstViolationNs: violating.map(\.latencyNs).max()))
            }
        }
        self.buckets = buckets
    }
}
