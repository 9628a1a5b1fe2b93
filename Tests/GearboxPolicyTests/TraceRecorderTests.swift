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

    @Test func recordsWhileTheCommandRunsAndTheHottestThermalZone() throws {
        let dump = try Fixtures.sysfsDump(SharedFixtures.armBoard)
        let root = dump.root
        // Two zones written into the extracted dump: the hotter one is recorded.
        let thermal = root + "/sys/class/thermal"
        try? FileManager.default.removeItem(atPath: thermal)
        for (zone, milli) in [("thermal_zone0", "41000"), ("thermal_zone1", "57500")] {
            try FileManager.default.createDirectory(atPath: thermal + "/" + zone, withIntermediateDirectories: true)
            try "cpu\n".write(toFile: thermal + "/" + zone + "/type", atomically: true, encoding: .utf8)
            try (milli + "\n").write(toFile: thermal + "/" + zone + "/temp", atomically: true, encoding: .utf8)
        }
        let recorder = try TraceRecorder(sysfsRoot: root)
        #expect(recorder.thermalZones.count == 2)
        var checks = 0
        // The "command" ends after three samples: recording stops there, well before the duration.
        let trace = try recorder.record(durationMs: 60_000, intervalMs: 5, whileRunning: { checks += 1; return checks < 3 })
        #expect(trace.samples.count == 3)
        #expect(trace.durationMs < 1000)
        #expect(trace.samples.allSatisfy { $0.temperatureC == 57.5 })
        let back = try FrequencyTrace.parse(csv: trace.csv(), path: "rec.csv")
        #expect(back.samples == trace.samples)
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
