import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxPolicy

/// Traces, durations and timelines that would exhaust memory or trap are refused up front.
@Suite struct TraceBudgetTests {
    @Test(arguments: ["1e15,250000", "99999999999999999999,250000", "86400001,250000"])
    func aRowPastTheLongestTraceIsRefusedWithItsLine(row: String) {
        do {
            _ = try FrequencyTrace.parse(csv: "time_ms,khz\n0,500000\n\(row)\n", path: "t.csv")
            Issue.record("\(row) accepted")
        } catch let PolicyError.badTraceFile(path, line, reason) {
            #expect(path == "t.csv")
            #expect(line == 3)
            #expect(reason.contains("time_ms"))
        } catch { Issue.record("\(error)") }
    }

    @Test(arguments: ["0,1e30", "0,-5", "0,0", "0,100000001", "0,nan"])
    func aFrequencyNoIntegerHoldsIsRefusedNotTrapped(row: String) {
        #expect(throws: PolicyError.self) { try FrequencyTrace.parse(csv: "time_ms,khz\n\(row)\n", path: "t.csv") }
    }

    @Test func aStatedDurationPastTheBudgetIsRefused() {
        #expect(throws: PolicyError.self) {
            try FrequencyTrace.parse(csv: "# duration_ms=1e15\ntime_ms,khz\n0,500000\n", path: "t.csv")
        }
    }

    @Test func moreRowsThanTheBudgetAreRefusedAtTheFirstRowPastIt() {
        var text = "time_ms,khz\n"
        text.reserveCapacity(FrequencyTrace.maximumSamples * 12)
        for i in 0...FrequencyTrace.maximumSamples { text += "\(i),500000\n" }
        do {
            _ = try FrequencyTrace.parse(csv: text, path: "t.csv")
            Issue.record("accepted")
        } catch let PolicyError.badTraceFile(_, line, reason) {
            #expect(line == FrequencyTrace.maximumSamples + 2)
            #expect(reason.contains("\(FrequencyTrace.maximumSamples)"))
        } catch { Issue.record("\(error)") }
    }

    @Test func aBinaryTraceFileIsMalformedNotMissing() throws {
        let scratch = ScratchDirectory("trace")
        let path = scratch.file("binary.csv")
        try Data([0x7f, 0x45, 0x4c, 0x46, 0x00, 0xff, 0xfe, 0x00]).write(to: URL(fileURLWithPath: path))
        do {
            _ = try FrequencyTrace.read(csvAt: path)
            Issue.record("accepted")
        } catch let FileFormatError.malformed(file, reason) {
            #expect(file == path)
            #expect(reason.contains("UTF-8"))
        }
        #expect(throws: FileFormatError.cannotRead(path: scratch.file("none.csv"), reason: "no such file")) {
            try FrequencyTrace.read(csvAt: scratch.file("none.csv"))
        }
    }

    @Test func generatorsRefuseDurationsAndSampleCountsPastTheBudget() throws {
        #expect(throws: PolicyError.self) { try TraceSpec(parsing: "step").generate(levelsKHz: [500_000], durationMs: 1e14) }
        #expect(throws: PolicyError.self) {
            try TraceSpec(parsing: "random-walk:interval=1us").generate(levelsKHz: [500_000, 1_000_000], durationMs: 3_600_000)
        }
        #expect(throws: PolicyError.self) {
            try TraceSpec(parsing: "step:from=1e30GHz").generate(levelsKHz: [500_000], durationMs: 1000)
        }
        #expect(throws: Never.self) { try TraceSpec(parsing: "square:period=2s").generate(levelsKHz: [500_000, 1_000_000], durationMs: 20_000) }
    }

    @Test func theRowBudgetRefusesALongRunOfAFastTable() {
        #expect(throws: PolicyError.self) { try Timeline.checkRowBudget(durationMs: 3_600_000, fastestLatencyNs: 1000) }
        #expect(throws: Never.self) { try Timeline.checkRowBudget(durationMs: 20_000, fastestLatencyNs: 1_000_000) }
    }

    @Test func timelineLatenciesNoIntegerHoldsAreWrittenNotTrapped() {
        let row = TimelineRow(timeMs: 0, kHz: 500_000, policy: .gearbox, variant: "v", latencyNs: 1e30, violation: true,
                              switched: false, switchNs: .infinity)
        let csv = Timeline.csv([PolicyRun(policy: .gearbox, rows: [row], accuracyByVariant: [:], notes: [])])
        #expect(csv.contains("1e+30"))
        #expect(csv.contains("inf"))
    }
}
