import Testing
import Foundation
import GearboxTestSupport
@testable import GearboxPolicy

@Suite struct FrequencyTraceTests {
    @Test func holdsEachSampleUntilTheNext() {
        let trace = FrequencyTrace(name: "t", points: [(0, 1000), (10, 500), (20, 800)], durationMs: 30)
        #expect(trace.kHz(atMs: 0) == 1000)
        #expect(trace.kHz(atMs: 9.99) == 1000)
        #expect(trace.kHz(atMs: 10) == 500)
        #expect(trace.kHz(atMs: 29) == 800)
        #expect(trace.kHz(atMs: 100) == 800)
    }

    @Test func mergesRepeatedFrequenciesIntoSegments() {
        let trace = FrequencyTrace(name: "t", points: [(0, 1000), (10, 1000), (20, 500)], durationMs: 30)
        let segments = trace.segments()
        #expect(segments.count == 2)
        #expect(segments[0] == .init(startMs: 0, endMs: 20, kHz: 1000))
        #expect(segments[1] == .init(startMs: 20, endMs: 30, kHz: 500))
    }

    @Test func csvRoundTripsWithSourceAndDuration() throws {
        let trace = FrequencyTrace(name: "square:period=2s", points: [(0, 1_800_000), (1000, 600_000)], durationMs: 2000)
        let back = try FrequencyTrace.parse(csv: trace.csv(), path: "t.csv")
        #expect(back.samples == trace.samples)
        #expect(back.durationMs == 2000)
        #expect(back.source == .simulated)
        #expect(trace.csv().contains("time_ms,khz\n0,1800000\n1000,600000\n"))
    }

    @Test func readsMultiDomainRecordingsAndCountsThemReal() throws {
        let text = "time_ms,khz_policy0,khz_policy4\n0,600000,1000000\n100,800000,1200000\n200,800000,1400000\n"
        let trace = try FrequencyTrace.parse(csv: text, path: "rec.csv")
        #expect(trace.domainNames == ["khz_policy0", "khz_policy4"])
        #expect(trace.kHz(atMs: 150, domain: 1) == 1_200_000)
        #expect(trace.durationMs == 300)
        #expect(trace.source == .real)
    }

    @Test(arguments: [
        ("", 1, "empty"),
        ("time,khz\n0,1\n", 1, "header"),
        ("time_ms,khz\n0,100\n5,100,7\n", 3, "expected 2 columns"),
        ("time_ms,khz\n0,100\nsoon,100\n", 3, "time_ms"),
        ("time_ms,khz\n10,100\n5,100\n", 3, "backwards"),
        ("time_ms,khz\n# comment\n\n0,fast\n", 4, "not a positive frequency"),
        ("time_ms,khz\n", 2, "no samples"),
    ])
    func parseErrorsNameTheFileAndLine(text: String, line: Int, phrase: String) {
        do {
            _ = try FrequencyTrace.parse(csv: text, path: "trace.csv")
            Issue.record("expected an error for \(text.debugDescription)")
        } catch let error as PolicyError {
            guard case let .badTraceFile(path, reported, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(path == "trace.csv")
            #expect(reported == line)
            #expect("\(error)".contains("trace.csv:\(line):"))
            #expect("\(error)".contains(phrase))
            #expect(!"\(error)".contains("\n"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func writesAtomicallyAndReadsBack() throws {
        let scratch = ScratchDirectory("policy-trace")
        let dir = scratch.path
        let trace = FrequencyTrace(name: "step", points: [(0, 2), (5, 1)], durationMs: 10)
        try trace.write(to: dir + "/t.csv")
        #expect(try FrequencyTrace.read(csvAt: dir + "/t.csv").samples == trace.samples)
        #expect(throws: (any Error).self) { try FrequencyTrace.read(csvAt: dir + "/missing.csv") }
    }
}
