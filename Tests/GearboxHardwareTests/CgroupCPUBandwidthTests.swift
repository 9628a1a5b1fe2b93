// Tests for GearboxHardware/DVFS/CgroupCPUBandwidth: the quota-file names per version, the errno
// to HardwareError mapping, and its file I/O helpers against plain files in a scratch directory
// (they take the directory as an argument, so no cgroup is needed). Only detect() looks at the
// machine's cgroups, and only behind requiresCgroupCPUController; it reads, never creates, so
// these tests leave no cgroup behind.

import Foundation
import GearboxTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import GearboxHardware

@Suite struct CgroupCPUBandwidthTests {
    static let v1 = CgroupCPUBandwidth(version: .v1, parentDirectory: "cg")
    static let v2 = CgroupCPUBandwidth(version: .v2, parentDirectory: "cg")

    @Test func eachVersionNamesItsOwnQuotaFiles() {
        #expect(Self.v1.quotaFileDescription == "cpu.cfs_quota_us/cpu.cfs_period_us")
        #expect(Self.v2.quotaFileDescription == "cpu.max")
        #expect(CgroupCPUBandwidth.Version.v1.rawValue == "v1" && CgroupCPUBandwidth.Version.v2.rawValue == "v2")
    }

    @Test(arguments: [EACCES, EPERM, EROFS])
    func refusalsArePermissionDenied(code: Int32) {
        #expect(CgroupCPUBandwidth.error(path: "cg/cpu.max", errno: code) == .permissionDenied(path: "cg/cpu.max"))
    }

    @Test func otherErrorsAreCgroupErrorsWithTheSystemsMessage() {
        #expect(CgroupCPUBandwidth.error(path: "cg/cgroup.threads", errno: ENOENT)
            == .cgroup(path: "cg/cgroup.threads", reason: "No such file or directory"))
        #expect(CgroupCPUBandwidth.error(path: "cg/cpu.max", errno: EINVAL)
            == .cgroup(path: "cg/cpu.max", reason: "Invalid argument"))
        #expect(CgroupCPUBandwidth.error(path: "cg", errno: EBUSY) == .cgroup(path: "cg", reason: "Device or resource busy"))
    }

    // MARK: file I/O

    @Test func writeStoresTheValueInAnExistingFile() throws {
        let scratch = ScratchDirectory("cgroup-write")
        FileManager.default.createFile(atPath: scratch.file("cpu.max"), contents: Data())
        try Self.v2.write("50000 100000", to: "cpu.max", in: scratch.path)
        #expect(try String(contentsOfFile: scratch.file("cpu.max"), encoding: .utf8) == "50000 100000")
    }

    @Test func writeNeverCreatesAFile() {
        // A cgroup's files are the kernel's; a missing one is an error, not something to create.
        let scratch = ScratchDirectory("cgroup-write-missing")
        #expect(throws: HardwareError.cgroup(path: scratch.file("cpu.max"), reason: "No such file or directory")) {
            try Self.v2.write("max 100000", to: "cpu.max", in: scratch.path)
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("cpu.max")))
    }

    @Test func writingToADirectoryIsACgroupError() throws {
        let scratch = ScratchDirectory("cgroup-write-dir")
        try FileManager.default.createDirectory(atPath: scratch.file("child"), withIntermediateDirectories: false)
        #expect(throws: HardwareError.cgroup(path: scratch.file("child"), reason: "Is a directory")) {
            try Self.v1.write("1234", to: "child", in: scratch.path)
        }
    }

    @Test func readTrimsTheKernelsNewlineAndIsNilForAMissingFile() throws {
        let scratch = ScratchDirectory("cgroup-read")
        try "max 100000\n".write(toFile: scratch.file("cpu.max"), atomically: false, encoding: .utf8)
        try "  -1 \n".write(toFile: scratch.file("cpu.cfs_quota_us"), atomically: false, encoding: .utf8)
        #expect(Self.v2.read("cpu.max", in: scratch.path) == "max 100000")
        #expect(Self.v1.read("cpu.cfs_quota_us", in: scratch.path) == "-1")
        #expect(Self.v1.read("cpu.cfs_period_us", in: scratch.path) == nil)
    }

    @Test func aWrittenValueReadsBack() throws {
        let scratch = ScratchDirectory("cgroup-roundtrip")
        FileManager.default.createFile(atPath: scratch.file("cpu.cfs_quota_us"), contents: Data())
        try Self.v1.write("25000", to: "cpu.cfs_quota_us", in: scratch.path)
        #expect(Self.v1.read("cpu.cfs_quota_us", in: scratch.path) == "25000")
    }

    // MARK: detect

    @Test(.requiresCgroupCPUController)
    func aDetectedControllerIsAWritableCgroupWithItsVersionsFiles() throws {
        let found = try CgroupCPUBandwidth.detect().get()
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: found.parentDirectory, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(FileManager.default.isWritableFile(atPath: found.parentDirectory))
        switch found.version {
        case .v2:
            let controllers = try #require(found.read("cgroup.controllers", in: found.parentDirectory))
            #expect(controllers.split(separator: " ").contains("cpu"))
        case .v1:
            #expect(found.read("cpu.cfs_period_us", in: found.parentDirectory) != nil)
        }
        // Detection only reads: asking twice gives the same answer.
        #expect(CgroupCPUBandwidth.detect() == .success(found))
    }

    static let unavailable: CgroupCPUBandwidth.Unavailable? = {
        if case let .failure(why) = CgroupCPUBandwidth.detect() { return why }
        return nil
    }()

    @Test(.enabled(if: unavailable != nil, "this machine has a usable cgroup cpu controller, so detect() gives no reason"))
    func detectionFailureSaysWhyInOneLine() throws {
        let why = try #require(Self.unavailable)
        #expect(why.reason.contains("cgroup"))
        #expect(!why.reason.contains("\n"))
        #expect(CgroupCPUBandwidth.detect() == .failure(why), "detection only reads: asking again gives the same answer")
    }
}
