// Energy-aware policy: `--minimize energy` with an accuracy floor, energy figures in summary.json
// and timeline.csv (labelled as the table's cells, or simulated from a board model), the board
// twin's thermal trace, `gearbox-joint` on it, and the safety margin taken from the table's CI.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxRuntime
import GearboxTestSupport
import Testing
@testable import GearboxPolicy

@Suite struct EnergyPolicyTests {
    static let boards = BoardCatalog(directory: SharedFixtures.packageRoot + "/Devices/boards")

    /// A cell whose percentiles are fixed multiples of `meanNs`, its CI `relativeCI` of the p50.
    static func cell(meanNs: Nanoseconds, energyJ: Double? = nil, relativeCI: Double = 0.02, source: MeasurementSource = .emulated) -> LookupTable.LatencyCell {
        .init(p50Ns: 0.97 * meanNs, p90Ns: 1.1 * meanNs, p99Ns: 1.2 * meanNs, p999Ns: 1.3 * meanNs, maxNs: 1.35 * meanNs,
              meanNs: meanNs, stddevNs: 0.05 * meanNs, ciHalfWidthNs: relativeCI * 0.97 * meanNs, samples: 1000, source: source,
              energyPerInferenceJ: energyJ)
    }

    /// A hand-made table on st-u8500's two frequencies: (name, accuracy, mean ms at 800 MHz, at 400 MHz),
    /// half of each latency frequency-independent (memory-bound), as small boards often are. With
    /// `energy`, each cell carries a hand-made energy per inference (power × mean) labelled emulated.
    static func boardTable(energy: Bool = false) -> LookupTable {
        let shape: [(String, Double, Double, Double)] = [("big", 0.92, 10, 15), ("mid", 0.90, 6, 9), ("small", 0.86, 3.5, 5.25)]
        let watts = [400_000: 0.368, 800_000: 0.7125]
        let variants = shape.map { name, accuracy, fast, slow in
            LookupTable.Variant(
                name: name, format: "dense", accuracy: accuracy, params: 1000, macs: Int(fast * 1e6), memoryBytes: 4096,
                latency: [
                    "800000": cell(meanNs: Nanoseconds(milliseconds: fast), energyJ: energy ? watts[800_000]! * fast / 1e3 : nil),
                    "400000": cell(meanNs: Nanoseconds(milliseconds: slow), energyJ: energy ? watts[400_000]! * slow / 1e3 : nil),
                ],
                counters: [:], model: nil)
        }
        var switches: [String: [String: LookupTable.SwitchCost]] = [:]
        for from in shape { for to in shape where to.0 != from.0 { switches[from.0, default: [:]][to.0] = .init(cold: nil, warm: 200_000) } }
        return LookupTable(
            device: "st-u8500", portfolio: "hand-made", controller: .emulated,
            provenance: Provenance(deviceID: "st-u8500", controller: .emulated, notes: ["hand-made test table"]),
            frequenciesKHz: [400_000, 800_000], variants: variants, switchCostNs: switches)
    }

