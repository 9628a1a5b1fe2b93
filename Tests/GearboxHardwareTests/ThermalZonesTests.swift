// Tests for GearboxHardware/ThermalZones over small synthetic sysfs trees built in a temp dir.

import Foundation
import GearboxHardware
import GearboxTestSupport
import Testing

/// A throwaway sysfs root with `sys/class/thermal`, removed when the test ends.
private final class SyntheticSysfs {
    private let scratch = ScratchDirectory("thermal")
    var directory: String { scratch.path }
    var root: SysfsRoot { .dump(directory: directory) }

    init() throws {
        try FileManager.default.createDirectory(atPath: directory + "/sys/class/thermal", withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ contents: String) throws {
        let path = directory + "/sys/class/thermal/" + relative
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

@Suite struct ThermalZonesTests {
    @Test func readsTypeTemperatureAndTripPointsInZoneOrder() throws {
        let sysfs = try SyntheticSysfs()
        try sysfs.write("thermal_zone10/type", "gpu-thermal\n")
        try sysfs.write("thermal_zone10/temp", "-5000\n")
        try sysfs.write("thermal_zone2/type", "cpu-thermal\n")
        try sysfs.write("thermal_zone2/temp", "47250\n")
        try sysfs.write("thermal_zone2/trip_point_0_type", "passive\n")
        try sysfs.write("thermal_zone2/trip_point_0_temp", "85000\n")
        try sysfs.write("thermal_zone2/trip_point_1_type", "critical\n")
        try sysfs.write("thermal_zone2/trip_point_1_temp", "105000\n")
        try sysfs.write("cooling_device0/type", "fan\n")  // not a zone

        let zones = ThermalZones.read(root: sysfs.root)
        #expect(zones.map(\.zone) == ["thermal_zone2", "thermal_zone10"])
        #expect(zones[0].type == "cpu-thermal")
        #expect(zones[0].milliCelsius == 47250)
        #expect(zones[0].note == nil)
        #expect(zones[0].tripPoints == [
            DeviceDescription.TripPoint(type: "passive", milliCelsius: 85000),
            DeviceDescription.TripPoint(type: "critical", milliCelsius: 105000),
        ])
        #expect(zones[1].milliCelsius == -5000)
        #expect(zones[1].tripPoints == [])
    }

    @Test func aGarbledTemperatureGivesNoReadingAndAOneLineNote() throws {
        let sysfs = try SyntheticSysfs()
        try sysfs.write("thermal_zone0/type", "soc\n")
        try sysfs.write("thermal_zone0/temp", "hot!\n")
        let zone = try #require(ThermalZones.zones(root: sysfs.root).first)
        #expect(zone.milliCelsius == nil)
        let problem = try #require(zone.problem)
        #expect(problem.contains("thermal_zone0/temp"))
        #expect(problem.contains("hot!"))
        #expect(!problem.contains("\n"))
        #expect(throws: HardwareError.self) { _ = try ThermalZones.temperature(of: zone) }
    }

    @Test func aMissingTemperatureFileIsNotedNotFatal() throws {
        let sysfs = try SyntheticSysfs()
        try sysfs.write("thermal_zone0/type", "acpitz\n")
        try sysfs.write("thermal_zone1/type", "x86_pkg_temp\n")
        try sysfs.write("thermal_zone1/temp", "51000\n")
        let zones = ThermalZones.read(root: sysfs.root)
        #expect(zones.count == 2)
        #expect(zones[0].milliCelsius == nil)
        #expect(zones[0].note?.contains("missing") == true)
        #expect(zones[1].milliCelsius == 51000)
    }

    @Test func aMissingTypeFileIsUnknown() throws {
        let sysfs = try SyntheticSysfs()
        try sysfs.write("thermal_zone0/temp", "40000")
        #expect(ThermalZones.read(root: sysfs.root).first?.type == "unknown")
    }

    @Test func noThermalDirectoryMeansNoZones() throws {
        #expect(ThermalZones.read(root: .dump(directory: "/nonexistent-gearbox")).isEmpty)
    }

    @Test(.requiresSysfsDumps) func theArmBoardDumpHasNoThermalZones() throws {
        #expect(ThermalZones.read(root: try SysfsFixtures.root(SysfsFixtures.armBoard)).isEmpty)
    }

    @Test func rereadingFollowsTheFile() throws {
        let sysfs = try SyntheticSysfs()
        try sysfs.write("thermal_zone0/temp", "40000")
        let zone = try #require(ThermalZones.zones(root: sysfs.root).first)
        try sysfs.write("thermal_zone0/temp", "41000")
        #expect(try ThermalZones.temperature(of: zone) == 41000)
    }
}
