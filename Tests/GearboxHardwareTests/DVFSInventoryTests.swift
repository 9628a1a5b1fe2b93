// Tests for GearboxHardware/DVFSInventory (and the Cpufreq wrappers under it): the domains of
// each sysfs fixture, the live machine's fallback, and one-line errors for broken dumps.

import Foundation
import GearboxTestSupport
@testable import GearboxHardware
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct DVFSInventoryTests {
    @Test(.requiresRoot, .requiresSysfsDumps) func armBoardHasOneDomainWithTwoListedFrequencies() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.armBoard)
        let dvfs = try DVFSInventory.discover(root: root)
        #expect(dvfs.controller == .real)
        try #require(dvfs.domains.count == 1)
        let domain = dvfs.domains[0]
        #expect(domain.cpus == [0, 1])
        #expect(domain.driver == "U8500")
        #expect(domain.governor == "ondemand")
        #expect(domain.governors.contains("userspace"))
        #expect(domain.availableKHz == [400_000, 800_000])
        #expect(domain.gridKHz == [400_000, 800_000])
        #expect(domain.gridDerived == false)
        #expect(domain.hardwareMinKHz == 400_000 && domain.hardwareMaxKHz == 800_000)
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func intelHybridHasPCoreAndECoreDomainsWithDerivedGrids() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.intelHybrid)
        let dvfs = try DVFSInventory.discover(root: root, gridSteps: 6)
        #expect(dvfs.controller == .real)
        #expect(dvfs.domains.count == 20)
        #expect(dvfs.domains.flatMap(\.cpus) == Array(0..<20))
        // P-cores (CPUs 0-11) reach 5.0 GHz; the dump's two favoured cores (CPUs 4-5, 8-9) 5.2 GHz.
        let pCoreMaxima = Set(dvfs.domains.filter { $0.cpus[0] < 12 }.map(\.maxKHz))
        #expect(pCoreMaxima == [5_000_000, 5_200_000])
        #expect(dvfs.domains.filter { $0.maxKHz == 5_000_000 }.count == 8)
        for domain in dvfs.domains {
            #expect(domain.driver == "intel_pstate")
            #expect(domain.availableKHz.isEmpty)
            #expect(domain.gridDerived == true)
            #expect(domain.gridKHz.count == 6)
            #expect(domain.gridKHz.first == 400_000 && domain.gridKHz.last == domain.maxKHz)
        }
        #expect(dvfs.domains.filter { $0.maxKHz == 3_900_000 }.map(\.cpus) == (12..<20).map { [$0] })
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func fakeHeterogeneousDumpLoadsWithoutPolicies() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.fakeHeterogeneousNUMA)
        let dvfs = try DVFSInventory.discover(root: root)
        #expect(dvfs.controller == .unavailable)
        #expect(dvfs.domains.isEmpty)
        #expect(dvfs.note?.contains("no policy files") == true)
    }

    @Test func liveMachineWithoutCpufreqFallsBackToEmulationOrNone() throws {
        let dvfs = try DVFSInventory.discover(root: .live)
        #expect(["real", "emulated", "none"].contains(dvfs.controller.rawValue))
        if dvfs.controller == .emulated {
            try #require(dvfs.domains.count == 1)
            #expect(dvfs.domains[0].gridKHz.last == DVFSInventory.defaultEmulatedMaxKHz)
            #expect(dvfs.note?.contains("emulated") == true)
        }
        if dvfs.controller != .real { #expect(dvfs.note != nil) }
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func aMissingCpufreqFileIsNamedInOneLine() throws {
        let copy = try SysfsFixtures.writableCopy(of: SysfsFixtures.armBoard)
        let directory = try #require(copy.directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq"
        try FileManager.default.removeItem(atPath: file)
        do {
            _ = try DVFSInventory.discover(root: copy)
            Issue.record("discovery succeeded without scaling_max_freq")
        } catch let error as HardwareError {
            #expect(error.description.contains(file))
            #expect(error.description.contains("missing"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func aGarbledCpufreqFileIsNamedInOneLine() throws {
        let copy = try SysfsFixtures.writableCopy(of: SysfsFixtures.intelHybrid)
        let directory = try #require(copy.directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/sys/devices/system/cpu/cpufreq/policy3/cpuinfo_max_freq"
        try "fast\n".write(toFile: file, atomically: false, encoding: .utf8)
        do {
            _ = try DVFSInventory.discover(root: copy)
            Issue.record("discovery succeeded with a garbled cpuinfo_max_freq")
        } catch let error as HardwareError {
            // libcpufreq reaches the file through the cpu3/cpufreq symlink.
            #expect(error.description.contains("cpu3/cpufreq/cpuinfo_max_freq"))
            #expect(error.description.contains("\"fast\""))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func derivedGridsAreEvenlySpacedWithExactEnds() {
        #expect(FrequencyGrid.evenlySpaced(minKHz: 400_000, maxKHz: 5_000_000, steps: 3) == [400_000, 2_700_000, 5_000_000])
        #expect(FrequencyGrid.evenlySpaced(minKHz: 400_000, maxKHz: 400_000, steps: 8) == [400_000])
        #expect(FrequencyGrid.fractions(ofMaxKHz: 2_000_000, steps: 4) == [500_000, 1_000_000, 1_500_000, 2_000_000])
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func theRealMachineViewIsUnaffectedByADumpView() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.armBoard)
        let driverFile = "/sys/devices/system/cpu/cpu0/cpufreq/scaling_driver"
        let driverBefore = FileManager.default.contents(atPath: driverFile)
        let before = try FileManager.default.contentsOfDirectory(atPath: "/sys/devices/system/cpu").sorted()
        let cpufreq = try Cpufreq(root: root)
        #expect(try cpufreq.driver(cpu: 0) == "U8500")
        let after = try FileManager.default.contentsOfDirectory(atPath: "/sys/devices/system/cpu").sorted()
        #expect(before == after)
        #expect(FileManager.default.contents(atPath: driverFile) == driverBefore)
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mounts.contains(directoryOf(root)))
    }

    private func directoryOf(_ root: SysfsRoot) -> String { root.directory ?? "/" }
}
