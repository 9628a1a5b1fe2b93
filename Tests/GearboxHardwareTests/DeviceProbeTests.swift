// Tests for GearboxHardware/DeviceProbe and DeviceSummary: each sysfs fixture and the live
// machine come out as the DeviceDescription the foundation issue specifies, and round-trip
// through the file format.

import Foundation
import GearboxCore
@testable import GearboxHardware
import GearboxTestSupport
import Testing

@Suite struct DeviceProbeTests {
    @Test(.requiresRoot, .requiresSysfsDumps) func theArmBoardIsTwoPUsInOneDomainAt400And800MHz() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.armBoard)
        let device = try DeviceProbe.run(root: root)
        try device.validate(FileValidator(path: "probe"))  // what every reader of the file checks
        #expect(device.topology.pus == 2)
        #expect(device.dvfs.controller == .real)
        #expect(device.dvfs.domains.map(\.cpus) == [[0, 1]])
        #expect(device.dvfs.domains.first?.availableKHz == [400_000, 800_000])
        #expect(device.cpuModel.contains("Cortex-A9"))
        #expect(device.id.hasSuffix("2c2t"))
        #expect(device.hostname == "sysfs-dump:2arm-2c")
        #expect(device.counters.allSatisfy { $0.status == "unsupported" && $0.reason.contains("not probed") })
        #expect(device.summaryText().contains("available 400 800 MHz"))
        // A dump records no kernel and this one no DMI firmware: both absent, and the notes say why.
        #expect(device.kernel == nil && device.firmware == nil)
        #expect(device.provenance?.notes.contains { $0.hasPrefix("kernel: not recorded") } == true)
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func theIntelHybridHasTwentyPUsTwoKindsAndDerivedGrids() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.intelHybrid)
        let device = try DeviceProbe.run(root: root, options: .init(id: "hybrid", gridSteps: 5))
        try device.validate(FileValidator(path: "probe"))  // what every reader of the file checks
        #expect(device.id == "hybrid")
        #expect(device.topology.pus == 20)
        #expect(device.cpuKinds.count == 2)
        #expect(device.dvfs.domains.count == 20)
        #expect(device.dvfs.domains.filter { $0.cpus[0] >= 12 }.allSatisfy { $0.maxKHz == 3_900_000 && $0.gridKHz.count == 5 })
        #expect(device.dvfs.domains.allSatisfy { $0.availableKHz.isEmpty && $0.gridDerived == true })
        // Domains that differ only in their CPUs share one summary line.
        #expect(device.summaryText().contains("domains 12-19: CPUs 12-19"))
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func theFakeHeterogeneousDumpLoads() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.fakeHeterogeneousNUMA)
        let device = try DeviceProbe.run(root: root)
        try device.validate(FileValidator(path: "probe"))  // what every reader of the file checks
        #expect(device.topology.pus == 24)
        #expect(device.dvfs.controller == .unavailable)
        #expect(device.thermalZones.isEmpty)
    }

    @Test func theLiveMachineRoundTripsThroughTheFileFormat() throws {
        let device = try DeviceProbe.run(options: .init(counterNames: ["perf::TASK-CLOCK", "cycles"]))
        #expect(device.sysfsRoot == "live")
        #expect(device.topology.pus >= 1)
        #expect(device.kernel?.hasPrefix("Linux ") == true)
        #expect(device.counters.map(\.name) == ["perf::TASK-CLOCK", "cycles"])
        let scratch = ScratchDirectory("device")
        let path = scratch.file("\(device.id).json")
        try JSONFile.write(device, to: path)
        #expect(try JSONFile.read(DeviceDescription.self, from: path) == device)
        #expect(DeviceProbe.defaultPath(for: device) == "Devices/\(device.id).json")
    }

    @Test(.requiresSysfsDumps) func anArchiveArgumentIsExtractedAndCleanedUp() throws {
        let archive = try SharedFixtures.sysfsArchive(named: SysfsFixtures.armBoard)
        let argument = try SysfsRootArgument.resolve(archive)
        let extracted = try #require(argument.extractedInto)
        #expect(FileManager.default.fileExists(atPath: argument.root.path("sys/devices/system/cpu")))
        argument.cleanUp()
        #expect(!FileManager.default.fileExists(atPath: extracted))
        #expect(throws: HardwareError.self) { _ = try SysfsRootArgument.resolve(archive, allowArchive: false) }
        #expect(try SysfsRootArgument.resolve(nil).root == .live)
    }

    @Test func firmwareComesFromTheRootsDMIFilesAndIsAbsentWithoutThem() throws {
        let scratch = ScratchDirectory("dmi")
        let dmi = scratch.file("sys/class/dmi/id")
        try FileManager.default.createDirectory(atPath: dmi, withIntermediateDirectories: true)
        let root = SysfsRoot.dump(directory: scratch.path)
        #expect(PlatformSoftware.read(root: root) == PlatformSoftware(kernel: nil, firmware: nil))
        try "American Megatrends Inc.\n".write(toFile: dmi + "/bios_vendor", atomically: true, encoding: .utf8)
        try "F.23\n".write(toFile: dmi + "/bios_version", atomically: true, encoding: .utf8)
        try "03/14/2024\n".write(toFile: dmi + "/bios_date", atomically: true, encoding: .utf8)
        #expect(PlatformSoftware.read(root: root).firmware == "American Megatrends Inc. F.23 (03/14/2024)")
        #expect(PlatformSoftware.read(root: .live).kernel?.hasPrefix("Linux ") == true)
    }
}