    @Test func minimisingEnergyPicksTheLeastEnergyVariantMeetingTheTargetAndTheFloor() throws {
        let table = Self.boardTable(energy: true)
        let objective = try LatencyObjective(parsing: "p99<=12ms")
        for floor in [nil, 0.89] as [Double?] {
            let selector = try VariantSelector(
                table: table, objective: objective,
                configuration: .init(safetyMargin: 0.05, hysteresis: false, minimize: .energy, minimumAccuracy: floor))
            for kHz in table.frequenciesKHz {
                let fitting = selector.variants.indices.filter { selector.fits(variantIndex: $0, frequencyKHz: kHz) }
                let expected = try #require(fitting.min {
                    (selector.energyJoules(variantIndex: $0, frequencyKHz: kHz) ?? .infinity) < (selector.energyJoules(variantIndex: $1, frequencyKHz: kHz) ?? .infinity)
                })
                let chosen = selector.decide(frequencyKHz: kHz, atNs: 0).variantIndex
                #expect(chosen == expected)
                #expect(selector.variants[chosen].name == (floor == nil ? "small" : "mid"))
            }
        }
        // Maximising accuracy instead: the most accurate fitting variant (big's p99 at 800 MHz is 12 ms, over the margin).
        let accurate = try VariantSelector(table: table, objective: objective, configuration: .init(safetyMargin: 0.05, hysteresis: false))
        #expect(accurate.variants[accurate.decide(frequencyKHz: 800_000, atNs: 0).variantIndex].name == "mid")
    }

    @Test func aFloorNoVariantReachesIsOneLineNamingTheSetting() throws {
        #expect(throws: PolicyError.self) {
            try VariantSelector(table: Self.boardTable(energy: true), objective: LatencyObjective(parsing: "p99<=12ms"),
                                configuration: .init(minimize: .energy, minimumAccuracy: 0.99))
        }
        #expect(throws: PolicyError.self) {
            try VariantSelector(table: Self.boardTable(energy: false), objective: LatencyObjective(parsing: "p99<=12ms"),
                                configuration: .init(minimize: .energy))
        }
    }

    @Test func summaryAndTimelineCarryTheTablesEnergyUnderItsLabel() throws {
        let table = Self.boardTable(energy: true)
        let trace = FrequencyTrace(name: "square", points: [(0, 800_000), (1000, 400_000)], durationMs: 2000)
        let report = try Validator.simulate(
            table: table, tableName: "hand-made.lut.json", trace: trace, traceName: "square",
            objective: LatencyObjective(parsing: "p99<=12ms"), policies: ValidationPolicy.standard,
            options: .init(durationMs: 2000))
        #expect(report.summary.energySource == .emulated)
        for policy in ValidationPolicy.standard {
            let joules = try #require(report.summary.policies[policy.rawValue]?.energyPerInferenceJ)
            // Between the cheapest (small at 400 MHz) and the dearest (big at 800 MHz) cell, switches aside.
            #expect(joules > 0.368 * 5.25e-3 * 0.5 && joules < 0.7125 * 15e-3)
        }
        let csv = Timeline.csv(report.runs)
        #expect(csv.hasPrefix("time_ms,khz,policy,variant,latency_ns,violation,switch,switch_ns,energy_j,temperature_c\n"))
        let first = try #require(csv.split(separator: "\n").dropFirst().first)
        let fields = first.split(separator: ",", omittingEmptySubsequences: false)
        #expect(fields.count == 10)
        #expect(Double(fields[8]) != nil && fields[9].isEmpty)
        #expect(report.summary.notes.contains { $0.hasPrefix("energy: emulated") })
    }

    @Test func withoutTheTablesEnergyTheBoardsPowerModelIsSimulated() throws {
        let model = try Self.boards.load("st-u8500")
        let table = Self.boardTable(energy: false)
        let estimate = EnergyEstimate(board: model, domain: 0, table: table)
        #expect(estimate.source == .simulated)
        let expected = model.power.staticWatts + model.dynamicWatts(domain: 0, kHz: 800_000, utilisation: model.domains[0].utilisation)
        #expect(try #require(estimate.watts(variant: 0, kHz: 800_000)) == expected)
        #expect(abs(try #require(estimate.joules(variant: 1, kHz: 800_000)) - expected * 6e-3) < 1e-12)
        #expect(EnergyEstimate(table: table) == nil)
        #expect(EnergyEstimate(table: Self.boardTable(energy: true))?.source == .emulated)
    }

    @Test func theBoardTwinTraceThrottlesAtTheTripAndRecordsTemperature() throws {
        let model = try Self.boards.load("st-u8500")
        let trace = try BoardTwinTrace(model: model, ambientCelsius: 65).trace(durationMs: 600_000, intervalMs: 1000)
        #expect(trace.source == .simulated)
        #expect(trace.distinctKHz() == [400_000, 800_000])
        #expect(trace.samples.first?.kHz == [800_000])
        // The cap engages when the die crosses the trip and lifts below trip − hysteresis; a sample
        // comes up to one interval later, by when the die moved less than 0.5 °C (τ = RC = 90 s).
        let trip = model.thermal.trips[0]
        var changes = 0
        for (sample, next) in zip(trace.samples, trace.samples.dropFirst()) where sample.kHz != next.kHz {
            let celsius = try #require(next.temperatureC)
            if next.kHz[0] == 400_000 {
                #expect(celsius >= trip.celsius - 0.5)
            } else {
                #expect(celsius < trip.celsius - trip.hysteresisCelsius + 0.5)
            }
            changes += 1
        }
        #expect(changes >= 2)
        // The CSV keeps the temperature column and reads back the same.
        let back = try FrequencyTrace.parse(csv: trace.csv(), path: "twin.csv")
        #expect(back.hasTemperature)
        #expect(back.samples.count == trace.samples.count)
        #expect(abs((back.temperatureC(atMs: 300_000) ?? 0) - (trace.temperatureC(atMs: 300_000) ?? 1)) < 0.001)
        // At the model's own ambient the board never gets near the trip: no throttling.
        let cool = try BoardTwinTrace(model: model).trace(durationMs: 600_000, intervalMs: 1000)
        #expect(cool.distinctKHz() == [800_000])
    }

    @Test func traceCSVWithABadTemperatureNamesTheLine() throws {
        #expect(throws: PolicyError.badTraceFile(path: "t.csv", line: 3, reason: "temp_c 'hot' is not a temperature in °C (-273...1000, or empty)")) {
            try FrequencyTrace.parse(csv: "time_ms,khz,temp_c\n0,800000,40\n10,400000,hot\n", path: "t.csv")
        }
        let old = try FrequencyTrace.parse(csv: "time_ms,khz\n0,800000\n", path: "old.csv")
        #expect(!old.hasTemperature && !old.csv().contains("temp_c"))
    }

    /// The policy test: on a thermal trace from the board's twin, the joint policy (frequency
    /// under the cap and variant together) uses less energy per inference than gearbox (variant
    /// only, at the cap) at the same violation rate. Simulated controller, energy simulated from
    /// the board's power model.
    @Test func jointUsesLessEnergyThanGearboxOnAThermalTrace() throws {
        let model = try Self.boards.load("st-u8500")
        let table = Self.boardTable(energy: false)
        let trace = try BoardTwinTrace(model: model, ambientCelsius: 65).trace(durationMs: 400_000, intervalMs: 1000)
        #expect(trace.distinctKHz() == [400_000, 800_000])
        let objective = try LatencyObjective(parsing: "p99<=12ms")
        for minimize in [nil, VariantSelector.MinimizedQuantity.energy] {
            let report = try Validator.simulate(
                table: table, tableName: "hand-made.lut.json", trace: trace, traceName: "board-twin", objective: objective,
                policies: [.gearbox, .gearboxJoint],
                options: .init(durationMs: trace.durationMs, selector: .init(minimize: minimize, minimumAccuracy: 0.89),
                               energy: EnergyEstimate(board: model, domain: 0, table: table)))
            #expect(report.summary.energySource == .simulated)
            let gearbox = try #require(report.summary.policies["gearbox"])
            let joint = try #require(report.summary.policies["gearbox-joint"])
            let gearboxJ = try #require(gearbox.energyPerInferenceJ), jointJ = try #require(joint.energyPerInferenceJ)
            #expect(jointJ < gearboxJ * 0.95, "joint \(jointJ) J vs gearbox \(gearboxJ) J")
            #expect(joint.violationRate <= max(gearbox.violationRate, 0.001) + 0.002)
            #expect(joint.violationRate <= 0.01)
            // Joint never runs above the trace's cap.
            let run = try #require(report.runs.first { $0.policy == .gearboxJoint })
            #expect(run.rows.allSatisfy { $0.kHz <= trace.kHz(atMs: $0.timeMs) })
            #expect(run.rows.allSatisfy { $0.temperatureC != nil })
            #expect(run.notes.contains { $0.hasPrefix("simulated controller only") })
        }
    }

    @Test func jointIsRefusedWithoutEnergyAndInRealTime() throws {
        let scratch = ScratchDirectory("energy-policy")
        let path = scratch.file("hand-made.lut.json")
        try JSONFile.write(Self.boardTable(energy: false), to: path)
        var request = ValidationRequest(
            lutPath: path, trace: "step", objective: try LatencyObjective(parsing: "p99<=12ms"), policies: [.gearboxJoint])
        #expect(throws: PolicyError.badSetting(name: "--policy", reason: "gearbox-joint needs energy figures: a table with energyPerInferenceJ cells, or --board NAME to simulate them")) {
            try ValidationSession.prepare(request)
        }
        request.controller = .emulated
        #expect(throws: PolicyError.badSetting(name: "--policy", reason: "gearbox-joint runs on the simulated controller only (use --controller simulated)")) {
            try ValidationSession.prepare(request)
        }
        #expect(try ValidationPolicy.list(parsing: "all") == ValidationPolicy.standard)
        #expect(try ValidationPolicy.list(parsing: "gearbox-joint,gearbox") == [.gearbox, .gearboxJoint])
    }

    @Test func theSafetyMarginDefaultsToTheTablesRelativeCIAtTheCellUsed() throws {
        var table = Self.boardTable(energy: true)
        // mid's cell at 400 MHz has a 1% CI, at 800 MHz 8%.
        table.variants[1].latency["400000"] = Self.cell(meanNs: 9e6, relativeCI: 0.01)
        table.variants[1].latency["800000"] = Self.cell(meanNs: 6e6, relativeCI: 0.08)
        // A target mid's 400 MHz p99 (10.8 ms) meets with 1% to spare but not with 5%.
        let objective = try LatencyObjective(parsing: "p99<=11ms")
        let fromTable = try VariantSelector(table: table, objective: objective, configuration: .init(hysteresis: false))
        let mid = try #require(fromTable.index(ofVariantNamed: "mid"))
        #expect(abs(fromTable.safetyMargin(variantIndex: mid, frequencyKHz: 400_000) - 0.01) < 1e-12)
        #expect(abs(fromTable.safetyMargin(variantIndex: mid, frequencyKHz: 800_000) - 0.08) < 1e-12)
        // Off the grid the cell below is used.
        #expect(abs(fromTable.safetyMargin(variantIndex: mid, frequencyKHz: 600_000) - 0.01) < 1e-12)
        #expect(fromTable.fits(variantIndex: mid, frequencyKHz: 400_000))
        #expect(fromTable.budgetNs == objective.targetNs)
        // An explicit margin wins everywhere.
        let fixed = try VariantSelector(table: table, objective: objective, configuration: .init(safetyMargin: 0.05, hysteresis: false))
        #expect(fixed.safetyMargin(variantIndex: mid, frequencyKHz: 400_000) == 0.05)
        #expect(!fixed.fits(variantIndex: mid, frequencyKHz: 400_000))
        #expect(fixed.budgetNs == objective.targetNs * 0.95)
    }
}

