// Tests for GearboxHardware/BoardTree: the files a board model's live sysfs tree holds (cpufreq
// policies, thermal zone and trips, hwmon rails, powercap zones) with their exact contents, how
// writes are collected (once, trimmed, empty files left alone, a writer's value never overwritten
// before it is read), a refused write shown as the driver's value again, and the errors for a
// root that cannot hold the tree or an archive that is not there. BoardSimulationTests covers
// frequency transitions and trips through the tree; this file covers the tree itself.

import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxHardware

@Suite struct BoardTreeTests {
    static func arm() throws -> BoardSimulation { BoardSimulation(model: try BoardFiles.catalog.load("st-u8500")) }
    static func intel() throws -> BoardSimulation { BoardSimulation(model: try BoardFiles.catalog.load("intel-i7-1370p")) }

    /// The file's whole content, newline included.
    static func raw(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func overwrite(_ path: String, with value: String) throws {
        try value.write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test func theFoldersHangOffTheRoot() {
        let tree = BoardTree(root: "board")
        #expect(tree.root == "board")
        #expect(tree.cpuDirectory == "board/sys/devices/system/cpu")
        #expect(tree.policyDirectory(cpu: 7) == "board/sys/devices/system/cpu/cpu7/cpufreq")
        #expect(tree.thermalDirectory == "board/sys/class/thermal")
        #expect(tree.hwmonDirectory == "board/sys/class/hwmon")
        #expect(tree.powercapDirectory == "board/sys/class/powercap")
        #expect(BoardTree.writableFiles == ["scaling_governor", "scaling_setspeed", "scaling_min_freq", "scaling_max_freq"])
    }

    @Test func aSharedPolicyHasEveryCpufreqFileWithTheModelsValuesEachEndingInANewline() throws {
        let scratch = ScratchDirectory("board-tree")
        let board = try Self.arm()
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let policy = tree.policyDirectory(cpu: 0)
        let expected = [
            "related_cpus": "0 1\n", "affected_cpus": "0 1\n", "scaling_driver": "U8500\n",
            "scaling_available_governors": "conservative userspace powersave ondemand performance \n",
            "cpuinfo_min_freq": "400000\n", "cpuinfo_max_freq": "800000\n", "cpuinfo_transition_latency": "20000\n",
            "scaling_available_frequencies": "400000 800000 \n",
            "scaling_cur_freq": "800000\n", "cpuinfo_cur_freq": "800000\n", "scaling_governor": "ondemand\n",
            "scaling_min_freq": "400000\n", "scaling_max_freq": "800000\n", "scaling_setspeed": "<unsupported>\n",
        ]
        for (file, content) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(try Self.raw(policy + "/" + file) == content, "\(file)")
        }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: policy)) == Set(expected.keys))
        // One policy for both CPUs: no cpu1/cpufreq folder.
        #expect(!FileManager.default.fileExists(atPath: tree.policyDirectory(cpu: 1)))
    }

    @Test func theThermalZoneHasItsTypeTemperatureAndTripsInMillidegrees() throws {
        let scratch = ScratchDirectory("board-tree")
        let board = BoardSimulation(model: try BoardFiles.catalog.load("st-u8500"), ambientCelsius: 36.6)
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let zone = tree.thermalDirectory + "/thermal_zone0"
        #expect(try Self.raw(zone + "/type") == "db8500_thermal\n")
        #expect(try Self.raw(zone + "/temp") == "36600\n")
        #expect(try Self.raw(zone + "/trip_point_0_type") == "passive\n")
        #expect(try Self.raw(zone + "/trip_point_0_temp") == "85000\n")
        #expect(try Self.raw(zone + "/trip_point_0_hyst") == "5000\n")
        #expect(try Self.raw(zone + "/trip_point_1_type") == "critical\n")
        #expect(try Self.raw(zone + "/trip_point_1_temp") == "110000\n")
        #expect(try Self.raw(zone + "/trip_point_1_hyst") == "0\n")
        #expect(!FileManager.default.fileExists(atPath: zone + "/trip_point_2_type"))
    }

    @Test func anHwmonRailShowsItsBusVoltageAndTheCurrentItsPowerDrawsThere() throws {
        let scratch = ScratchDirectory("board-tree")
        var board = try Self.arm()
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let hwmon = tree.hwmonDirectory + "/hwmon0"
        #expect(try Self.raw(hwmon + "/name") == "ina3221\n")
        #expect(try Self.raw(hwmon + "/update_interval") == "6\n", "6600 µs in whole ms")
        #expect(try Self.raw(hwmon + "/in1_label") == "vbat_soc\n")
        #expect(try Self.raw(hwmon + "/in1_input") == "3700\n")
        #expect(try Self.raw(hwmon + "/curr1_input") == "0\n", "no reading before the first update interval")
        #expect(!FileManager.default.fileExists(atPath: hwmon + "/power1_input"), "the INA3221 has no power attribute")

        board.advance(byNs: 20_000_000)
        let watts = board.hwmonWatts[0][0]
        #expect(watts > 0)
        try tree.render(board)
        // I = P / U: watts over 3.7 V, in mA.
        #expect(try Self.raw(hwmon + "/curr1_input") == "\(Int((watts / 3.7 * 1000).rounded()))\n")
    }

    @Test func powercapZonesShowTheirNameRangeAndEnergyAndPinnedPoliciesHaveNoFrequencyList() throws {
        let scratch = ScratchDirectory("board-tree")
        var board = try Self.intel()
        let tree = BoardTree(root: scratch.path)
        // A stale frequency list (from the dump) is removed for a driver that has none.
        try FileManager.default.createDirectory(atPath: tree.policyDirectory(cpu: 0), withIntermediateDirectories: true)
        try Self.overwrite(tree.policyDirectory(cpu: 0) + "/scaling_available_frequencies", with: "1 2 3\n")
        board.setEnergy(zone: 0, joules: 12.5)
        try tree.renderAll(board)
        #expect(!FileManager.default.fileExists(atPath: tree.policyDirectory(cpu: 0) + "/scaling_available_frequencies"))
        for policy in board.policies {
            #expect(try Self.raw(tree.policyDirectory(cpu: policy.cpu) + "/related_cpus") == "\(policy.cpu)\n")
        }
        let package = tree.powercapDirectory + "/intel-rapl:0"
        #expect(try Self.raw(package + "/name") == "package-0\n")
        #expect(try Self.raw(package + "/max_energy_range_uj") == "262143328850\n")
        #expect(try Self.raw(package + "/enabled") == "1\n")
        #expect(try Self.raw(package + "/energy_uj") == "12500000\n")
        #expect(try Self.raw(tree.powercapDirectory + "/intel-rapl:0:0/name") == "core\n")
        #expect(try Self.raw(tree.powercapDirectory + "/intel-rapl:0:0/energy_uj") == "0\n")
        #expect(!FileManager.default.fileExists(atPath: tree.hwmonDirectory), "this model has no hwmon chip")
    }

    // MARK: Collecting writes

    @Test func nothingIsCollectedUntilAWriterChangesAFile() throws {
        let scratch = ScratchDirectory("board-tree")
        var board = try Self.arm()
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        #expect(tree.collectWrites(into: &board).isEmpty)
        // Writing back the value the tree shows is no change either.
        try Self.overwrite(tree.policyDirectory(cpu: 0) + "/scaling_governor", with: "ondemand\n")
        #expect(tree.collectWrites(into: &board).isEmpty)
    }

    @Test func aWriteIsTrimmedAppliedAndCollectedOnce() throws {
        let scratch = ScratchDirectory("board-tree")
        var board = try Self.arm()
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        try Self.overwrite(tree.policyDirectory(cpu: 0) + "/scaling_governor", with: "  userspace \n")
        let writes = tree.collectWrites(into: &board)
        #expect(writes.count == 1)
        #expect(writes.first?.policy == 0)
        #expect(writes.first?.file == "scaling_governor")
        #expect(writes.first?.value == "userspace")
        #expect(writes.first?.outcome == .accepted)
        #expect(board.policies[0].governor == "userspace")
        #expect(tree.collectWrites(into: &board).isEmpty, "the same write is not collected twice")
    }

    @Test func anEmptyFileIsAWriterMidWriteAndIsLeftForTheNextCall() throws {
        let scratch = ScratchDirectory("board-tree")
        var board = try Self.arm()
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let governor = tree.policyDirectory(cpu: 0) + "/scaling_governor"
        try Self.overwrite(governor, with: "")
        #expect(tree.collectWrites(into: &board).isEmpty)
        try tree.render(board)
        #expect(try Self.raw(governor) == "", "render does not fill in a file a writer has truncated")
        try Self.overwrite(governor, with: "performance")
        #expect(tree.collectWrites(into: &board).map(\.value) == ["performance"])
        #expect(board.policies[0].governor == "performance")
    }

    @Test func renderNeverOverwritesAWriteNotYetCollected() throws {
        let scratch = ScratchDirectory("board-tree")
        var board = try Self.arm()
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let maxFreq = tree.policyDirectory(cpu: 0) + "/scaling_max_freq"
        // A writer's 600 MHz is on disk, uncollected, when the board's own limit changes to 400 MHz:
        // render would show 400000 there, but must not replace the writer's value unread.
        try Self.overwrite(maxFreq, with: "600000\n")
        #expect(board.write(policy: 0, file: "scaling_max_freq", value: "400000") == .accepted)
        try tree.render(board)
        #expect(try Self.raw(maxFreq) == "600000\n")
        #expect(try Self.raw(tree.policyDirectory(cpu: 0) + "/scaling_min_freq") == "400000\n")
        #expect(tree.collectWrites(into: &board).map(\.value) == ["600000"])
        #expect(board.policies[0].requestedMaxKHz == 600_000)
        try tree.render(board)
        #expect(try Self.raw(maxFreq) == "600000\n")
    }

    @Test func aRefusedWriteIsReplacedByTheValueTheDriverShows() throws {
        let scratch = ScratchDirectory("board-tree")
        var board = try Self.arm()
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let governor = tree.policyDirectory(cpu: 0) + "/scaling_governor"
        try Self.overwrite(governor, with: "schedutil\n")
        let writes = tree.collectWrites(into: &board)
        #expect(writes.map(\.outcome) == [.refused("governor schedutil not offered")])
        #expect(board.policies[0].governor == "ondemand")
        try tree.render(board)
        #expect(try Self.raw(governor) == "ondemand\n")
    }

    @Test func writesToEachOfSeveralPoliciesAreCollectedWithTheirIndex() throws {
        let scratch = ScratchDirectory("board-tree")
        var board = try Self.intel()
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let last = board.policies.count - 1
        try Self.overwrite(tree.policyDirectory(cpu: board.policies[last].cpu) + "/scaling_min_freq", with: "1400000")
        try Self.overwrite(tree.policyDirectory(cpu: board.policies[1].cpu) + "/scaling_max_freq", with: "2000000")
        let writes = tree.collectWrites(into: &board)
        #expect(writes.map(\.policy) == [1, last])
        #expect(writes.map(\.file) == ["scaling_max_freq", "scaling_min_freq"])
        #expect(writes.allSatisfy { $0.outcome == .accepted })
    }

    // MARK: Errors

    @Test func aRootThatIsAFileCannotHoldTheTree() throws {
        let scratch = ScratchDirectory("board-tree")
        try Self.overwrite(scratch.file("not-a-folder"), with: "x")
        let tree = BoardTree(root: scratch.file("not-a-folder"))
        do {
            try tree.renderAll(try Self.arm())
            Issue.record("rendering under a regular file must fail")
        } catch let error as BoardError {
            guard case let .tree(path, reason) = error else {
                Issue.record("expected BoardError.tree, got \(error)")
                return
            }
            #expect(path == tree.policyDirectory(cpu: 0))
            #expect(reason.hasPrefix("cannot create"))
            #expect(error.exitStatus == .failure)
        }
    }

    @Test func creatingFromAMissingArchiveFailsNamingIt() {
        let scratch = ScratchDirectory("board-tree")
        let archive = scratch.file("absent.tar.bz2")
        #expect(throws: HardwareError.sysfsArchive(path: archive, reason: "no such file or not readable")) {
            _ = try BoardTree.create(archive: archive, into: scratch.file("tree"), simulation: try Self.arm())
        }
    }

    @Test(.requiresSysfsDumps) func creatingFromTheBoardsDumpKeepsItsStaticFilesAndAddsTheLiveOnes() throws {
        let scratch = ScratchDirectory("board-tree")
        let board = try Self.arm()
        let archive = try SharedFixtures.sysfsArchive(named: SharedFixtures.armBoard)
        let tree = try BoardTree.create(archive: archive, into: scratch.path, simulation: board)
        #expect(tree.root == scratch.file(SharedFixtures.armBoard))
        // The dump's own topology stays; the model's files are rendered over it.
        #expect(FileManager.default.fileExists(atPath: tree.cpuDirectory + "/cpu1/topology"))
        #expect(try Self.raw(tree.policyDirectory(cpu: 0) + "/scaling_governor") == "ondemand\n")
        #expect(try Self.raw(tree.thermalDirectory + "/thermal_zone0/type") == "db8500_thermal\n")
        #expect(try Self.raw(tree.hwmonDirectory + "/hwmon0/name") == "ina3221\n")
    }
}
