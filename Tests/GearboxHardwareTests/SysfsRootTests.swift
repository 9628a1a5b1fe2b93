// Tests for GearboxHardware/SysfsRoot: path resolution, dump validation and archive extraction.

import Foundation
import GearboxHardware
import GearboxTestSupport
import Testing

@Suite struct SysfsRootTests {
    @Test func livePathsResolveAgainstTheFilesystemRoot() {
        #expect(SysfsRoot.live.path("sys/class/thermal") == "/sys/class/thermal")
        #expect(SysfsRoot.live.path("/proc/cpuinfo") == "/proc/cpuinfo")
        #expect(SysfsRoot.live.description == "live")
    }

    @Test func dumpPathsResolveUnderTheDumpDirectory() {
        let root = SysfsRoot.dump(directory: "/tmp/dump/")
        #expect(root.path("/sys/devices") == "/tmp/dump/sys/devices")
        #expect(root.path("proc/cpuinfo") == "/tmp/dump/proc/cpuinfo")
        #expect(root.directory == "/tmp/dump/")
    }

    @Test(.requiresSysfsDumps) func everyFixtureExtractsToADumpHoldingSys() throws {
        for name in SysfsFixtures.all {
            let root = try SysfsFixtures.root(name)
            #expect(root.directory?.hasSuffix("/" + name) == true)
            #expect(FileManager.default.fileExists(atPath: root.path("sys/devices/system/cpu")))
        }
    }

    @Test func extractingAMissingArchiveNamesTheFile() {
        let missing = "/nonexistent/dump.tar.bz2"
        #expect(throws: HardwareError.sysfsArchive(path: missing, reason: "no such file or not readable")) {
            _ = try SysfsRoot.extract(archive: missing, into: NSTemporaryDirectory() + "gearbox-missing")
        }
    }

    @Test func extractingAGarbledArchiveFailsWithOneLine() throws {
        let scratch = ScratchDirectory("garbled")
        let directory = scratch.path
        let archive = directory + "/bad.tar.bz2"
        try Data("not an archive".utf8).write(to: URL(fileURLWithPath: archive))
        do {
            _ = try SysfsRoot.extract(archive: archive, into: directory + "/out")
            Issue.record("a garbled archive extracted")
        } catch let error as HardwareError {
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains(archive))
        }
    }

    @Test func aDirectoryWithoutSysIsRejected() {
        #expect(throws: HardwareError.self) { _ = try SysfsRoot.dump(at: NSTemporaryDirectory()) }
    }
}
