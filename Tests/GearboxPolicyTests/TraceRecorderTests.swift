import Testing
import Foundation
import GearboxTestSupport
@testable import GearboxPolicy

@Suite(.requiresSysfsDumps) struct TraceRecorderTests {
    @Test func findsPolicyDomainsInAHybridDumpAndSamplesThem() throws {
        let dump = try Fixtures.sysfsDump(SharedFixtures.intelHybrid)
        let root = dump.root
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
        let dump = try Fixtures.sysfsDump(SharedFixtures.armBoard)
        let root = dump.root
        let recorder = try TraceRecorder(sysfsRoot: root)
        #expect(recorder.domains.map(\.name) == ["cpu0"])
        #expect(try recorder.readKHz().count == 1)
    }

    @Test func saysSoInOneLineWhenThereIsNoCpufreq() throws {
        let dump = try Fixtures.sysfsDump(SharedFixtures.fakeHeterogeneousNUMA)
        let root = dump.root
        #expect(throws: PolicyError.noCpufreq(root: root)) { try TraceRecorder(sysfsRoot: root) }
        let message = PolicyError.noCpufreq(root: root).description
        #expect(message.hasPrefix("no cpufreq on this machine"))
        #expect(!message.contains("\n"))
    }
}
