// Tests for GearboxHardware/Topology: hwloc loading of the live machine and of each sysfs dump.

import Foundation
import GearboxTestSupport
@testable import GearboxHardware
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

    @Test func theSharedLiveTopologyIsLoadedOnce() throws {
        #expect(try Topology.live() === Topology.live())
        #expect(try Topology.live().root == .live)
    }

    @Test(.requiresSysfsDumps) func armBoardDumpHasTwoPUs() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.armBoard)
        let topology = try Topology.load(root: root)
        #expect(topology.pus == [0, 1])
        #expect(topology.cores.count == 2)
        #expect(topology.root == root)
        // The dump has cpufreq for CPU 0 only, so hwloc ranks CPU 0 alone; CPU 1 is reported as
        // outside every kind rather than guessed into one.
        #expect(topology.kinds.map(\.cpus) == [[0]])
        #expect(topology.kinds.first?.infos["FrequencyMaxMHz"] == "800")
        #expect(topology.pusWithoutKind == [1])
    }

    @Test(.requiresSysfsDumps) func intelHybridDumpHasTwentyPUsAndTwoDistinctKinds() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.intelHybrid)
        let topology = try Topology.load(root: root)
        #expect(topology.pus.count == 20)
        #expect(topology.kinds.count == 2)
        let kinds = topology.cpuKinds()
        try #require(kinds.count == 2)
        // Distinct, disjoint, together covering every PU.
        #expect(Set(kinds[0].cpus).isDisjoint(with: kinds[1].cpus))
        #expect(CPUSet(kinds[0].cpus + kinds[1].cpus) == topology.pus)
        // Most efficient first: the E-cores (3.9 GHz max) then the P-cores (5 GHz max).
        #expect(kinds[0].infos["FrequencyMaxMHz"] == "3900")
        #expect(kinds[1].infos["FrequencyMaxMHz"] == "5000")
        #expect(kinds[0].efficiency < kinds[1].efficiency)
        #expect(kinds[1].cpus.count == 12)
        #expect(kinds[0].cpus.count == 8)
        #expect(topology.pusWithoutKind.isEmpty)
        #expect(topology.kind(containing: 12)?.index == 0)
        #expect(topology.core(containing: 1)?.cpus == [0, 1])  // a P-core with two threads
        #expect(topology.caches.contains { $0.level == 3 && $0.cpus == topology.pus })
    }

    @Test(.requiresSysfsDumps) func fakeHeterogeneousNUMADumpLoads() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.fakeHeterogeneousNUMA)
        let topology = try Topology.load(root: root)
        #expect(!topology.pus.isEmpty)
        #expect(topology.kinds.count >= 2)
        #expect(topology.numaNodes.count >= 1)
    }

    @Test func loadingAMissingDumpNamesTheDirectory() {
        #expect(throws: HardwareError.self) { _ = try Topology.load(root: .dump(directory: "/nonexistent-gearbox-dump")) }
    }

    @Test(.requiresSysfsDumps) func liveTopologyIsUnaffectedByADumpLoad() throws {
        let before = try Topology.load()
        _ = try Topology.load(root: try SysfsFixtures.root(SysfsFixtures.intelHybrid))
        let after = try Topology.load()
        #expect(before.pus == after.pus)
        #expect(before.summary() == after.summary())
        // No HWLOC_FSROOT is left behind (read under the lock dump loads hold while it is set).
        let leftover = ProcessEnvironment.withLock { getenv("HWLOC_FSROOT").map { String(cString: $0) } }
        #expect(leftover == nil)
    }
}
