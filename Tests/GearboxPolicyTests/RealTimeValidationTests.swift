import Testing
import GearboxCore
import GearboxHardware
import GearboxPortfolio
import GearboxProfiler
@testable import GearboxPolicy

/// A clock that only moves when the fakes say so.
final class FakeClock {
    var nowNs: Int64 = 0
}

/// Applies frequencies instantly and remembers them.
final class FakeController: FrequencyController {
    let source: MeasurementSource = .emulated
    let domains: [DeviceDescription.Domain] = [
        .init(cpus: [0], driver: "fake", governor: "userspace", governors: ["userspace"], minKHz: 600_000, maxKHz: 1_800_000,
              availableKHz: SyntheticPortfolio.frequenciesKHz, gridKHz: SyntheticPortfolio.frequenciesKHz),
    ]
    var applied: [Int] = []
    var enrolled = 0, restored = 0
    var currentKHz = 1_800_000
    func setFrequency(_ frequency: Frequency, forDomain domainIndex: Int) throws -> FrequencyChange {
        currentKHz = frequency.kHz
        applied.append(frequency.kHz)
        return FrequencyChange(requestedKHz: frequency.kHz, appliedKHz: frequency.kHz, speedRatio: Double(frequency.kHz) / 1_800_000, settleNs: 0, source: .emulated)
    }
    func enrollCurrentThread() throws { enrolled += 1 }
    func restore() throws { restored += 1 }
}

/// "Runs" a variant by advancing the clock by the table's mean latency at the controller's frequency.
final class FakeRunner: InferenceRunner {
    let clock: FakeClock
    let controller: FakeController
    let predictor: LatencyPredictor
    let table: LookupTable
    var active: Int?
    var activations: [String] = []
    var slowdown = 1.0
    init(clock: FakeClock, controller: FakeController, table: LookupTable) {
        self.clock = clock; self.controller = controller; self.table = table
        predictor = LatencyPredictor(table: table)
    }
    func activate(variantNamed name: String) throws {
        active = table.variants.firstIndex { $0.name == name }
        activations.append(name)
        clock.nowNs += 1_000_000
    }
    func runInference() throws {
        guard let v = active, let p = predictor.predict(variant: v, kHz: controller.currentKHz) else {
            throw PolicyError.runFailed(reason: "no active variant")
        }
        clock.nowNs += Int64(p.distribution.meanNs * slowdown)
    }
}

@Suite struct RealTimeValidationTests {
    let table = SyntheticPortfolio.table()
    let objective = LatencyObjective(statistic: .percentile(99), targetNs: 8_000_000)

