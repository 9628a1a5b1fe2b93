// Tests for GearboxReport/Inputs/TimelineSummary on hand-made rows (TimelineTests covers its
// counts on long generated timelines): the empty timeline, unsorted input, where the summary
// ends, frequency steps that come back to an earlier frequency, variant runs' boundaries, the
// per-row buckets' fields, and downsampled buckets' time slices, statistics, worst violation and
// skipped empty slices.

import GearboxCore
import Testing
@testable import GearboxReport

@Suite struct TimelineSummaryTests {
    static func row(_ timeMs: Double, kHz: Int = 1_000_000, variant: String = "a", latencyMs: Double = 1,
                    violation: Bool = false, switched: Bool = false) -> TimelineFile.Row {
        TimelineFile.Row(timeMs: timeMs, kHz: kHz, policy: "p", variant: variant, latencyNs: Nanoseconds(milliseconds: latencyMs),
                         violation: violation, switched: switched)
    }

    @Test func anEmptyTimelineHasNothingToDraw() {
        let summary = TimelineSummary(rows: [])
        #expect(summary.startMs == 0)
        #expect(summary.endMs > 0 && summary.endMs < 1e-6, "a tiny positive span, so scales never divide by zero")
        #expect(summary.frequencySteps.isEmpty && summary.variantRuns.isEmpty && summary.buckets.isEmpty)
        #expect(!summary.downsampled)
        #expect(summary.inferences == 0 && summary.violations == 0 && summary.switches == 0)
    }

    @Test func rowsAreSortedByTimeAndTheSummaryEndsWhenTheLastInferenceFinishes() {
        let rows = [Self.row(20, latencyMs: 3), Self.row(5, latencyMs: 50), Self.row(10, latencyMs: 2)]
        let summary = TimelineSummary(rows: rows)
        #expect(summary.startMs == 5)
        // The latest row (20 ms) plus its own 3 ms, not the longest latency.
        #expect(summary.endMs == 23)
        #expect(summary.buckets.map(\.startMs) == [5, 10, 20])
        #expect(summary.inferences == 3)
    }

    @Test func frequencyStepsRecordEveryChangeIncludingReturns() {
        let rows = [
            Self.row(0, kHz: 2_000_000), Self.row(1, kHz: 2_000_000), Self.row(2, kHz: 800_000),
            Self.row(3, kHz: 2_000_000), Self.row(4, kHz: 2_000_000),
        ]
        let summary = TimelineSummary(rows: rows)
        #expect(summary.frequencySteps == [
            TimelineSummary.Step(timeMs: 0, kHz: 2_000_000), TimelineSummary.Step(timeMs: 2, kHz: 800_000),
            TimelineSummary.Step(timeMs: 3, kHz: 2_000_000),
        ])
    }

    @Test func variantRunsEndWhereTheNextBeginsAndTheLastAtTheEnd() {
        let rows = [
            Self.row(0, variant: "big"), Self.row(2, variant: "big"), Self.row(4, variant: "small", switched: true),
            Self.row(6, variant: "big", latencyMs: 1.5, switched: true),
        ]
        let summary = TimelineSummary(rows: rows)
        #expect(summary.variantRuns == [
            TimelineSummary.Run(startMs: 0, endMs: 4, value: "big"),
            TimelineSummary.Run(startMs: 4, endMs: 6, value: "small"),
            TimelineSummary.Run(startMs: 6, endMs: 7.5, value: "big"),
        ])
        #expect(summary.switches == 2)
    }

    @Test func shortTimelinesKeepOneBucketPerRowWithItsOwnLatency() {
        let rows = [Self.row(0, latencyMs: 2), Self.row(3, latencyMs: 9, violation: true), Self.row(5, latencyMs: 4)]
        let summary = TimelineSummary(rows: rows, maxBuckets: 3)
        #expect(!summary.downsampled, "three rows fit in three buckets")
        #expect(summary.buckets == [
            TimelineSummary.Bucket(startMs: 0, endMs: 0, minNs: 2_000_000, meanNs: 2_000_000, maxNs: 2_000_000,
                                   inferences: 1, violations: 0, worstViolationNs: nil),
            TimelineSummary.Bucket(startMs: 3, endMs: 3, minNs: 9_000_000, meanNs: 9_000_000, maxNs: 9_000_000,
                                   inferences: 1, violations: 1, worstViolationNs: 9_000_000),
            TimelineSummary.Bucket(startMs: 5, endMs: 5, minNs: 4_000_000, meanNs: 4_000_000, maxNs: 4_000_000,
                                   inferences: 1, violations: 0, worstViolationNs: nil),
        ])
        #expect(summary.violations == 1)
    }

    @Test func downsampledBucketsSliceTheSpanEvenly() {
        // Rows at 0, 1, 2, 3 ms lasting 1 ms: the span is 0–4 ms; two buckets of 2 ms each.
        let rows = [
            Self.row(0, latencyMs: 1), Self.row(1, latencyMs: 3, violation: true),
            Self.row(2, latencyMs: 2, violation: true), Self.row(3, latencyMs: 1),
        ]
        let summary = TimelineSummary(rows: rows, maxBuckets: 2)
        #expect(summary.downsampled)
        #expect(summary.endMs == 4)
        #expect(summary.buckets == [
            TimelineSummary.Bucket(startMs: 0, endMs: 2, minNs: 1_000_000, meanNs: 2_000_000, maxNs: 3_000_000,
                                   inferences: 2, violations: 1, worstViolationNs: 3_000_000),
            TimelineSummary.Bucket(startMs: 2, endMs: 4, minNs: 1_000_000, meanNs: 1_500_000, maxNs: 2_000_000,
                                   inferences: 2, violations: 1, worstViolationNs: 2_000_000),
        ])
    }

    @Test func theWorstViolationIsTheSlowestViolatingRowNotTheSlowestRow() {
        // One bucket over all four rows: the 10 ms row did not violate (a different policy budget, say).
        let rows = [
            Self.row(0, latencyMs: 10), Self.row(1, latencyMs: 6, violation: true),
            Self.row(2, latencyMs: 7, violation: true), Self.row(3, latencyMs: 1),
        ]
        let summary = TimelineSummary(rows: rows, maxBuckets: 1)
        #expect(summary.buckets.count == 1)
        let bucket = summary.buckets.first
        #expect(bucket?.maxNs == 10_000_000)
        #expect(bucket?.worstViolationNs == 7_000_000)
        #expect(bucket?.violations == 2 && bucket?.inferences == 4)
        #expect(bucket?.meanNs == 6_000_000)
    }

    @Test func emptySlicesOfADownsampledTimelineAreLeftOut() {
        // Span 0–4 ms in three slices of 4/3 ms: rows at 0, 0.5, 1 fall in the first, 3.9 in the last.
        let rows = [0, 0.5, 1, 3.9].map { Self.row($0, latencyMs: 0.1) }
        let summary = TimelineSummary(rows: rows, maxBuckets: 3)
        #expect(summary.downsampled)
        #expect(summary.buckets.count == 2)
        #expect(summary.buckets.map(\.inferences) == [3, 1])
        let last = summary.buckets.last
        #expect(abs((last?.startMs ?? 0) - 8.0 / 3) < 1e-9)
        #expect(abs((last?.endMs ?? 0) - 4) < 1e-9)
    }
}
