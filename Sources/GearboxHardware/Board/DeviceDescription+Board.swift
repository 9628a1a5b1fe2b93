// GearboxHardware/DeviceDescription+Board: the optional `powerSensors` and `board` records of
// `Devices/<id>.json`.

import GearboxCore

extension DeviceDescription {
    /// One power or energy sensor.
    public struct PowerSensor: Codable, Equatable, Sendable {
        /// The zone (`intel-rapl:0`) or chip and attribute (`ina3221/curr1`).
        public var name: String
        /// "powercap" | "hwmon"
        public var kind: String
        /// The file to read.
        public var path: String
        /// What the file counts: "uJ" (energy counter), "uW", or "mA" (with `voltagePath` in mV).
        public var unit: String
        /// What it measures: the zone's name (`package-0`, `core`) or the channel's label.
        public var scope: String
        /// The bus voltage file of a current sensor (mV), where the chip has one.
        public var voltagePath: String?
        /// Where an energy counter wraps (`max_energy_range_uj`).
        public var maxRangeMicrojoules: Int?
        public init(name: String, kind: String, path: String, unit: String, scope: String,
                    voltagePath: String? = nil, maxRangeMicrojoules: Int? = nil) {
            self.name = name; self.kind = kind; self.path = path; self.unit = unit; self.scope = scope
            self.voltagePath = voltagePath; self.maxRangeMicrojoules = maxRangeMicrojoules
        }
    }

    /// The board model a description was probed inside (GearboxCore's, shared with `Provenance`).
    public typealias BoardLabel = GearboxCore.BoardLabel
}