@Suite struct EnergyCLIRequestTests {
    /// A simulated validation run through the session, as `gearbox validate --trace twin.csv --board
    /// st-u8500 --minimize energy --policy all,gearbox-joint` makes it, writes energy and the trace's
    /// temperature into both files.
    @Test func aSessionWithABoardWritesEnergyAndTheJointPolicy() throws {
        let scratch = ScratchDirectory("energy-session")
        let lut = scratch.file("hand-made.lut.json")
        try JSONFile.write(EnergyPolicyTests.boardTable(energy: false), to: lut)
        let model = try EnergyPolicyTests.boards.load("st-u8500")
        let trace = scratch.file("twin.csv")
        try BoardTwinTrace(model: model, ambientCelsius: 65).trace(durationMs: 300_000, intervalMs: 1000).write(to: trace)
        var request = ValidationRequest(
            lutPath: lut, trace: trace, objective: try LatencyObjective(parsing: "p99<=12ms"),
            policies: try ValidationPolicy.list(parsing: "all,gearbox-joint"),
            outDirectory: scratch.file("out"), selector: .init(minimize: .energy), board: "st-u8500")
        request.boardsDirectory = EnergyPolicyTests.boards.directory
        let session = try ValidationSession.prepare(request)
        #expect(session.trace.hasTemperature)
        let report = try session.run()
        try report.write(to: session.outDirectory)
        let summary = try JSONFile.read(ValidationSummary.self, from: scratch.file("out/summary.json"))
        #expect(summary.energySource == .simulated)
        #expect(Set(summary.policies.keys) == Set((ValidationPolicy.standard + [.gearboxJoint]).map(\.rawValue)))
        #expect(summary.policies.values.allSatisfy { $0.energyPerInferenceJ != nil })
        let timeline = try String(contentsOfFile: scratch.file("out/timeline.csv"), encoding: .utf8)
        let row = try #require(timeline.split(separator: "\n").dropFirst().first).split(separator: ",", omittingEmptySubsequences: false)
        #expect(Double(row[8]) != nil && Double(row[9]) != nil)
    }

    @Test func aTableProfiledOnABoardModelGetsThatModelsEnergyAndNamesIt() throws {
        let scratch = ScratchDirectory("energy-session")
        let lut = scratch.file("on-board.lut.json")
        var table = EnergyPolicyTests.boardTable(energy: false)
        table.provenance.board = BoardLabel(name: "st-u8500")
        try JSONFile.write(table, to: lut)
        var request = ValidationRequest(
            lutPath: lut, trace: "step", objective: try LatencyObjective(parsing: "p99<=12ms"), durationMs: 2000,
            outDirectory: scratch.file("out"))
        request.boardsDirectory = EnergyPolicyTests.boards.directory
        let session = try ValidationSession.prepare(request)
        #expect(session.energy?.source == .simulated)
        let report = try session.run()
        #expect(report.summary.energySource == .simulated)
        #expect(report.summary.provenance.board == BoardLabel(name: "st-u8500"))
        // A table without a board and without energy has no energy figures at all.
        table.provenance.board = nil
        try JSONFile.write(table, to: lut)
        #expect(try ValidationSession.prepare(request).energy == nil)
    }
}
