// DemoPipeline: the demo's four steps as library calls, run with the simulated controller into
// a scratch directory (no DVFS, no measuring lock), and its set-up choices.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxPipeline
import GearboxPolicy
import GearboxTestSupport
import Testing

@Suite struct DemoPipelineTests {
    @Test func theSimulatedValidationAddsTheJointPolicyWhenTheTableHasEnergy() throws {
        var table = SyntheticPortfolio.table()
        #expect(DemoPipeline.simulatedPolicies(for: table) == ValidationPolicy.standard)
        table.variants[0].latency["1800000"]?.energyPerInferenceJ = 0.004
        #expect(DemoPipeline.simulatedPolicies(for: table) == ValidationPolicy.standard + [.gearboxJoint])
    }

    @Test func simulatedDemoWritesEveryStepUnderItsOutput() throws {
        let scratch = ScratchDirectory("demo-pipeline")
        let request = DemoRequest(
            quick: true, portfolioDirectory: SharedFixtures.packageRoot + "/Portfolios/default", controller: .simulated,
            outDirectory: scratch.path)
        var steps: [Int] = []
        var validated: [String] = []
        let result = try DemoPipeline.run(request) { event in
            switch event {
            case let .step(number, _): steps.append(number)
            case let .validated(_, session): validated.append(session.outDirectory)
            default: break
            }
        }
        #expect(steps == [1, 2, 3, 4])
        // Simulated: no real-time validation, so the report shows the simulated one.
        #expect(validated == [scratch.file("validation-simulated")])
        #expect(result.validationDirectory == scratch.file("validation-simulated"))
        #expect(result.lutPath.hasPrefix(scratch.file("Profiles/")) && result.lutPath.hasSuffix("/default.lut.json"))
        #expect(result.devicePath.hasPrefix(scratch.file("Devices/")))
        for path in [result.devicePath, result.lutPath, scratch.file("validation-simulated/summary.json"),
                     scratch.file("index.html"), scratch.file("report.md")] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("validation")))
        #expect(result.phases.map(\.name) == ["probe", "profile", "validate (simulated)", "report"])
    }

    @Test func missingPortfolioIsAnInputError() throws {
        let scratch = ScratchDirectory("demo-pipeline-missing")
        let request = DemoRequest(
            quick: true, portfolioDirectory: scratch.file("no-such-portfolio"), controller: .simulated, outDirectory: scratch.path)
        #expect(throws: (any Error).self) { try DemoPipeline.run(request) }
        #expect(DemoError.noPortfolio.exitStatus == .inputError)
        #expect(DemoError.noMeasuredCells(lut: "x").exitStatus == .failure)
    }

    @Test func budgetsAndLayout() {
        #expect(DemoPipeline.budget(quick: true) == (1.0, 3))
        #expect(DemoPipeline.budget(quick: false) == (1.5, 12))
        #expect(DemoPipeline.lutPath(out: "Reports/demo", deviceID: "dev", portfolio: "p") == "Reports/demo/Profiles/dev/p.lut.json")
    }
}
