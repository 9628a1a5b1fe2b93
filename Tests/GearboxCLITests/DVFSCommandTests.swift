// Tests for `gearbox dvfs`, run as a subprocess against writable copies of the sysfs fixtures
// (each shown to libcpufreq in the subprocess's private mount namespace): set changes the
// files, restore puts every byte back, SIGKILL mid-sweep then `dvfs restore` leaves the tree
// byte-identical, SIGTERM restores by itself, and bad requests exit 2 with one line.

import Foundation
import GearboxTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A private state dir (and measuring-lock folder) so parallel tests never share a journal.
private func stateEnvironment() -> (environment: [String: String], directory: String) {
    let directory = NSTemporaryDirectory() + "gearbox-state-\(UUID().uuidString)"
    // The lock file is opened in it before anything else writes there.
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return (GearboxBinary.isolatedEnvironment(state: directory, lock: directory), directory)
}

private func file(_ root: String, _ relative: String) -> String {
    (try? String(contentsOfFile: root + "/sys/devices/system/cpu/" + relative, encoding: .utf8)) ?? "<missing>"
}

@Suite(.requiresBinary) struct DVFSCommandTests {
    @Test(.requiresRoot, .requiresSysfsDumps) func setChangesTheFilesAndRestorePutsEveryByteBack() throws {
        let copy = try Fixtures.writableCopy(Fixtures.intelHybrid)
        defer { try? FileManager.default.removeItem(atPath: copy.cleanup) }
        let (environment, state) = stateEnvironment()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let before = try snapshotTree(copy.root)

        let set = try GearboxBinary.run(["dvfs", "set", "--sysfs-root", copy.root, "--domain", "14", "--khz", "900000"], environment: environment)
        #expect(set.status == 0, "stderr: \(set.stderr)")
        #expect(set.stdout.contains("900000 kHz requested"))
        #expect(set.stdout.contains("did not settle"))
        #expect(file(copy.root, "cpufreq/policy14/scaling_min_freq") == "900000\n")
        #expect(file(copy.root, "cpufreq/policy14/scaling_max_freq") == "900000\n")
        #expect(FileManager.default.fileExists(atPath: state + "/dvfs-journal.json"))

        // A second set keeps the first journal: restore must reach the state before both.
        let again = try GearboxBinary.run(["dvfs", "set", "--sysfs-root", copy.root, "--domain", "0", "--khz", "1200000", "--json"], environment: environment)
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("\"requestedKHz\" : 1200000"))

        let restore = try GearboxBinary.run(["dvfs", "restore"], environment: environment)
        #expect(restore.status == 0, "stderr: \(restore.stderr)")
        #expect(restore.stdout.contains("restored 20 domains"))
        #expect(try snapshotTree(copy.root) == before)
        #expect(!FileManager.default.fileExists(atPath: state + "/dvfs-journal.json"))
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func killDashNineMidSweepThenRestoreLeavesTheTreeByteIdentical() throws {
        let copy = try Fixtures.writableCopy(Fixtures.armBoard)
        defer { try? FileManager.default.removeItem(atPath: copy.cleanup) }
        let (environment, state) = stateEnvironment()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let before = try snapshotTree(copy.root)

        let sweep = try GearboxBinary.start(["dvfs", "hold", "--sysfs-root", copy.root, "--hold-ms", "40"], environment: environment)
        let sweeping = sweep.waitForOutputLines(5)
        sweep.signal(SIGKILL)
        let killed = sweep.wait()
        try #require(sweeping, "the sweep never got going: \(killed.stderr)")
        #expect(killed.status == SIGKILL)
        #expect(FileManager.default.fileExists(atPath: state + "/dvfs-journal.json"))
        #expect(file(copy.root, "cpu0/cpufreq/scaling_governor") == "userspace\n")

        let restore = try GearboxBinary.run(["dvfs", "restore", "--sysfs-root", copy.root], environment: environment)
        #expect(restore.status == 0, "stderr: \(restore.stderr)")
        #expect(try snapshotTree(copy.root) == before)
        #expect(!FileManager.default.fileExists(atPath: state + "/dvfs-journal.json"))

        let nothing = try GearboxBinary.run(["dvfs", "restore"], environment: environment)
        #expect(nothing.status == 0)
        #expect(nothing.stdout.contains("nothing to restore"))
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func sigtermMidSweepRestoresBeforeExiting() throws {
        let copy = try Fixtures.writableCopy(Fixtures.armBoard)
        defer { try? FileManager.default.removeItem(atPath: copy.cleanup) }
        let (environment, state) = stateEnvironment()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let before = try snapshotTree(copy.root)

        let sweep = try GearboxBinary.start(["dvfs", "hold", "--sysfs-root", copy.root, "--hold-ms", "40"], environment: environment)
        let sweeping = sweep.waitForOutputLines(3)
        sweep.signal(SIGTERM)
        let ended = sweep.wait()
        try #require(sweeping, "the sweep never got going: \(ended.stderr)")
        #expect(ended.status == 128 + SIGTERM)
        #expect(try snapshotTree(copy.root) == before)
        #expect(!FileManager.default.fileExists(atPath: state + "/dvfs-journal.json"))
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func listOfAnArchiveDumpPrintsItsDomainsAsJSON() throws {
        let archive = try Fixtures.archive(Fixtures.armBoard)
        let result = try GearboxBinary.run(["dvfs", "list", "--sysfs-root", archive, "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let dvfs = try #require(json["dvfs"] as? [String: Any])
        let domains = try #require(dvfs["domains"] as? [[String: Any]])
        #expect(domains.count == 1)
        #expect(domains.first?["availableKHz"] as? [Int] == [400_000, 800_000])
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func badRequestsExitTwoWithOneLine() throws {
        let copy = try Fixtures.writableCopy(Fixtures.armBoard)
        defer { try? FileManager.default.removeItem(atPath: copy.cleanup) }
        let (environment, state) = stateEnvironment()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let before = try snapshotTree(copy.root)
        for arguments in [["--domain", "0", "--khz", "600000"], ["--domain", "7", "--khz", "400000"]] {
            let result = try GearboxBinary.run(["dvfs", "set", "--sysfs-root", copy.root] + arguments, environment: environment)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        try FileManager.default.removeItem(atPath: copy.root + "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
        let missing = try GearboxBinary.run(["dvfs", "list", "--sysfs-root", copy.root], environment: environment)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains(copy.root + "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"), "stderr: \(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: state + "/dvfs-journal.json"))
        var after = try snapshotTree(copy.root)
        after["sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"] = before["sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"]
        #expect(after == before)
    }

    @Test func everyDVFSSubcommandHelpShowsAnExample() throws {
        for command in [["dvfs"], ["dvfs", "list"], ["dvfs", "set"], ["dvfs", "restore"]] {
            let result = try GearboxBinary.run(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Example"), "\(command) --help has no example")
        }
    }
}
