// Tests for GearboxHardware/DeviceSummary: the text `gearbox device probe` and `gearbox dvfs list`
// print, line by line, on a hand-built device description (no probe, no sysfs): the aligned
// labels, plurals, cache grouping, CPU kinds, DVFS domain grouping, counter and thermal lines,
// the notes kept and dropped, and the byte and clip helpers.

import Foundation
import GearboxCore
import Testing

@testable import GearboxHardware

@Suite struct DeviceSummaryTests {
    static func domain(
        _ cpus: [Int], driver: String = "cpufreq-dt", governor: String = "userspace", governors: [String] = ["userspace", "performance"],
        minKHz: Int = 400_000, maxKHz: Int = 1_200_000, hardwareMinKHz: Int? = nil, hardwareMaxKHz: Int? = nil,
        availableKHz: [Int] = [400_000, 800_000, 1_200_000], gridKHz: [Int] = [400_000, 800_000, 1_200_000], gridDerived: Bool? = nil
    ) -> DeviceDescription.Domain {
        DeviceDescription.Domain(
            cpus: cpus, driver: driver, governor: governor, governors: governors, minKHz: minKHz, maxKHz: maxKHz,
            hardwareMinKHz: hardwareMinKHz, hardwareMaxKHz: hardwareMaxKHz, availableKHz: availableKHz, gridKHz: gridKHz,
            gridDerived: gridDerived)
    }

    static let dvfs = DeviceDescription.DVFS(
        controller: .real,
        domains: [
            domain([0, 1]),
            domain([2, 3]),  // differs from domain 0 only in its CPUs: shares its line
            domain([4], driver: "intel_pstate", governor: "powersave", governors: [], minKHz: 800_000, maxKHz: 3_900_000,
                   hardwareMinKHz: 400_000, hardwareMaxKHz: 4_100_000, availableKHz: [], gridKHz: [800_000, 2_350_000, 3_900_000],
                   gridDerived: true),
        ],
        note: "boost disabled")

    static func device(sysfsRoot: String? = nil) -> DeviceDescription {
        DeviceDescription(
            id: "bench-4c", hostname: "bench", cpuModel: "Cortex-A72",
            topology: .init(packages: 1, cores: 4, pus: 4, numaNodes: 1, caches: [
                .init(level: 1, sizeBytes: 32_768, lineBytes: 64, cpus: [0], type: "data"),
                .init(level: 1, sizeBytes: 32_768, lineBytes: 64, cpus: [1], type: "data"),
                .init(level: 1, sizeBytes: 49_152, lineBytes: 64, cpus: [0], type: "instruction"),
                .init(level: 2, sizeBytes: 1_048_576, lineBytes: 64, cpus: [0, 1], type: "unified"),
                .init(level: 3, sizeBytes: 1_572_864, lineBytes: 64, cpus: [0, 1, 2, 3]),
            ]),
            cpuKinds: [
                .init(cpus: [3, 2, 1, 0], efficiency: 1, infos: ["FrequencyMaxMHz": "3900", "CoreType": "Core", "Other": "hidden"]),
                .init(cpus: [6, 4], efficiency: -1, infos: [:]),
            ],
            dvfs: dvfs,
            counters: [
                .init(name: "cycles", status: "supported", reason: ""),
                .init(name: "instructions", status: "supported", reason: ""),
                .init(name: "cache-misses", status: "unsupported", reason: "PMU not exposed"),
                .init(name: "branch-misses", status: "unsupported", reason: "PMU not exposed"),
            ],
            thermalZones: [
                .init(type: "x86_pkg_temp", milliCelsius: 45_500, zone: "thermal_zone0"),
                .init(type: "acpitz", milliCelsius: nil, zone: nil, note: "temp unreadable"),
            ],
            timer: .init(resolutionNs: 41.7, readCostNs: 25.26, clock: "CLOCK_MONOTONIC"),
            sysfsRoot: sysfsRoot,
            provenance: Provenance(deviceID: "bench-4c", controller: .real, notes: [
                "dvfs: shown above", "kernel: not recorded", "thermal zones: shown above", "firmware: none",
            ]))
    }

    static func lines(_ device: DeviceDescription) -> [String] { device.summaryText().components(separatedBy: "\n") }

