// Tests for GearboxHardware/Topology: hwloc loading of the live machine and of each sysfs dump.

import GearboxHardware
import Testing

@Suite struct TopologyTests {
    @Test func liveMachineHasAtLeastOnePUAndOneCore() throws {
        let topology = try Topology.load()
        #expect(topology.pus.count >= 1)
        #expect(topology.cores.count >= 1)
        #expect(topology.root == .live)
        // Every core's PUs are PUs of the machine.
        for core in topology.cores { #expect(core.cpus.isSubset(of: topology.pus)) }
        let summary = topology.summary()
        #expect(summary.pus == topology.pus.count)
        #expect(summary.caches.allSatisfy { $0.level >= 1 && $0.sizeBytes > 0 })
    }

    @Test func armBoardDumpHasTwoPUs() throws {
        guard let root = try SysfsFixtures.root(SysfsFixtures.armBoard) else { return }
        let topology = try Topology.load(root: root)
        #expect(topology.pus == [0, 1])
        #expect(topology.cores.count == 2)
        #expect(topology.root == root)
    }

    @Test func intelHybridDumpHasTwentyPUsAndTwoDistinctKinds() throws {
        guard let root = try SysfsFixtures.root(SysfsFixtures.intelHybrid) else { return }
        let topology = try Topology.load(root: root)
        #expect(topology.pus.count == 20)
        #expect(topology.kinds.count == 2)
        let kinds = topology.cpuKinds()
        #expect(kinds.count == 2)
        guard kinds.count == 2 else { return }
        // Distinct, disjoint, together covering every PU.
        #expect(Set(kinds[0].cpus).isDisjoint(with: kinds[1].cpus))
        #expect(CPUSet(kinds[0].cpus + kinds[1].cpus) == topology.pus)
        // Most efficient first: the E-cores (3.9 GHz max) then the P-cores (5 GHz max).
        #expect(kinds[0].infos["FrequencyMaxMHz"] == "3900")
        #expect(kinds[1].infos["FrequencyMaxMHz"] == "5000")
        #expect(kinds[0].efficiency < kinds[1].efficiency)
        #expect(kinds[1].cpus.count == 12)
        #expect(kinds[0].cpus.count == 8)
    }

    @Test func fakeHeterogeneousNUMADumpLoads() throws {
        guard let root = try SysfsFixtures.root(SysfsFixtures.fakeHeterogeneousNUMA) else { return }
        let topology = try Topology.load(root: root)
        #expect(!topology.pus.isEmpty)
        #expect(topology.kinds.count >= 2)
        #expect(topology.numaNodes.count >= 1)
    }

    @Test func loadingAMissingDumpNamesTheDirectory() {
        #expect(throws: HardwareError.self) { _ = try Topology.load(root: .dump(directory: "/nonexistent-gearbox-dump")) }
    }

    @Test func liveTopologyIsUnaffectedByADumpLoad() throws {
        let before = try Topology.load()
        if let root = try SysfsFixtures.root(SysfsFixtures.intelHybrid) { _ = try Topology.load(root: root) }
        let after = try Topology.load()
        #expect(before.pus == after.pus)
        #expect(before.summary() == after.summary())
    }
}
