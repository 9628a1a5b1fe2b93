// Tests for GearboxHardware/PowerSensors over board trees rendered into a scratch folder: RAPL
// zones and INA-style rails are found with their units, and a root without sensors has none.

import Foundation
import GearboxHardware
import GearboxTestSupport
import Testing

@Suite struct BoardPowerSensorsTests {
    @Test func raplZonesAreEnergyCountersWithTheirRange() throws {
        let scratch = ScratchDirectory("board-sensors")
        let board = BoardSimulation(model: try BoardFiles.catalog.load("intel-i7-1370p"))
        try BoardTree(root: scratch.path).renderAll(board)
        let sensors = PowerSensors.read(root: .dump(directory: scratch.path))
        #expect(sensors.map(\.name) == ["intel-rapl:0", "intel-rapl:0:0"])
        #expect(sensors.map(\.scope) == ["package-0", "core"])
        #expect(sensors.allSatisfy { $0.kind == "powercap" && $0.unit == "uJ" && $0.maxRangeMicrojoules == 262143328850 })
    }

    @Test func anINARailIsACurrentWithItsBusVoltage() throws {
        let scratch = ScratchDirectory("board-sensors")
        let board = BoardSimulation(model: try BoardFiles.catalog.load("st-u8500"))
        try BoardTree(root: scratch.path).renderAll(board)
        let sensors = PowerSensors.read(root: .dump(directory: scratch.path))
        #expect(sensors.map(\.name) == ["ina3221/curr1"])
        #expect(sensors.first?.unit == "mA")
        #expect(sensors.first?.scope == "vbat_soc")
        #expect(sensors.first?.voltagePath?.hasSuffix("/hwmon0/in1_input") == true)
    }

    @Test func aRootWithoutSensorsHasNone() throws {
        let scratch = ScratchDirectory("board-sensors")
        try FileManager.default.createDirectory(atPath: scratch.file("sys/class/hwmon/hwmon0"), withIntermediateDirectories: true)
        try "coretemp\n".write(toFile: scratch.file("sys/class/hwmon/hwmon0/name"), atomically: true, encoding: .utf8)
        try "45000\n".write(toFile: scratch.file("sys/class/hwmon/hwmon0/temp1_input"), atomically: true, encoding: .utf8)
        #expect(PowerSensors.read(root: .dump(directory: scratch.path)).isEmpty)
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func aProbeOfHardwareWithoutSensorsSaysTheyAreAbsentAndNamesNoBoard() throws {
        let description = try DeviceProbe.run(root: try SysfsFixtures.root(SysfsFixtures.armBoard), options: .init(counterNames: []))
        #expect(description.powerSensors == [])
        #expect(description.provenance?.notes.contains { $0.hasPrefix("power sensors: absent") } == true)
        #expect(description.board == nil)
        #expect(description.provenance?.controller == .real)
    }
}
