import Testing
import Foundation
import GearboxTestSupport
@testable import GearboxPolicy

@Suite struct TraceRecorderTests {
    @Test func findsPolicyDomainsInAHybridDumpAndSamplesThem() throws {
        let dump = Fixtures.sysfsDump("20em64t-hybrid-1p6c2t+2ca4co1t")
        guard let root = dump.root else { print("skipped: \(dump.reason)"); return }
        let recorder = try TraceRecorder(sysfsRoot: root)
        #expect(recorder.domains.count >= 2)
        #expect(recorder.domains.allSatisfy { $0.name.hasPrefix("policy") })
        let trace = try recorder.record(durationMs: 30, intervalMs: 10)
        #expect(trace.samples.count == 3)
        #expect(trace.domainNames.count == recorder.domains.count)
        #expect(trace.samples.allSatisfy { $0.kHz.allSatisfy { $0 > 0 } })
        #expect(trace.source == .real)
        // What it writes reads back.
        #expect(try FrequencyTrace.parse(csv: trace.csv(), path: "rec.csv").samples == trace.samples)
    }

    @Test func readsTheOlderPerCPULayout() throws {
        let dump = Fixtures.sysfsDump("2arm-2c")
        guard let root = dump.root else { print("skipped: \(dump.reason)"); return }
        let recorder = try TraceRecorder(sysfsRoot: root)
        #expect(recorder.domains.map(\.name) == ["cpu0"])
        #expect(try recorder.readKHz().count == 1)
    }

    @Test func saysSoInOneLineWhenThereIsNoCpufreq() throws {
        let dump = Fixtures.sysfsDump("fakeheterocpunuma")
        let root = dump.root ?? dump.scratch.path  // empty: no cpufreq either
        #expect(throws: PolicyError.noCpufreq(root: root)) { try TraceRecorder(sysfsRoot: root) }
        let message = PolicyError.noCpufreq(root: root).description
        #expect(message.hasPrefix("no cpufreq on this machine"))
        #expect(!message.contains("\n"))
    }
}