    @Test func theWholeSummaryIsAlignedUnderTenCharacterLabels() {
        #expect(Self.lines(Self.device()) == [
            "Device bench-4c",
            "  CPU        Cortex-A72",
            "  Host       bench",
            "  Topology   1 package, 4 cores, 4 PUs, 1 NUMA node",
            "  Caches     L1d 32 KiB ×2, L1i 48 KiB ×1, L2 1 MiB ×1, L3 1536 KiB ×1",
            "  CPU kinds  CPUs 0-3: efficiency 1, CoreType Core, FrequencyMaxMHz 3900",
            "             CPUs 4,6: efficiency unknown",
            "  DVFS       real, 3 domains",
            "             domains 0-1: CPUs 0-3, cpufreq-dt, governor userspace, limits 400 MHz–1.20 GHz; available 400 800 1200 MHz; governors userspace performance",
            "             domain 2: CPUs 4, intel_pstate, governor powersave, limits 800 MHz–3.90 GHz (hardware 400 MHz–4.10 GHz); no frequency list, grid 800 2350 3900 MHz (derived)",
            "             note: boost disabled",
            "  Counters   2 of 4 supported: cycles, instructions",
            "             unsupported cache-misses, branch-misses: PMU not exposed",
            "  Thermal    thermal_zone0 x86_pkg_temp: 45.5 °C",
            "             zone 1 acpitz: no reading (temp unreadable)",
            "  Notes      kernel: not recorded",
            "             firmware: none",
            "  Timer      resolution 42 ns, read cost 25.3 ns (CLOCK_MONOTONIC)",
        ])
    }

    @Test(arguments: [(String?.none, "Device bench-4c"), ("live", "Device bench-4c"),
                      ("dumps/2arm-2c", "Device bench-4c  (from sysfs dump dumps/2arm-2c)")])
    func theFirstLineNamesTheDumpOnlyWhenTheDeviceCameFromOne(root: String?, first: String) {
        #expect(Self.lines(Self.device(sysfsRoot: root)).first == first)
    }

    @Test func countsOtherThanOneArePlural() {
        var device = Self.device()
        device.topology = .init(packages: 2, cores: 1, pus: 1, numaNodes: 2, caches: [])
        let lines = Self.lines(device)
        #expect(lines.contains("  Topology   2 packages, 1 core, 1 PU, 2 NUMA nodes"))
        #expect(lines.contains("  Caches     none reported"))
    }

    @Test func aDeviceWithoutKindsZonesNotesOrCountersSaysSo() {
        var device = Self.device()
        device.cpuKinds = []
        device.thermalZones = []
        device.counters = []
        device.provenance = nil
        device.timer = .init(resolutionNs: 1, readCostNs: 20)
        let lines = Self.lines(device)
        #expect(lines.contains("  CPU kinds  none reported"))
        #expect(lines.contains("  Thermal    absent (no thermal zones)"))
        #expect(lines.contains("  Counters   0 of 0 supported"))
        #expect(!lines.contains { $0.hasPrefix("  Notes") })
        #expect(lines.last == "  Timer      resolution 1 ns, read cost 20.0 ns")
    }

    @Test func unsupportedCountersWithDifferentReasonsGetALineEachUpToTwelve() {
        var device = Self.device()
        device.counters = (0..<15).map { .init(name: "ev\($0)", status: "unsupported", reason: "reason \($0)") }
        let lines = Self.lines(device)
        #expect(lines.contains("  Counters   0 of 15 supported"))
        let unsupported = lines.filter { $0.hasPrefix("             unsupported ") }
        #expect(unsupported.count == 12)
        #expect(unsupported.first == "             unsupported ev0: reason 0")
        #expect(unsupported.last == "             unsupported ev11: reason 11")
    }

    @Test func aSingleUnsupportedCounterIsListedByItselfAndLongReasonsAreClipped() {
        var device = Self.device()
        let reason = String(repeating: "x", count: 95)
        device.counters = [.init(name: "cycles", status: "supported", reason: ""), .init(name: "llc", status: "error", reason: reason)]
        let lines = Self.lines(device)
        #expect(lines.contains("  Counters   1 of 2 supported: cycles"))
        #expect(lines.contains("             unsupported llc: " + String(repeating: "x", count: 90) + "…"))
    }

    @Test func sharedUnsupportedReasonsAreClippedToo() {
        var device = Self.device()
        let reason = String(repeating: "y", count: 91)
        device.counters = [.init(name: "a", status: "unsupported", reason: reason), .init(name: "b", status: "unsupported", reason: reason)]
        #expect(Self.lines(device).contains("             unsupported a, b: " + String(repeating: "y", count: 90) + "…"))
    }

    @Test func aZoneWithoutReadingOrNoteSaysNoReading() {
        var device = Self.device()
        device.thermalZones = [.init(type: "soc", milliCelsius: nil), .init(type: "gpu", milliCelsius: -1_260, zone: "tz9")]
        let lines = Self.lines(device)
        #expect(lines.contains("  Thermal    zone 0 soc: no reading"))
        #expect(lines.contains("             tz9 gpu: -1.3 °C"))
    }

    // MARK: DVFS listing

    @Test func theDVFSListingIsTheSummarysDVFSLines() throws {
        let listing = Self.dvfs.listingText().components(separatedBy: "\n")
        #expect(listing.count == 4)
        let summary = Self.lines(Self.device())
        let start = try #require(summary.firstIndex(of: listing[0]))
        #expect(Array(summary[start..<(start + listing.count)]) == listing)
    }

    @Test func oneDomainIsSingularAndHasNoNoteLineWithoutANote() {
        let dvfs = DeviceDescription.DVFS(controller: .emulated, domains: [Self.domain([0, 1, 2, 3, 5], governors: [])])
        #expect(dvfs.listingText().components(separatedBy: "\n") == [
            "  DVFS       emulated, 1 domain",
            "             domain 0: CPUs 0-3,5, cpufreq-dt, governor userspace, limits 400 MHz–1.20 GHz; available 400 800 1200 MHz",
        ])
    }

    @Test func noDomainsAtAll() {
        let dvfs = DeviceDescription.DVFS(controller: .unavailable, domains: [], note: "no cpufreq")
        #expect(dvfs.listingText() == "  DVFS       none, 0 domains\n             note: no cpufreq")
    }

    @Test func aGridThatWasNotDerivedSaysNothingAboutItAndHardwareLimitsNeedBothEnds() {
        let dvfs = DeviceDescription.DVFS(controller: .real, domains: [
            Self.domain([0], hardwareMinKHz: 100_000, hardwareMaxKHz: nil, availableKHz: [], gridKHz: [400_000, 1_200_000]),
        ])
        #expect(dvfs.listingText().components(separatedBy: "\n").last
            == "             domain 0: CPUs 0, cpufreq-dt, governor userspace, limits 400 MHz–1.20 GHz; no frequency list, grid 400 1200 MHz; governors userspace performance")
    }

    @Test func domainsThatDifferInMoreThanTheirCPUsKeepSeparateLines() {
        let dvfs = DeviceDescription.DVFS(controller: .real, domains: [
            Self.domain([0]), Self.domain([1], governor: "performance"), Self.domain([2]),
        ])
        let lines = dvfs.listingText().components(separatedBy: "\n")
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("             domains 0,2: CPUs 0,2, "))
        #expect(lines[2].hasPrefix("             domain 1: CPUs 1, cpufreq-dt, governor performance, "))
    }

    // MARK: Helpers

    @Test(arguments: [
        (0, "0 B"), (1000, "1000 B"), (1024, "1 KiB"), (1536, "1536 B"), (49_152, "48 KiB"), (1_048_576, "1 MiB"),
        (1_572_864, "1536 KiB"), (8 << 20, "8 MiB"), ((1 << 20) + 1, "1048577 B"),
    ])
    func bytesUseTheLargestUnitThatDividesExactly(value: Int, text: String) {
        #expect(DeviceDescription.bytes(value) == text)
    }

    @Test func clipCutsAtTheLimitAndMarksIt() {
        #expect(DeviceDescription.clip("abc", 3) == "abc")
        #expect(DeviceDescription.clip("abcd", 3) == "abc…")
        #expect(DeviceDescription.clip("", 0) == "")
    }
}
