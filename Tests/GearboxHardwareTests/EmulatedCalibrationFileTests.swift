// Tests for GearboxHardware/EmulatedCalibrationFile: which saved calibrations may be reused (same
// host and settings, young enough, plausible ratio), and that a controller adopting them uses the
// saved speed ratio instead of measuring, and saves them back with their original dates.

import Foundation
import GearboxCore
@testable import GearboxHardware
import GearboxTestSupport
import Testing

private let host = ProcessInfo.processInfo.hostName

private func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

/// A calibration file as JSON text, the way `JSONFile` writes it.
private func fileJSON(hostname: String = host, maxKHz: Int = 2_000_000, periodUs: Int = EmulatedFrequencyController.Options().periodUs,
                      fillGaps: Bool? = true, steps: [(kHz: Int, ratio: Double, measuredAt: String?)]) -> String {
    let calibrations = steps.map { step in
        """
        {"requestedKHz": \(step.kHz), "requestedRatio": \(Double(step.kHz) / Double(maxKHz)), "measuredRatio": \(step.ratio),
         "periodUs": \(periodUs), "quotaUs": \(Int(Double(periodUs) * Double(step.kHz) / Double(maxKHz))), "corrections": 0,
         "workNs": 64000000\(step.measuredAt.map { ", \"measuredAt\": \"\($0)\"" } ?? "")}
        """
    }.joined(separator: ",\n")
    return """
        {"schemaVersion": 1, "maxKHz": \(maxKHz), "periodUs": \(periodUs), "calibrationWorkNs": 64000000,
         "correctQuota": false, "boostWeight": true,\(fillGaps.map { " \"fillGaps\": \($0)," } ?? "") "calibrations": [\(calibrations)],
         "provenance": {"deviceID": "test-device", "controller": "emulated", "gearboxVersion": "0.1.0", "gitCommit": "x",
                        "compiler": "Swift", "date": "\(iso(Date()))", "hostname": "\(hostname)", "governors": [],
                        "limitsKHz": [], "milliCelsius": {}, "notes": []}}
        """
}

private func decode(_ json: String) throws -> EmulatedCalibrationFile {
    try JSONFile.decode(EmulatedCalibrationFile.self, from: Data(json.utf8), path: "test.json")
}

@Test func savedCalibrationsFitOnlyTheSameHostAndSettings() throws {
    let options = EmulatedFrequencyController.Options(maxKHz: 2_000_000)
    #expect(try decode(fileJSON(steps: [])).mismatch(with: options) == nil)
    #expect(try decode(fileJSON(hostname: host + "-other", steps: [])).mismatch(with: options)?.contains("host") == true)
    #expect(try decode(fileJSON(maxKHz: 1_000_000, steps: [])).mismatch(with: options)?.contains("fmax") == true)
    #expect(try decode(fileJSON(periodUs: 10_000, steps: [])).mismatch(with: options)?.contains("period") == true)
    // Files from before gaps were filled were calibrated with idle gaps: not the same throttle.
    #expect(try decode(fileJSON(fillGaps: nil, steps: [])).mismatch(with: options)?.contains("gaps") == true)
    var idle = options
    idle.fillGaps = false
    #expect(try decode(fileJSON(fillGaps: nil, steps: [])).mismatch(with: idle) == nil)
}

@Test func onlyYoungPlausibleDatedStepsAreUsable() throws {
    let now = Date()
    let file = try decode(fileJSON(steps: [
        (250_000, 0.126, iso(now.addingTimeInterval(-600))),       // ten minutes old: usable
        (500_000, 0.251, iso(now.addingTimeInterval(-3 * 86_400))), // three days old: stale
        (750_000, 0.374, nil),                                      // no date: not trusted
        (1_000_000, 7.5, iso(now)),                                 // implausible ratio
    ]))
    let usable = file.usableCalibrations(now: now)
    #expect(usable.map(\.requestedKHz) == [250_000])
    #expect(file.usableCalibrations(maxAgeSeconds: 4 * 86_400, now: now).map(\.requestedKHz) == [250_000, 500_000])
}

@Test func theCalibrationFileSitsBesideTheLookupTable() {
    #expect(EmulatedCalibrationFile.path(besideLookupTable: "Profiles/vm/fashion.lut.json") == "Profiles/vm/" + EmulatedCalibrationFile.fileName)
}

@Test(.requiresCgroupCPUController) func aControllerUsesAdoptedCalibrationsAndSavesThemWithTheirDates() throws {
    let scratch = ScratchDirectory("calibration")
    let directory = scratch.path
    let path = scratch.file(EmulatedCalibrationFile.fileName)
    let measuredAt = iso(Date().addingTimeInterval(-60))
    // A ratio no spin measurement would give exactly: seeing it back proves nothing was measured.
    try Data(fileJSON(steps: [(500_000, 0.2468, measuredAt)]).utf8).write(to: URL(fileURLWithPath: path))

    let controller = try EmulatedFrequencyController(options: .init(maxKHz: 2_000_000))
    defer { try? controller.restore() }
    let note = controller.reuseCalibrations(from: path)
    #expect(note.contains("reusing the calibration of 1 step"), "\(note)")
    #expect(controller.adoptedKHz == [500_000])
    let change = try controller.setFrequency(.kHz(500_000), forDomain: 0)
    #expect(change.speedRatio == 0.2468)
    #expect(change.source == .emulated)

    let saved = directory + "/saved.json"
    try controller.saveCalibrations(to: saved, deviceID: "test-device")
    let file = try JSONFile.read(EmulatedCalibrationFile.self, from: saved)
    #expect(file.calibrations.map(\.requestedKHz) == [500_000])
    #expect(file.calibrations.first?.measuredAt == measuredAt)
    #expect(file.provenance.controller == .emulated && file.provenance.deviceID == "test-device")

    // A stale or foreign file is refused with its reason, and nothing is adopted.
    let other = try EmulatedFrequencyController(options: .init(maxKHz: 1_000_000))
    defer { try? other.restore() }
    #expect(other.reuseCalibrations(from: path).contains("not reusing"))
    #expect(other.adoptedKHz.isEmpty)
    #expect(other.reuseCalibrations(from: directory + "/missing.json").contains("no saved calibration"))
}
