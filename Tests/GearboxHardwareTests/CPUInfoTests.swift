// Tests for GearboxHardware/CPUInfo: model names from /proc/cpuinfo and derived device ids.

import GearboxTestSupport
import GearboxHardware
import Testing

@Suite struct CPUInfoTests {
    @Test func x86ModelComesFromModelName() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: 13th Gen Intel(R) Core(TM) i7-1370P\n"
        #expect(CPUInfo.model(cpuinfo: text) == "13th Gen Intel(R) Core(TM) i7-1370P")
    }

    @Test func armModelNamesTheBoardAndTheCores() {
        let text = """
            Processor\t: ARMv7 Processor rev 1 (v7l)
            CPU implementer\t: 0x41
            CPU part\t: 0xc09
            Hardware\t: ST-Ericsson MOP500 platform
            """
        #expect(CPUInfo.model(cpuinfo: text) == "ST-Ericsson MOP500 platform (Cortex-A9)")
    }

    @Test func bigLittleArmListsBothCoreKinds() {
        let text = """
            processor\t: 0
            CPU implementer\t: 0x41
            CPU part\t: 0xd05
            processor\t: 6
            CPU implementer\t: 0x41
            CPU part\t: 0xd0b
            """
        #expect(CPUInfo.model(cpuinfo: text) == "Cortex-A55 + Cortex-A76")
    }

    @Test func missingOrEmptyCpuinfoIsUnknown() {
        #expect(CPUInfo.model(cpuinfo: "") == "unknown")
        #expect(CPUInfo.model(root: .dump(directory: "/nonexistent-gearbox")) == "unknown")
    }

    @Test(.requiresSysfsDumps) func fixtureModelsAreRead() throws {
        #expect(CPUInfo.model(root: try SysfsFixtures.root(SysfsFixtures.armBoard)) == "ST-Ericsson MOP500 platform (Cortex-A9)")
        #expect(CPUInfo.model(root: try SysfsFixtures.root(SysfsFixtures.intelHybrid)) == "13th Gen Intel(R) Core(TM) i7-1370P")
    }

    @Test func deviceIDJoinsModelSlugAndTopologyShape() {
        let topology = DeviceDescription.TopologySummary(packages: 1, cores: 14, pus: 20, numaNodes: 1, caches: [])
        #expect(DeviceID.derive(cpuModel: "13th Gen Intel(R) Core(TM) i7-1370P", topology: topology)
            == "13th-gen-intel-core-i7-1370p-14c20t")
        let twoSockets = DeviceDescription.TopologySummary(packages: 2, cores: 4, pus: 8, numaNodes: 2, caches: [])
        #expect(DeviceID.derive(cpuModel: "unknown", topology: twoSockets) == "unknown-2p4c8t")
        #expect(DeviceID.slug("Intel(R) Xeon(R) CPU @ 2.20GHz") == "intel-xeon-2-20ghz")
        #expect(DeviceID.derive(cpuModel: "???", topology: twoSockets) == "2p4c8t")
    }
}
