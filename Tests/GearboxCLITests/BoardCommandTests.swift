// Tests for `gearbox board`, run as a subprocess: list and show read the shipped models, bad
// names exit 2 with one line, and (as root) `board run` shows the board's live tree to the
// command: a probe inside sees the board's frequencies and thermal zone, and `dvfs set` inside
// settles only after the model's transition latency.

import Foundation
import GearboxTestSupport
import Testing

private let boards = SharedFixtures.packageRoot + "/Devices/boards"

@Suite(.requiresBinary) struct BoardCommandTests {
    @Test func listNamesTheShippedModelsAsModels() throws {
        let result = try GearboxBinary.run(["board", "list", "--boards", boards, "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(entries.compactMap { $0["name"] as? String } == ["intel-i7-1370p", "st-u8500"])
        #expect(entries.allSatisfy { $0["model"] as? Bool == true })
    }

    @Test func showSaysItIsAModelAndWhereEachFigureComesFrom() throws {
        let result = try GearboxBinary.run(["board", "show", "st-u8500", "--boards", boards])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("a model, not a measurement"))
        #expect(result.stdout.contains("400 MHz"))
        #expect(result.stdout.contains("power.staticWatts: assumption:"))
    }

    @Test func anUnknownBoardIsAnInputErrorOnOneLine() throws {
        for arguments in [["board", "show", "nope", "--boards", boards], ["board", "run", "nope", "--boards", boards, "--", "true"]] {
            let result = try GearboxBinary.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("no board model \"nope\""))
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func aProbeInsideTheBoardSeesTheBoardsFrequenciesAndThermalZone() throws {
        let scratch = ScratchDirectory("board-run")
        let output = scratch.file("device.json")
        let result = try GearboxBinary.run([
            "board", "run", "st-u8500", "--boards", boards, "--",
            try GearboxBinary.built(), "device", "probe", "--output", output,
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let data = try #require(FileManager.default.contents(atPath: output))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let dvfs = try #require(json["dvfs"] as? [String: Any])
        let domains = try #require(dvfs["domains"] as? [[String: Any]])
        try #require(domains.count == 1)
        #expect(domains[0]["availableKHz"] as? [Int] == [400000, 800000])
        #expect(domains[0]["driver"] as? String == "U8500")
        let zones = try #require(json["thermalZones"] as? [[String: Any]])
        #expect(zones.compactMap { $0["type"] as? String } == ["db8500_thermal"])
        // The board's tree is gone and the host's view untouched.
        #expect(!FileManager.default.fileExists(atPath: "/sys/devices/system/cpu/gearbox-board.json"))
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func dvfsSetInsideTheBoardSettlesOnlyAfterTheTransitionLatency() throws {
        let state = ScratchDirectory("board-state")
        let gearbox = try GearboxBinary.built()
        let script = "\(gearbox) dvfs set --domain 0 --khz 400000 --json && cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq"
        let result = try GearboxBinary.run(["board", "run", "st-u8500", "--boards", boards, "--", "sh", "-c", script],
                                           environment: ["GEARBOX_STATE_DIR": state.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.last == "400000")
        let jsonText = lines.dropLast().joined(separator: "\n")
        let change = try #require(try JSONSerialization.jsonObject(with: Data(jsonText.utf8)) as? [String: Any])
        #expect(change["appliedKHz"] as? Int == 400000)
        #expect(change["settled"] as? Bool == true)
        let settleNs = try #require(change["settleNs"] as? Int)
        #expect(settleNs >= 20_000, "the model's cpuinfo_transition_latency is 20 µs")
    }
}
