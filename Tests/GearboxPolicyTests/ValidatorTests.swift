import Testing
import Foundation
import GearboxTestSupport
import GearboxCore
import GearboxProfiler
@testable import GearboxPolicy

@Suite struct ValidatorTests {
    let table = SyntheticPortfolio.table()

    func report(objective: String, policies: [ValidationPolicy] = ValidationPolicy.standard) throws -> ValidationReport {
        let trace = try TraceSpec(parsing: "step").generate(levelsKHz: table.frequenciesKHz, durationMs: 2000)
        return try Validator.simulate(
            table: table, tableName: "synthetic.lut.json", trace: trace, traceName: "step",
            objective: LatencyObjective(parsing: objective), policies: policies, options: .init(seed: 3, durationMs: 2000))
    }

    @Test func writesSummaryAndTimelineThatReadBack() throws {
        let scratch = ScratchDirectory("policy-report")
        let dir = scratch.file("Reports/run")
        let r = try report(objective: "p99<=8ms")
        try r.write(to: dir)
        let summary = try JSONFile.read(ValidationSummary.self, from: dir + "/summary.json")
        #expect(summary == r.summary)
        #expect(summary.controller == .simulated && summary.seed == 3)
        #expect(summary.objective == "p99<=8ms")
        #expect(summary.notes.contains { $0.hasPrefix("simulated:") })
        let timeline = try String(contentsOfFile: dir + "/timeline.csv", encoding: .utf8)
        #expect(timeline.hasPrefix(Timeline.header + "\n"))
        #expect(timeline.split(separator: "\n").count == 1 + r.runs.reduce(0) { $0 + $1.rows.count })
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    @Test func checkPassesWithinOnePercentAndFailsBeyond() throws {
        #expect(try report(objective: "p99<=8ms").check() == nil)
        let failing = try report(objective: "p99<=1ms").check()
        #expect(failing?.hasPrefix("check failed: gearbox violated p99<=1ms") == true)
        #expect(throws: PolicyError.self) { try report(objective: "p99<=8ms", policies: [.oracle]).check() }
    }

    @Test func regretIsMeasuredAgainstAnUnlistedOracle() throws {
        let r = try report(objective: "p99<=8ms", policies: [.gearbox])
        #expect(r.summary.policies.keys.sorted() == ["gearbox"])
        #expect(r.summary.policies["gearbox"]?.regretVsOracle != nil)
        #expect(r.summary.notes.contains { $0.contains("oracle run on the same trace and seed") })
    }

    @Test func policyListParsesAllAndCommaLists() throws {
        #expect(try ValidationPolicy.list(parsing: "all") == ValidationPolicy.standard)
        #expect(try ValidationPolicy.list(parsing: "oracle,gearbox") == [.gearbox, .oracle])
        #expect(throws: PolicyError.self) { try ValidationPolicy.list(parsing: "greedy") }
    }

    @Test func theSyntheticFixtureOnDiskMatchesTheGenerator() throws {
        // Tests/Fixtures/policy/synthetic-portfolio.lut.json is what demos and the CLI use.
        let path = SharedFixtures.packageRoot + "/Tests/Fixtures/policy/synthetic-portfolio.lut.json"
        if ProcessInfo.processInfo.environment["GEARBOX_REGENERATE_FIXTURES"] != nil {
            try JSONFile.write(table, to: path)
        }
        let onDisk = try JSONFile.read(LookupTable.self, from: path)
        var expected = table
        expected.provenance = onDisk.provenance  // host, commit and compiler differ per machine
        #expect(onDisk == expected)
    }
}
