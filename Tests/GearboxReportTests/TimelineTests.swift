// Tests for Inputs/TimelineFile (CSV reading) and Inputs/TimelineSummary (downsampling).

import GearboxCore
import Testing
@testable import GearboxReport

@Test func timelineReadsColumnsByNameInAnyOrder() throws {
    let csv = """
        policy,variant,time_ms,khz,latency_ns,switch,violation,extra
        gearbox,dense-full,0.0,2400000,1800000,0,0,x
        gearbox,"odd, name",5.0,800000,2500000,true,1,y

        """
    let timeline = try TimelineFile.parse(csv, path: "t.csv")
    #expect(timeline.rows.count == 2)
    #expect(timeline.rows[1] == TimelineFile.Row(timeMs: 5, kHz: 800_000, policy: "gearbox", variant: "odd, name", latencyNs: 2_500_000, violation: true, switched: true))
}

@Test func timelineMissingColumnNamesTheColumn() {
    #expect(throws: ReportError.timelineMissingColumn(path: "t.csv", column: "latency_ns")) {
        try TimelineFile.parse("time_ms,khz,policy,variant,violation,switch\n", path: "t.csv")
    }
}

@Test func timelineBadRowNamesTheLine() {
    let csv = "time_ms,khz,policy,variant,latency_ns,violation,switch\n0,1,p,v,10,0,0\n5,1,p,v,fast,0,0\n"
    do {
        _ = try TimelineFile.parse(csv, path: "t.csv")
        Issue.record("a non-numeric latency must be rejected")
    } catch let error as ReportError {
        #expect(error.description.hasPrefix("t.csv line 3: latency_ns 'fast' is not a number"))
        #expect(!error.description.contains("\n"))
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Test func fixtureTimelineHasFourPoliciesAndThousandsOfRows() throws {
    let timeline = try TimelineFile.read(from: Fixtures.path("validation/timeline.csv"))
    #expect(timeline.rows.count == 6000)
    #expect(Set(timeline.policies) == ["gearbox", "oracle", "static-accurate", "static-fast"])
}

func rows(_ count: Int, violationEvery: Int = 0, switchEvery: Int = 0) -> [TimelineFile.Row] {
    (0..<count).map { index in
        let variant = switchEvery > 0 ? "v\((index / switchEvery) % 2)" : "v0"
        return TimelineFile.Row(timeMs: Double(index) * 5, kHz: index < count / 2 ? 2_400_000 : 800_000, policy: "p", variant: variant,
                            latencyNs: Nanoseconds(1_000_000 + Double(index % 7) * 10_000), violation: violationEvery > 0 && index % violationEvery == 0,
                            switched: switchEvery > 0 && index > 0 && index % switchEvery == 0)
    }
}

@Test func longTimelinesAreBucketedKeepingEveryViolation() {
    let summary = TimelineSummary(rows: rows(3000, violationEvery: 97), maxBuckets: 300)
    #expect(summary.downsampled)
    #expect(summary.buckets.count <= 300)
    #expect(summary.buckets.map(\.inferences).reduce(0, +) == 3000)
    #expect(summary.buckets.map(\.violations).reduce(0, +) == summary.violations)
    #expect(summary.violations == (0..<3000).filter { $0 % 97 == 0 }.count)
    #expect(summary.buckets.allSatisfy { $0.minNs <= $0.meanNs && $0.meanNs <= $0.maxNs })
}

@Test func shortTimelinesAreDrawnRowByRow() {
    let summary = TimelineSummary(rows: rows(40), maxBuckets: 300)
    #expect(!summary.downsampled)
    #expect(summary.buckets.count == 40)
}

@Test func frequencyStepsAndVariantRunsAreExact() {
    let summary = TimelineSummary(rows: rows(100, switchEvery: 10), maxBuckets: 20)
    #expect(summary.frequencySteps == [TimelineSummary.Step(timeMs: 0, kHz: 2_400_000), TimelineSummary.Step(timeMs: 250, kHz: 800_000)])
    #expect(summary.variantRuns.count == 10)
    #expect(summary.variantRuns[1] == TimelineSummary.Run(startMs: 50, endMs: 100, value: "v1"))
    #expect(summary.switches == 9)
}

@Test func switchTimesAreReadWhenTheFileHasThem() throws {
    let csv = "time_ms,khz,policy,variant,latency_ns,violation,switch,switch_ns\n0,2400000,gearbox,a,1000,0,1,61000\n"
    #expect(try TimelineFile.parse(csv, path: "t.csv").rows[0].switchNs == 61_000)
    #expect(try TimelineFile.parse("time_ms,khz,policy,variant,latency_ns,violation,switch\n0,1,p,a,1,0,0\n", path: "t.csv").rows[0].switchNs == nil)
}

@Test(arguments: ["1e30", "-1e300", "inf"])
func timelineFrequencyNoIntegerHoldsIsAnErrorNotATrap(kHz: String) {
    let csv = "time_ms,khz,policy,variant,latency_ns,violation,switch\n0,\(kHz),p,v,10,0,0\n"
    #expect(throws: ReportError.self) { try TimelineFile.parse(csv, path: "t.csv") }
}
