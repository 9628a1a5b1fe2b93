// Tests for GearboxHardware/RealFrequencyController and DVFSJournal, against writable copies of
// the sysfs fixtures shown to libcpufreq in a private mount namespace (root only).

import Foundation
@testable import GearboxHardware
import GearboxTestSupport
import Testing

private func read(_ root: SysfsRoot, _ relative: String) -> String {
    (try? String(contentsOfFile: root.path("sys/devices/system/cpu/" + relative), encoding: .utf8)) ?? "<missing>"
}

@Suite struct RealFrequencyControllerTests {
    /// Holds each test's DVFS journal; outlives the test's controllers, so it is removed last.
    let scratch = ScratchDirectory("journal")
    var journalPath: String { scratch.file(DVFSJournal.fileName) }

    @Test(.requiresRoot, .requiresSysfsDumps) func aTreeServedByABoardModelIsLabelledEmulatedNotReal() throws {
        let copy = try SysfsFixtures.writableCopy(of: SysfsFixtures.armBoard)
        let directory = try #require(copy.directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try RealFrequencyController(root: copy, options: .init(journalPath: journalPath)).source == .real)
        // The marker `gearbox board run` leaves beside the cpu folders: a model answers, not hardware.
        try Data("{}".utf8).write(to: URL(fileURLWithPath: copy.path("sys/devices/system/cpu/" + BoardRunner.markerFile)))
        let controller = try RealFrequencyController(root: copy, options: .init(journalPath: journalPath))
        #expect(controller.source == .emulated)
        defer { try? controller.restore() }
        #expect(try controller.setFrequency(.kHz(400_000), forDomain: 0).source == .emulated)
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func settingTheArmBoardUsesUserspaceAndRestoreIsByteIdentical() throws {
        let copy = try SysfsFixtures.writableCopy(of: SysfsFixtures.armBoard)
        let directory = try #require(copy.directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = try snapshotTree(directory)
        let controller = try RealFrequencyController(root: copy, options: .init(journalPath: journalPath))
        #expect(controller.domains.count == 1)

        let change = try controller.setFrequency(.kHz(400_000), forDomain: 0)
        #expect(change.source == .real)
        #expect(change.requestedKHz == 400_000)
        #expect(change.settled == false)
        #expect(change.warning?.contains("did not settle") == true)
        #expect(read(copy, "cpu0/cpufreq/scaling_governor") == "userspace\n")
        #expect(read(copy, "cpu0/cpufreq/scaling_setspeed") == "400000\n")
        #expect(FileManager.default.fileExists(atPath: journalPath))
        let journal = try #require(try DVFSJournal.load(from: journalPath))
        #expect(journal.domains == [.init(cpus: [0, 1], policyCPU: 0, governor: "ondemand", minKHz: 400_000, maxKHz: 800_000)])

        try controller.restore()
        #expect(try snapshotTree(directory) == before)
        #expect(!FileManager.default.fileExists(atPath: journalPath))
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func settingAnIntelDomainPinsMinAndMaxAndRestoreIsByteIdentical() throws {
        let copy = try SysfsFixtures.writableCopy(of: SysfsFixtures.intelHybrid)
        let directory = try #require(copy.directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = try snapshotTree(directory)
        let controller = try RealFrequencyController(root: copy, options: .init(journalPath: journalPath))
        // Domain 12 is the first E-core (max 3.9 GHz); 400 MHz is shorter text than 3900000,
        // which catches a write that leaves the old file's tail behind.
        _ = try controller.setFrequency(.kHz(400_000), forDomain: 12)
        _ = try controller.setFrequency(.kHz(2_000_000), forDomain: 0)
        #expect(read(copy, "cpufreq/policy12/scaling_max_freq") == "400000\n")
        #expect(read(copy, "cpufreq/policy12/scaling_min_freq") == "400000\n")
        #expect(read(copy, "cpufreq/policy0/scaling_min_freq") == "2000000\n")
        #expect(read(copy, "cpufreq/policy0/scaling_max_freq") == "2000000\n")
        #expect(read(copy, "cpufreq/policy0/scaling_governor") == "powersave\n")
        try controller.restore()
        #expect(try snapshotTree(directory) == before)
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func aJournalLeftByACrashIsReplayedByTheStaticRestore() throws {
        let copy = try SysfsFixtures.writableCopy(of: SysfsFixtures.armBoard)
        let directory = try #require(copy.directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = try snapshotTree(directory)
        do {
            // A controller that changes the clock and then disappears without restoring.
            let controller = try RealFrequencyController(root: copy, options: .init(journalPath: journalPath))
            _ = try controller.setFrequency(.kHz(400_000), forDomain: 0)
        }
        #expect(try snapshotTree(directory) != before)

        // A second controller adopts the journal (which holds the state before the first change)
        // instead of journalling the modified state as "original".
        let second = try RealFrequencyController(root: copy, options: .init(journalPath: journalPath))
        _ = try second.setFrequency(.kHz(800_000), forDomain: 0)
        #expect(try DVFSJournal.load(from: journalPath)?.domains.first?.governor == "ondemand")

        // Restoring on another root is refused, then the journal's own root is restored.
        #expect(throws: HardwareError.self) { _ = try RealFrequencyController.restore(journalAt: journalPath, root: .live) }
        let report = try #require(try RealFrequencyController.restore(journalAt: journalPath))
        #expect(report.lines.count == 1)
        #expect(try snapshotTree(directory) == before)
        #expect(try RealFrequencyController.restore(journalAt: journalPath) == nil)
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func frequenciesOutsideTheDomainAreRejectedBeforeAnythingChanges() throws {
        let copy = try SysfsFixtures.writableCopy(of: SysfsFixtures.armBoard)
        let directory = try #require(copy.directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let controller = try RealFrequencyController(root: copy, options: .init(journalPath: journalPath))
        #expect(throws: HardwareError.self) { _ = try controller.setFrequency(.kHz(600_000), forDomain: 0) }
        #expect(throws: HardwareError.self) { _ = try controller.setFrequency(.kHz(400_000), forDomain: 3) }
        #expect(!FileManager.default.fileExists(atPath: journalPath))
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func aReadOnlyCpufreqFileGivesAPermissionErrorNamingIt() throws {
        let copy = try SysfsFixtures.writableCopy(of: SysfsFixtures.intelHybrid)
        let directory = try #require(copy.directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Root ignores file modes, so make the file immutable the way sysfs would refuse: replace
        // it by a directory, which open(O_WRONLY) rejects.
        let file = directory + "/sys/devices/system/cpu/cpufreq/policy0/scaling_min_freq"
        let controller = try RealFrequencyController(root: copy, options: .init(journalPath: journalPath))
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.createDirectory(atPath: file, withIntermediateDirectories: false)
        do {
            _ = try controller.setFrequency(.kHz(1_000_000), forDomain: 0)
            Issue.record("a write to a directory succeeded")
        } catch let error as HardwareError {
            #expect(error.description.contains("cpu0/cpufreq/scaling_min_freq"))
            #expect(!error.description.contains("\n"))
        }
        try? FileManager.default.removeItem(atPath: file)
    }

    @Test func journalPathFollowsTheStateDirectoryOverride() {
        #expect(DVFSJournal.path(environment: [:]) == "/var/lib/gearbox/dvfs-journal.json")
        #expect(DVFSJournal.path(environment: ["GEARBOX_STATE_DIR": "/tmp/s/"]) == "/tmp/s/dvfs-journal.json")
        #expect(DVFSJournal.path(stateDirectory: "/x", environment: ["GEARBOX_STATE_DIR": "/tmp/s"]) == "/x/dvfs-journal.json")
    }
}
