// GearboxHardware/EmulatedCalibrationFile: the emulated controller's per-step calibrations kept
// on disk (`emulated-dvfs-calibration.json` beside a device's lookup tables), so that profile and
// validate on the same machine measure each throttle step once instead of once per command.
// A calibration is a property of the machine and the controller's settings: it is reused only
// for the same host, fmax, period, calibration work and weight boost, and only while it is
// younger than a maximum age; every reused step keeps the date it was measured.

import Foundation
import GearboxCore

/// Emulated-DVFS calibrations with where and when they were measured.
public struct EmulatedCalibrationFile: VersionedFile, Equatable, Sendable {
    public static let currentSchemaVersion = 1
    /// The file name Gearbox uses beside a device's lookup tables.
    public static let fileName = "emulated-dvfs-calibration.json"
    /// Calibrations older than this are measured again (a day: the machine's load and kernel may change).
    public static let defaultMaxAgeSeconds: Double = 24 * 3600

    public var schemaVersion: Int
    public var maxKHz: Int
    public var periodUs: Int
    public var calibrationWorkNs: Nanoseconds
    public var correctQuota: Bool
    public var boostWeight: Bool
    /// Whether the throttle gaps were filled (`EmulatedFrequencyController.Options.fillGaps`);
    /// nil in files written before gaps were filled (they were not).
    public var fillGaps: Bool?
    public var calibrations: [EmulatedFrequencyController.Calibration]
    public var provenance: Provenance

    /// The calibrations `controller` holds now, labelled emulated, for device `deviceID`.
    public init(controller: EmulatedFrequencyController, deviceID: String) {
        let options = controller.options
        schemaVersion = Self.currentSchemaVersion
        maxKHz = options.maxKHz; periodUs = options.periodUs; calibrationWorkNs = options.calibrationWorkNs
        correctQuota = options.correctQuota; boostWeight = options.boostWeight; fillGaps = options.fillGaps
        calibrations = controller.calibrationTable.filter { $0.measuredAt != nil }
        provenance = Provenance(
            deviceID: deviceID, controller: .emulated,
            notes: ["speed ratios measured with a spin workload, unthrottled vs throttled wall time (median of 3 trials per step)"])
    }

    /// The path of the calibration file beside `lutPath` (the same `Profiles/<device>/` folder).
    public static func path(besideLookupTable lutPath: String) -> String {
        // String surgery, not URL: a relative LUT path gives a relative calibration path.
        guard let slash = lutPath.lastIndex(of: "/") else { return fileName }
        return String(lutPath[...slash]) + fileName
    }

    /// Why this file's calibrations do not fit `options` on this host, or nil when they do.
    public func mismatch(with options: EmulatedFrequencyController.Options, hostname: String = ProcessInfo.processInfo.hostName) -> String? {
        if provenance.hostname != hostname { return "measured on host \(provenance.hostname), this is \(hostname)" }
        if maxKHz != options.maxKHz { return "fmax \(maxKHz) kHz there, \(options.maxKHz) kHz here" }
        if periodUs != options.periodUs { return "period \(periodUs) µs there, \(options.periodUs) µs here" }
        if calibrationWorkNs != options.calibrationWorkNs || correctQuota != options.correctQuota || boostWeight != options.boostWeight {
            return "calibration settings differ"
        }
        if (fillGaps ?? false) != options.fillGaps {
            return "throttle gaps \(fillGaps ?? false ? "filled" : "left idle") there, \(options.fillGaps ? "filled" : "left idle") here"
        }
        return nil
    }

    /// The steps measured within `maxAgeSeconds` of `now` with a plausible speed ratio.
    public func usableCalibrations(maxAgeSeconds: Double = defaultMaxAgeSeconds, now: Date = Date()) -> [EmulatedFrequencyController.Calibration] {
        let parser = ISO8601DateFormatter()
        return calibrations.filter { calibration in
            guard let text = calibration.measuredAt, let date = parser.date(from: text) else { return false }
            let age = now.timeIntervalSince(date)
            return age >= 0 && age <= maxAgeSeconds && calibration.measuredRatio.isFinite
                && calibration.measuredRatio > 0 && calibration.measuredRatio <= 1.5
        }
    }
}

extension EmulatedFrequencyController {
    /// Adopts the usable calibrations of the file at `path` (see ``EmulatedCalibrationFile``) and
    /// says what happened in one line for the user. A missing, unreadable, foreign or stale file
    /// is not an error: the steps are then measured again (and the file rewritten by
    /// ``saveCalibrations(to:deviceID:)``).
    public func reuseCalibrations(from path: String, maxAgeSeconds: Double = EmulatedCalibrationFile.defaultMaxAgeSeconds) -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            return "emulated DVFS: no saved calibration at \(path); each step is calibrated on first use and saved there"
        }
        let file: EmulatedCalibrationFile
        do { file = try JSONFile.read(EmulatedCalibrationFile.self, from: path) } catch {
            return "emulated DVFS: ignoring \(path) (\(error)); steps are calibrated again"
        }
        if let mismatch = file.mismatch(with: options) {
            return "emulated DVFS: not reusing \(path) (\(mismatch)); steps are calibrated again"
        }
        let usable = file.usableCalibrations(maxAgeSeconds: maxAgeSeconds)
        let taken = adopt(usable)
        guard !taken.isEmpty else {
            return "emulated DVFS: \(path) has no calibration younger than \(Int(maxAgeSeconds / 3600)) h; steps are calibrated again"
        }
        let dates = usable.compactMap(\.measuredAt).sorted()
        let when = dates.first == dates.last ? (dates.first ?? "?") : "\(dates.first ?? "?") to \(dates.last ?? "?")"
        return "emulated DVFS: reusing the calibration of \(taken.count) step(s) from \(path) (measured \(when) on this host; --recalibrate measures again)"
    }

    /// Writes every step this controller measured or adopted to `path` (atomically), keeping each
    /// step's measurement date.
    public func saveCalibrations(to path: String, deviceID: String) throws {
        let file = EmulatedCalibrationFile(controller: self, deviceID: deviceID)
        guard !file.calibrations.isEmpty else { return }
        try JSONFile.write(file, to: path)
    }
}

extension EmulatedCalibrationFile: ValidatedFile {
    /// fmax and every step's frequency positive, periods and work positive, ratios finite and
    /// positive, quotas -1 (unthrottled) or more.
    public func validate(_ file: FileValidator) throws {
        try file.at("maxKHz").checkKHz(maxKHz)
        try file.at("periodUs").check(periodUs, in: 1...10_000_000)
        try file.at("calibrationWorkNs").check(calibrationWorkNs, in: 1...FileLimits.maximumLatencyNs)
        for (index, calibration) in calibrations.enumerated() {
            let key = file.at("calibrations").at(index)
            try key.at("requestedKHz").checkKHz(calibration.requestedKHz)
            try key.at("requestedRatio").checkPositive(calibration.requestedRatio, atMost: 1000)
            try key.at("measuredRatio").checkPositive(calibration.measuredRatio, atMost: 1000)
            try key.at("periodUs").check(calibration.periodUs, in: 1...10_000_000)
            try key.at("quotaUs").check(calibration.quotaUs, in: -1...Int(Int32.max), "allowed: -1 (unthrottled) or a quota in µs")
            try key.at("corrections").checkCount(calibration.corrections)
            try key.at("workNs").check(calibration.workNs, in: 0...FileLimits.maximumLatencyNs)
        }
    }
}
