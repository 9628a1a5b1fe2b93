// ValidationSession and RealTimeValidationSession: the set-up `gearbox validate` delegates to
// the library (timing settings, default output, which runner, what is refused before any
// hardware is touched), and a simulated run end to end.

import Foundation
import GearboxCore
import GearboxProfiler
import GearboxRuntime
import GearboxTestSupport
import Testing
@testable import GearboxPolicy

@Suite struct ValidationSessionTests {
    static let lut = SharedFixtures.packageRoot + "/Tests/Fixtures/policy/synthetic-portfolio.lut.json"

    static func request(_ trace: String = "step", controller: MeasurementSource = .simulated) throws -> ValidationRequest {
        ValidationRequest(lutPath: lut, trace: trace, objective: try LatencyObjective(parsing: "p99<=8ms"), controller: controller)
    }

    @Test func timingSettingsParseAndResolve() throws {
        #expect(try RealTimeTiming(parsing: "auto", setting: "--settle") == .auto)
        #expect(try RealTimeTiming(parsing: "0", setting: "--settle") == .nanoseconds(0))
        #expect(try RealTimeTiming(parsing: "32ms", setting: "--settle") == .nanoseconds(32_000_000))
        #expect(RealTimeTiming.auto.resolved(automatic: 252_000_000) == 252_000_000)
        #expect(RealTimeTiming.nanoseconds(5).resolved(automatic: 252_000_000) == 5)
        #expect(throws: PolicyError.self) { try RealTimeTiming(parsing: "soon", setting: "--settle") }
    }

    @Test func defaultOutputIsNamedAfterTheTrace() throws {
        let session = try ValidationSession.prepare(try Self.request("square:period=2s"))
        #expect(session.outDirectory == "Reports/validate-square-period-2s")
        #expect(session.durationMs == 20_000)
    }

    @Test func realTimeRefusesSlowdownsBeforeTouchingTheController() throws {
        var request = try Self.request(controller: .emulated)
        request.slowdowns = [try Slowdown(parsing: "1.3@10s")]
        #expect(throws: PolicyError.badSetting(name: "--slowdown", reason: "only the simulated controller can inject slow-downs")) {
            try ValidationSession.prepare(request)
        }
    }

    @Test func portfolioRunnerNeedsAPortfolio() throws {
        let request = try Self.request(controller: .real)
        let table = try LookupTable.read(from: Self.lut)
        #expect(throws: PolicyError.self) { try RealTimeValidationSession.makeRunner(request, table: table) }
        var work = request
        work.runner = .work
        let (runner, _, note) = try RealTimeValidationSession.makeRunner(work, table: table)
        #expect(runner is CalibratedWorkRunner)
        #expect(note.hasPrefix("runner: calibrated CPU work"))
    }

    @Test func simulatedControllerIsNotARealTimeSetUp() throws {
        let request = try Self.request()
        let table = try LookupTable.read(from: Self.lut)
        let trace = Fixtures.constant(table.frequenciesKHz.max() ?? 1, durationMs: 1000)
        #expect(throws: PolicyError.self) { try RealTimeValidationSession.prepare(request, table: table, trace: trace) }
    }

    @Test func simulatedSessionRunsAndWrites() throws {
        let scratch = ScratchDirectory("validation-session")
        var request = try Self.request()
        request.outDirectory = scratch.file("step")
        request.durationMs = 2000
        let session = try ValidationSession.prepare(request)
        var events: [ValidationEvent] = []
        let report = try session.run(events: { events.append($0) })
        try report.write(to: session.outDirectory)
        #expect(events.isEmpty)
        #expect(report.summary.controller == .simulated)
        #expect(Set(report.summary.policies.keys) == Set(ValidationPolicy.standard.map(\.rawValue)))
        #expect(FileManager.default.fileExists(atPath: scratch.file("step/summary.json")))
        #expect(FileManager.default.fileExists(atPath: scratch.file("step/timeline.csv")))
    }
}
