// `gearbox validate --minimize energy / --board / --policy gearbox-joint` and `gearbox trace
// generate board-twin` from the command line: energy in both output files, and one-line exit-2
// errors when the figures or the controller are missing.

import Foundation
import GearboxTestSupport
import Testing

@Suite(.requiresBinary) struct ValidateEnergyCLITests {
    static let lut = GearboxBinary.repositoryRoot + "/Tests/Fixtures/policy/synthetic-portfolio.lut.json"

    @Test func aBoardModelGivesSimulatedEnergyAndTheJointPolicy() throws {
        let scratch = ScratchDirectory("cli-energy")
        let out = scratch.file("v")
        let result = try GearboxBinary.run(
            ["validate", "--lut", Self.lut, "--trace", "square:period=2s", "--objective", "p99<=8ms", "--board", "st-u8500",
             "--minimize", "energy", "--min-accuracy", "0.9", "--policy", "all,gearbox-joint", "--duration", "3s", "--out", out],
            directory: GearboxBinary.repositoryRoot)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("mJ/inf"))
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any])
        #expect(summary["energySource"] as? String == "simulated")
        let policies = try #require(summary["policies"] as? [String: [String: Any]])
        #expect(Set(policies.keys) == ["gearbox", "static-accurate", "static-fast", "oracle", "gearbox-joint"])
        #expect(policies.values.allSatisfy { ($0["energyPerInferenceJ"] as? Double ?? 0) > 0 })
        let header = try String(contentsOfFile: out + "/timeline.csv", encoding: .utf8).split(separator: "\n").first
        #expect(header == "time_ms,khz,policy,variant,latency_ns,violation,switch,switch_ns,energy_j,temperature_c")
    }

    @Test func energyWithoutFiguresAndJointInRealTimeAreOneLineInputErrors() throws {
        let scratch = ScratchDirectory("cli-energy")
        for (arguments, words) in [
            (["--minimize", "energy"], "--minimize"),
            (["--policy", "gearbox-joint"], "gearbox-joint needs energy figures"),
            (["--policy", "gearbox-joint", "--controller", "emulated", "--board", "st-u8500"], "simulated controller only"),
            (["--minimize", "watts"], "watts"),
            (["--board", "no-such-board"], "no-such-board"),
        ] {
            let result = try GearboxBinary.run(
                ["validate", "--lut", Self.lut, "--trace", "step", "--objective", "p99<=8ms", "--duration", "1s",
                 "--out", scratch.file("v")] + arguments, directory: GearboxBinary.repositoryRoot)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(words), "\(arguments): \(result.stderr)")
            #expect(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count <= 2, "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: scratch.file("v/summary.json")))
        }
    }

    @Test func boardTwinTracesNeedNoFrequencyLevelsAndCarryTemperature() throws {
        let scratch = ScratchDirectory("cli-energy")
        let out = scratch.file("twin.csv")
        let result = try GearboxBinary.run(
            ["trace", "generate", "board-twin:board=st-u8500,ambient=65,interval=1s", "--duration", "400s", "--out", out],
            directory: GearboxBinary.repositoryRoot)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.hasPrefix("# source=simulated") == true)
        #expect(lines.dropFirst().first == "time_ms,khz,temp_c")
        // At 65 °C ambient the trip caps the clock to 400 MHz within the 400 s.
        #expect(lines.contains { $0.split(separator: ",").dropFirst().first == "400000" })
    }
}
