// GearboxReport/Report/ReportInputs: the files one report is made from: a lookup table, and
// optionally a validation run and a device description; loading says what is missing.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxProfiler

/// Everything a report is built from.
public struct ReportInputs: Sendable, Equatable {
    public var lut: LookupTable
    public var lutPath: String
    public var validation: ValidationRun?
    public var device: DeviceDescription?
    public var devicePath: String?

    public init(lut: LookupTable, lutPath: String, validation: ValidationRun? = nil, device: DeviceDescription? = nil, devicePath: String? = nil) {
        self.lut = lut; self.lutPath = lutPath; self.validation = validation; self.device = device; self.devicePath = devicePath
    }

    /// Reads the lookup table, then the validation directory and device file when given.
    /// Without `devicePath`, `Devices/<lut.device>.json` is used when it exists.
    public static func load(lutPath: String, validationPath: String? = nil, devicePath: String? = nil) throws -> ReportInputs {
        let lut = try LookupTable.read(from: lutPath)
        guard !lut.variants.isEmpty else { throw ReportError.emptyLookupTable(path: lutPath) }
        let validation = try validationPath.map { try ValidationRun.load(from: $0) }
        var resolvedDevicePath = devicePath
        if resolvedDevicePath == nil {
            let guess = "Devices/\(lut.device).json"
            if FileManager.default.fileExists(atPath: guess) { resolvedDevicePath = guess }
        }
        let device = try resolvedDevicePath.map { try JSONFile.read(DeviceDescription.self, from: $0) }
        return ReportInputs(lut: lut, lutPath: lutPath, validation: validation, device: device, devicePath: resolvedDevicePath)
    }

    /// Where a report goes when `--out` is not given: the validation directory when there is one
    /// (the report sits beside what it reports), else `Reports/<device>-<portfolio>`.
    public var defaultOutputDirectory: String {
        if let validation { return validation.directory }
        return "Reports/" + Markup.identifier(lut.device + "-" + lut.portfolio)
    }
}