    @Test func variantRunnerSetDrivesPortfolioRunners() throws {
        let manifest = PortfolioManifest(
            name: "synthetic",
            task: .init(dataset: "none", inputName: "x", inputShape: [1], classes: 2, preprocess: .init(scale: 1, mean: 0, std: 1)),
            variants: table.variants.map {
                .init(name: $0.name, file: $0.name + ".onnx", format: .dense, method: "synthetic", sparsity: 0, params: $0.params, macs: $0.macs,
                      accuracy: $0.accuracy, accuracySource: nil)
            })
        let backend = SpinBackend { _ in 0 }
        let set = try VariantRunnerSet(table: table, tableName: "t", portfolio: Portfolio(directory: "/nonexistent", manifest: manifest), backend: backend)
        #expect(backend.modelsLoaded == table.variants.count)
        #expect(throws: PolicyError.self) { try set.runInference() }
        try set.activate(variantNamed: "dense")
        try set.runInference()
        #expect(throws: PolicyError.self) { try set.activate(variantNamed: "missing") }
        var partial = manifest
        partial.variants.removeLast()
        #expect(throws: PolicyError.self) {
            try VariantRunnerSet(table: table, tableName: "t", portfolio: Portfolio(directory: "/x", manifest: partial), backend: backend)
        }
    }

    @Test func calibratedWorkScalesWithEachVariantsTopFrequencyMean() throws {
        let runner = CalibratedWorkRunner(table: table)
        runner.calibrate()
        let dense = try #require(runner.iterations["dense"]), small = try #require(runner.iterations["structured-88"])
        let targetRatio = try #require(runner.targetNs["dense"]) / #require(runner.targetNs["structured-88"])
        #expect(abs(Double(dense) / Double(small) / targetRatio - 1) < 0.01)
        try runner.activate(variantNamed: "structured-88")
        try runner.runInference()
        #expect(throws: PolicyError.self) { try runner.activate(variantNamed: "missing") }
    }

    func setUp() throws -> (RealTimeValidation, FakeController, FakeRunner) {
        let clock = FakeClock()
        let controller = FakeController()
        let runner = FakeRunner(clock: clock, controller: controller, table: table)
        let trace = try TraceSpec(parsing: "step").generate(levelsKHz: table.frequenciesKHz, durationMs: 2000)
        let validation = RealTimeValidation(
            table: table, trace: trace, objective: objective, controller: controller, runner: runner, clock: { clock.nowNs })
        return (validation, controller, runner)
    }

    func realTime(_ validation: RealTimeValidation, _ policies: [ValidationPolicy], durationMs: Double) throws -> ValidationReport {
        try Validator.runRealTime(
            validation, tableName: "synthetic", traceName: "step", policies: policies, durationMs: durationMs,
            pinning: nil, binder: UnpinnedThreadBinder())
    }

    @Test func appliesTheTraceRunsTheChosenVariantsAndRestoresTheController() throws {
        let (validation, controller, runner) = try setUp()
        let report = try realTime(validation, [.gearbox], durationMs: 2000)
        let run = try #require(report.runs.first)
        #expect(controller.applied == [1_800_000, 600_000])
        #expect(controller.enrolled == 1 && controller.restored == 1)
        #expect(runner.activations == ["dense", "structured-75"])
        #expect(run.rows.filter(\.switched).count == 1)
        #expect(run.rows.allSatisfy { !$0.violation })
        let switchRow = try #require(run.rows.first { $0.switched })
        #expect(switchRow.switchNs == 1_000_000)
        #expect(switchRow.kHz == 600_000)
    }

    @Test func staticAccurateRunsDenseAndViolatesAfterTheStep() throws {
        let (validation, _, runner) = try setUp()
        let run = try validation.run(.staticAccurate, durationMs: 2000)
        #expect(runner.activations == ["dense"])
        #expect(run.rows.filter { $0.kHz == 600_000 }.allSatisfy { $0.violation })
    }

    @Test func reportAssemblesEveryPolicyWithTheControllersSource() throws {
        let (validation, _, _) = try setUp()
        let report = try realTime(validation, ValidationPolicy.allCases, durationMs: 2000)
        #expect(report.summary.controller == .emulated)
        #expect(Set(report.summary.policies.keys) == Set(ValidationPolicy.allCases.map(\.rawValue)))
        #expect(report.summary.policies["gearbox"]?.regretVsOracle != nil)
        #expect(report.summary.policies["oracle"]?.note?.contains("table oracle") == true)
    }

    @Test func aFailingRunnerFailsTheRunInOneLineAndStillRestores() throws {
        final class Broken: InferenceRunner {
            func activate(variantNamed name: String) throws {}
            func runInference() throws { throw PolicyError.runFailed(reason: "engine exploded") }
        }
        let clock = FakeClock()
        let controller = FakeController()
        let trace = Fixtures.constant(1_800_000, durationMs: 100)
        let validation = RealTimeValidation(table: table, trace: trace, objective: objective, controller: controller, runner: Broken(), clock: { clock.nowNs })
        #expect(throws: PolicyError.self) { try realTime(validation, [.gearbox], durationMs: 100) }
        #expect(controller.restored == 1)
    }

    @Test func aSampleWindowRecordsTheMeanOfBackToBackInferencesPerRow() throws {
        let clock = FakeClock()
        let controller = FakeController()
        let runner = FakeRunner(clock: clock, controller: controller, table: table)
        let trace = Fixtures.constant(1_800_000, durationMs: 400)
        let windowNs: Int64 = 40_000_000
        let validation = RealTimeValidation(
            table: table, trace: trace, objective: objective, controller: controller, runner: runner, sampleWindowNs: windowNs,
            clock: { clock.nowNs })
        let run = try validation.run(.staticAccurate, durationMs: 400)
        // The fake runner advances the clock by whole nanoseconds.
        let meanNs = Double(Int64(try #require(LatencyPredictor(table: table).predict(variant: 0, kHz: 1_800_000)).distribution.meanNs))
        let expectedPerRow = Int((Double(windowNs) / meanNs).rounded(.up))
        #expect(run.rows.count > 2)
        // After the first row (which carries the initial load), every row is one full window.
        for row in run.rows.dropFirst() {
            #expect(row.inferences == expectedPerRow)
            #expect(abs(row.latencyNs / meanNs - 1) < 1e-9)
        }
        let result = ValidationMetrics.result(of: run, trace: trace, oracleAccuracy: nil)
        #expect(result.inferences == run.rows.reduce(0) { $0 + $1.inferences })
        #expect(result.inferences > run.rows.count)
        #expect(run.notes.contains { $0.contains("window") })
    }

    @Test func withoutAWindowEveryRowIsOneInference() throws {
        let (validation, _, _) = try setUp()
        let run = try validation.run(.staticFast, durationMs: 500)
        #expect(run.rows.allSatisfy { $0.inferences == 1 })
        #expect(!run.notes.contains { $0.contains("window") })
    }
}
