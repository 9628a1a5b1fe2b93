// Tests for `gearbox board`, run as a subprocess: list and show read the shipped models, bad
// names exit 2 with one line, and (as root) `board run` shows the board's live tree to the
// command: a probe inside sees the board's frequencies and thermal zone, and `dvfs set` inside
// settles only after the model's transition latency.

import Foundation
import GearboxTestSupport
import Testing

private let boards = SharedFixtures.packageRoot + "/Devices/boards"

@Suite(.serialized, .requiresBinary) struct BoardCommandTests {
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
        // The file says it describes a model, and labels its figures emulated.
        let board = try #require(json["board"] as? [String: Any])
        #expect(board["name"] as? String == "st-u8500")
        #expect(board["model"] as? Bool == true)
        let provenanceBoard = try #require((json["provenance"] as? [String: Any])?["board"] as? [String: Any])
        #expect(provenanceBoard["name"] as? String == "st-u8500" && provenanceBoard["model"] as? Bool == true)
        #expect((json["provenance"] as? [String: Any])?["controller"] as? String == "emulated")
        let sensors = try #require(json["powerSensors"] as? [[String: Any]])
        #expect(sensors.compactMap { $0["name"] as? String } == ["ina3221/curr1"])
        #expect(sensors.first?["unit"] as? String == "mA")
        #expect(sensors.first?["kind"] as? String == "hwmon")
        // The board's tree is gone and the host's view untouched.
        #expect(!FileManager.default.fileExists(atPath: "/sys/devices/system/cpu/gearbox-board.json"))
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func dvfsSetInsideTheBoardSettlesOnlyAfterTheTransitionLatency() throws {
        let state = ScratchDirectory("board-state")
        let gearbox = try GearboxBinary.built()
        let script = "\(gearbox) dvfs set --domain 0 --khz 400000 --json && cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq"
        let result = try GearboxBinary.run(["board", "run", "st-u8500", "--boards", boards, "--", "sh", "-c", script],
                                           environment: GearboxBinary.isolatedEnvironment(state: state.path, lock: state.path))
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

    @Test(.requiresRoot, .requiresSysfsDumps) func aDriverWithoutUserspaceIsPinnedThroughMinEqualsMaxInsideTheBoard() throws {
        let state = ScratchDirectory("board-state")
        let gearbox = try GearboxBinary.built()
        let policy = "/sys/devices/system/cpu/cpufreq/policy12"
        let script = "\(gearbox) dvfs set --domain 12 --khz 1400000 --json && cat \(policy)/scaling_min_freq \(policy)/scaling_max_freq \(policy)/scaling_governor"
        let result = try GearboxBinary.run(["board", "run", "intel-i7-1370p", "--boards", boards, "--", "sh", "-c", script],
                                           environment: GearboxBinary.isolatedEnvironment(state: state.path, lock: state.path))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.suffix(3) == ["1400000", "1400000", "powersave"], "pinned through the limits; the governor stays")
        let change = try #require(try JSONSerialization.jsonObject(with: Data(lines.dropLast(3).joined(separator: "\n").utf8)) as? [String: Any])
        #expect(change["appliedKHz"] as? Int == 1400000)
        #expect(change["settled"] as? Bool == true)
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func restoreInsideTheBoardPutsTheGovernorAndLimitsBack() throws {
        let state = ScratchDirectory("board-state")
        let gearbox = try GearboxBinary.built()
        let policy = "/sys/devices/system/cpu/cpu0/cpufreq"
        let script = "\(gearbox) dvfs set --domain 0 --khz 400000 >/dev/null && cat \(policy)/scaling_governor && \(gearbox) dvfs restore >/dev/null && cat \(policy)/scaling_governor \(policy)/scaling_min_freq \(policy)/scaling_max_freq"
        let result = try GearboxBinary.run(["board", "run", "st-u8500", "--boards", boards, "--", "sh", "-c", script],
                                           environment: GearboxBinary.isolatedEnvironment(state: state.path, lock: state.path))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n") == ["userspace", "ondemand", "400000", "800000"])
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func theCommandsExitStatusIsTheRunsAndTheTreeIsRemoved() throws {
        let temporary = ScratchDirectory("board-tmp")
        let result = try GearboxBinary.run(["board", "run", "st-u8500", "--boards", boards, "--", "sh", "-c", "exit 7"],
                                           environment: ["TMPDIR": temporary.path])
        #expect(result.status == 7, "stderr: \(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty, "the board's tree is removed")
    }

    @Test(.requiresRoot, .requiresSysfsDumps, .enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), "needs the cgroup v1 cpu controller"))
    func theCommandIsThrottledToTheBoardsFrequencyRatio() throws {
        // Sets 400 of 800 MHz, waits (bounded) until the group's quota is set, prints it, then
        // back to 800 MHz and waits until the quota is lifted.
        let script = """
            g=/sys/devices/system/cpu/cpu0/cpufreq
            c=/sys/fs/cgroup/cpu$(grep -E '^[0-9]+:([^:]*,)?cpu(,[^:]*)?:' /proc/self/cgroup | cut -d: -f3)
            echo userspace > $g/scaling_governor; echo 400000 > $g/scaling_setspeed
            n=0; while [ "$(cat $c/cpu.cfs_quota_us)" = "-1" ] && [ $n -lt 500 ]; do sleep 0.01; n=$((n+1)); done
            echo "$(cat $c/cpu.cfs_quota_us) $(cat $c/cpu.cfs_period_us)"
            echo 800000 > $g/scaling_setspeed
            n=0; while [ "$(cat $c/cpu.cfs_quota_us)" != "-1" ] && [ $n -lt 500 ]; do sleep 0.01; n=$((n+1)); done
            cat $c/cpu.cfs_quota_us
            basename $c
            """
        let result = try GearboxBinary.run(["board", "run", "st-u8500", "--boards", boards, "--", "sh", "-c", script])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "stdout: \(result.stdout)")
        let pair = lines[0].split(separator: " ").compactMap { Double($0) }
        try #require(pair.count == 2)
        let share = pair[0] / pair[1]
        // Half a CPU per thread: 0.5 × (threads in the group, at most the host's CPUs).
        #expect(share > 0 && (share * 2).rounded() == share * 2, "quota/period = \(share)")
        #expect(lines[1] == "-1")
        #expect(lines[2].hasPrefix("gearbox-") && lines[2].hasSuffix("-board"))
    }

    @Test(.requiresRoot, .enabled(if: HostFacts.hasSetpriv, "needs setpriv (util-linux) to drop root"))
    func withoutRootRunIsAOneLineInputError() throws {
        let result = try GearboxBinary.run(["board", "run", "st-u8500", "--boards", boards, "--", "true"],
                                           prefix: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("needs root"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func atAHotAmbientTheTripCapsTheClock() throws {
        // At 85 °C ambient the die starts at the passive trip: the cap (400 MHz) shows in
        // scaling_max_freq and, after the transition latency, in scaling_cur_freq (bounded wait).
        let script = """
            g=/sys/devices/system/cpu/cpu0/cpufreq; z=/sys/class/thermal/thermal_zone0
            n=0; while [ "$(cat $g/scaling_cur_freq)" != "400000" ] && [ $n -lt 500 ]; do sleep 0.01; n=$((n+1)); done
            cat $g/scaling_cur_freq $g/scaling_max_freq $z/trip_point_0_temp $z/temp
            """
        let result = try GearboxBinary.run(["board", "run", "st-u8500", "--boards", boards, "--ambient", "85", "--", "sh", "-c", script])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 4, "stdout: \(result.stdout)")
        #expect(lines[0] == "400000")
        #expect(lines[1] == "400000")
        #expect(lines[2] == "85000")
        #expect((Int(lines[3]) ?? 0) >= 85000)
    }
}
