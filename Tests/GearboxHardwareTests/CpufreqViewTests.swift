// Tests for GearboxHardware/DVFS/CpufreqView: libcpufreq's fixed cpu folder shown as the live
// tree or as a dump. The paths it builds and maps back, the error for a dump without a cpu folder,
// and, as root, a hand-made dump bind-mounted over /sys/devices/system/cpu on the view's own thread
// only: reads and writes inside `perform` reach the dump, the rest of the process still sees the
// machine's folder, errors come back out, and two views of two dumps stay apart.

import Foundation
import GearboxTestSupport
import Testing

@testable import GearboxHardware

/// Root, and a /sys/devices/system/cpu folder to mount a dump over.
private let canMountDumps = HostFacts.isRoot && FileManager.default.fileExists(atPath: CpufreqView.cpuDirectory)

private struct Marker: Error, Equatable { var value: Int }

@Suite struct CpufreqViewTests {
    /// A minimal dump under `scratch`: cpu0's cpufreq folder with a governor file. Returns its root.
    static func makeDump(in scratch: ScratchDirectory, name: String, governor: String) throws -> SysfsRoot {
        let policy = scratch.file(name + "/sys/devices/system/cpu/cpu0/cpufreq")
        try FileManager.default.createDirectory(atPath: policy, withIntermediateDirectories: true)
        try (governor + "\n").write(toFile: policy + "/scaling_governor", atomically: true, encoding: .utf8)
        return try SysfsRoot.dump(at: scratch.file(name))
    }

    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func cpufreqPathsAreUnderLibcpufreqsFixedFolder() {
        #expect(CpufreqView.cpuDirectory == "/sys/devices/system/cpu")
        #expect(CpufreqView.cpufreqPath(cpu: 0, "scaling_governor") == "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
        #expect(CpufreqView.cpufreqPath(cpu: 17, "cpuinfo_max_freq") == "/sys/devices/system/cpu/cpu17/cpufreq/cpuinfo_max_freq")
    }

    @Test func theLiveViewRunsBodiesInlineAndShowsPathsAsTheyAre() throws {
        let view = try CpufreqView(root: .live)
        #expect(view.root == .live)
        let caller = Thread.current
        #expect(try view.perform { Thread.current === caller })
        #expect(try view.perform { 6 * 7 } == 42)
        let path = CpufreqView.cpufreqPath(cpu: 2, "scaling_setspeed")
        #expect(view.displayPath(path) == path)
        #expect(throws: Marker(value: 1)) { try view.perform { () throws -> Int in throw Marker(value: 1) } }
    }

    @Test func aDumpWithoutACpuFolderIsRejectedBeforeAnyNamespaceIsMade() throws {
        let scratch = ScratchDirectory("cpufreq-view")
        try FileManager.default.createDirectory(atPath: scratch.file("dump/sys/class"), withIntermediateDirectories: true)
        let root = try SysfsRoot.dump(at: scratch.file("dump"))
        #expect(throws: HardwareError.sysfsRoot(path: scratch.file("dump"), reason: "it has no sys/devices/system/cpu folder")) {
            _ = try CpufreqView(root: root)
        }
    }

    @Test func aCpuPathThatIsAFileIsNoCpuFolder() throws {
        let scratch = ScratchDirectory("cpufreq-view")
        try FileManager.default.createDirectory(atPath: scratch.file("dump/sys/devices/system"), withIntermediateDirectories: true)
        try "not a folder".write(toFile: scratch.file("dump/sys/devices/system/cpu"), atomically: true, encoding: .utf8)
        let root = try SysfsRoot.dump(at: scratch.file("dump"))
        #expect(throws: HardwareError.sysfsRoot(path: scratch.file("dump"), reason: "it has no sys/devices/system/cpu folder")) {
            _ = try CpufreqView(root: root)
        }
    }

    @Test(.enabled(if: !HostFacts.isRoot, "checks the refusal a non-root process gets; this process is root"))
    func withoutRootADumpViewCannotMakeItsNamespace() throws {
        let scratch = ScratchDirectory("cpufreq-view")
        let root = try Self.makeDump(in: scratch, name: "dump", governor: "userspace")
        do {
            _ = try CpufreqView(root: root)
            Issue.record("a non-root process cannot unshare its mount namespace")
        } catch let error as HardwareError {
            guard case .mountNamespace = error else {
                Issue.record("expected HardwareError.mountNamespace, got \(error)")
                return
            }
        }
    }

    @Test(.enabled(if: canMountDumps, "needs root and a /sys/devices/system/cpu folder to mount a dump over"))
    func insidePerformTheCpuFolderIsTheDumpsAndOutsideItIsTheMachines() throws {
        let scratch = ScratchDirectory("cpufreq-view")
        let root = try Self.makeDump(in: scratch, name: "dump", governor: "dump-governor")
        let outside = CpufreqView.cpufreqPath(cpu: 0, "scaling_governor")
        let before = Self.read(outside)
        let view = try CpufreqView(root: root)
        #expect(view.holdsRegularFiles, "the dump is regular files, not sysfs")
        #expect(try view.perform { Self.read(outside) } == "dump-governor")
        #expect(try view.perform { FileManager.default.fileExists(atPath: CpufreqView.cpufreqPath(cpu: 1, "scaling_governor")) } == false)
        #expect(Self.read(outside) == before, "the process's own view is unchanged")
        #expect(Self.read(outside) != "dump-governor")
    }

    @Test(.enabled(if: canMountDumps, "needs root and a /sys/devices/system/cpu folder to mount a dump over"))
    func writesInsidePerformLandInTheDumpAndDisplayPathsNameIt() throws {
        let scratch = ScratchDirectory("cpufreq-view")
        let root = try Self.makeDump(in: scratch, name: "dump", governor: "ondemand")
        let view = try CpufreqView(root: root)
        let path = CpufreqView.cpufreqPath(cpu: 0, "scaling_setspeed")
        try view.perform { try "600000\n".write(toFile: path, atomically: false, encoding: .utf8) }
        let dumpFile = scratch.file("dump/sys/devices/system/cpu/cpu0/cpufreq/scaling_setspeed")
        #expect(Self.read(dumpFile) == "600000")
        #expect(view.displayPath(path) == dumpFile)
        #expect(view.displayPath(CpufreqView.cpuDirectory) == scratch.file("dump/sys/devices/system/cpu"))
        #expect(view.displayPath("/proc/cpuinfo") == "/proc/cpuinfo", "only the cpu folder is mapped")
    }

    @Test(.enabled(if: canMountDumps, "needs root and a /sys/devices/system/cpu folder to mount a dump over"))
    func errorsAndResultsComeBackFromTheViewsThreadAndTwoViewsStayApart() throws {
        let scratch = ScratchDirectory("cpufreq-view")
        let first = try CpufreqView(root: try Self.makeDump(in: scratch, name: "a", governor: "first"))
        let second = try CpufreqView(root: try Self.makeDump(in: scratch, name: "b", governor: "second"))
        let path = CpufreqView.cpufreqPath(cpu: 0, "scaling_governor")
        let caller = Thread.current
        #expect(try first.perform { Thread.current !== caller }, "a dump's calls run on the view's own thread")
        #expect(try first.perform { Self.read(path) } == "first")
        #expect(try second.perform { Self.read(path) } == "second")
        #expect(try first.perform { Self.read(path) } == "first")
        #expect(throws: Marker(value: 7)) { try second.perform { () throws -> Int in throw Marker(value: 7) } }
        #expect(try second.perform { [1, 2, 3].reduce(0, +) } == 6, "the thread keeps serving after an error")
    }
}
