// GearboxProfiler/ProfileSession: turns what `gearbox profile` was asked (portfolio, device,
// controller, frequencies, threads, pinning, budget) into a ready sweep: the checked portfolio,
// the frequency controller, the backend, counters, thermal sensor and output paths, and runs it
// with DVFS restored on SIGINT/SIGTERM. The CLI only parses and prints.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxPortfolio
import GearboxRuntime

/// A `gearbox profile` invocation, parsed.
public struct ProfileRequest: Sendable {
    public var portfolioDirectory: String
    public var devicePath: String?
    /// real, emulated or simulated.
    public var controller: MeasurementSource
    /// "all" or a comma-separated list (kHz, or with a MHz/GHz suffix).
    public var frequencies: String
    public var threads: Int
    public var pin: PinningRequest
    public var outPath: String?
    public var resume: Bool
    /// CI-sized budget: `SamplingPolicy.quick`, two switch repetitions.
    public var quick: Bool
    /// One cell's sampling-time limit, replacing the budget's (3 s, `quick`: 1 s).
    public var maxCellSeconds: Double?
    public var seed: UInt64
    public var measureSwitchCosts: Bool
    public var measureMemory: Bool
    /// Where default outputs go: `<profilesDirectory>/<device id>/<portfolio>.lut.json`.
    public var profilesDirectory: String
    /// Emulated only: reuse the throttle calibration saved beside the LUT by an earlier run on
    /// this machine (``EmulatedCalibrationFile``) instead of measuring every step again.
    public var reuseCalibration: Bool
    /// Emulated only: fill the throttle gaps with a SCHED_IDLE spinner (`GapFiller`); false
    /// leaves them idle, as the first versions did, for comparison.
    public var fillGaps: Bool
    /// Queue behind another process holding the output's lock instead of refusing to start.
    public var waitForLocks: Bool
    /// The longest wait for the device to cool: before a cell that starts hot, and before a
    /// throttled cell's retry (the thermal guard's `maxPauseNs`).
    public var maxCoolDownSeconds: Double

    public init(portfolioDirectory: String, devicePath: String? = nil, controller: MeasurementSource = .emulated,
                frequencies: String = "all", threads: Int = 1, pin: PinningRequest = .pu, outPath: String? = nil,
                resume: Bool = false, quick: Bool = false, maxCellSeconds: Double? = nil, seed: UInt64 = 1,
                measureSwitchCosts: Bool = true, measureMemory: Bool = true, profilesDirectory: String = "Profiles",
                reuseCalibration: Bool = true, fillGaps: Bool = true, waitForLocks: Bool = false,
                maxCoolDownSeconds: Double = 120) {
        self.portfolioDirectory = portfolioDirectory; self.devicePath = devicePath; self.controller = controller
        self.frequencies = frequencies; self.threads = threads; self.pin = pin; self.outPath = outPath
        self.resume = resume; self.quick = quick; self.maxCellSeconds = maxCellSeconds; self.seed = seed
        self.measureSwitchCosts = measureSwitchCosts; self.measureMemory = measureMemory
        self.profilesDirectory = profilesDirectory
        self.reuseCalibration = reuseCalibration
        self.fillGaps = fillGaps
        self.waitForLocks = waitForLocks
        self.maxCoolDownSeconds = maxCoolDownSeconds
    }
}

/// A prepared sweep and what it runs with.
public final class ProfileSession {
    public let request: ProfileRequest
    public let portfolio: Portfolio
    public let deviceID: String
    public let controller: FrequencyController
    public let sweep: ProfileSweep
    /// How the setup went (what was derived, what was stood in for), for the user.
    public let notes: [String]

    init(request: ProfileRequest, portfolio: Portfolio, deviceID: String, controller: FrequencyController,
         sweep: ProfileSweep, notes: [String]) {
        self.request = request; self.portfolio = portfolio; self.deviceID = deviceID; self.controller = controller
        self.sweep = sweep; self.notes = notes
    }

    /// Checks the inputs and builds the sweep. Input problems throw `ProfilerError` (exit 2),
    /// `PortfolioError` or `FileFormatError`; a controller that cannot start throws `HardwareError`.
    /// Every variant is loaded into the engine and run once first, whatever the controller, so a
    /// broken file fails here. A caller measuring under real or emulated DVFS holds the
    /// machine-wide `MeasuringLock` around this and `run` (the CLI does).
    public static func prepare(_ request: ProfileRequest) throws -> ProfileSession {
        guard (1...FileLimits.maximumThreads).contains(request.threads) else {
            throw ProfilerError.invalidSetting(name: "--threads", value: String(request.threads), expected: "1...\(FileLimits.maximumThreads)")
        }
        if let seconds = request.maxCellSeconds, !(seconds > 0 && seconds <= 86_400) {
            throw ProfilerError.invalidSetting(name: "--max-cell-seconds", value: String(seconds), expected: "a positive number of seconds, at most 86400 (a day)")
        }
        guard request.maxCoolDownSeconds >= 0 && request.maxCoolDownSeconds <= 86_400 else {
            throw ProfilerError.invalidSetting(name: "--max-cool-down-seconds", value: String(request.maxCoolDownSeconds), expected: "0...86400 seconds")
        }
        var notes: [String] = []
        let portfolio = try Portfolio.open(directory: request.portfolioDirectory)
        try portfolio.checkEveryVariantRuns(threads: request.threads)
        let device = try request.devicePath.map { try JSONFile.read(DeviceDescription.self, from: $0) }
        let deviceID = try device?.id ?? derivedDeviceID(&notes)

        // The controller, and with it the clock and the backend.
        let controller: FrequencyController
        let clock: LatencyClock
        var simulation: SimulationState?
        let makeBackend: () -> VariantBackend
        switch request.controller {
        case .real:
            controller = try RealFrequencyController()
            clock = MonotonicRawClock()
            let threads = request.threads
            makeBackend = { EngineBackend(threads: threads) }
        case .emulated:
            let removed = EmulatedFrequencyController.removeStaleCgroups()
            if !removed.isEmpty { notes.append("removed \(removed.count) stale emulation cgroup(s) of crashed runs") }
            var options = EmulatedFrequencyController.Options(fillGaps: request.fillGaps)
            if let domain = device?.dvfs.domains.first, device?.dvfs.controller == .emulated {
                options.maxKHz = domain.maxKHz
                options.gridKHz = domain.gridKHz
            }
            controller = try EmulatedFrequencyController(options: options)
            clock = MonotonicRawClock()
            let threads = request.threads
            makeBackend = { EngineBackend(threads: threads) }
            notes.append("emulated DVFS: the measuring thread runs in a CPU-bandwidth-throttled cgroup; frequencies are emulated, not real")
            notes.append(options.methodNote)
        case .simulated:
            let state = SimulationState(seed: request.seed)
            let domains = device.map { $0.dvfs.domains.isEmpty ? [] : $0.dvfs.domains } ?? []
            let simulatedDomains = domains.isEmpty
                ? [DVFSInventory.emulatedDomain(cpus: [0], maxKHz: DVFSInventory.defaultEmulatedMaxKHz, steps: 8)] : domains
            controller = SimulatedFrequencyController(domains: simulatedDomains, clock: state.clock.clock)
            clock = state.clock
            simulation = state
            let threads = request.threads
            makeBackend = { SimulatedBackend(state: state, threads: threads) }
            notes.append("simulated: latencies come from a deterministic model on a virtual clock (every variant was loaded and run once to check its file)")
        case .predicted:
            throw ProfilerError.invalidSetting(name: "--controller", value: "predicted", expected: "real, emulated or simulated")
        }

        let domainIndex = chooseDomain(controller.domains, pin: request.pin)
        guard controller.domains.indices.contains(domainIndex) else {
            throw ProfilerError.frequency(reason: "the \(request.controller) controller offers no DVFS domain")
        }
        let domain = controller.domains[domainIndex]
        let grid = domain.gridKHz.isEmpty ? domain.availableKHz : domain.gridKHz
        let frequencies = try parseFrequencies(request.frequencies, grid: grid, minKHz: domain.minKHz, maxKHz: domain.maxKHz)

        var sampling = request.quick ? SamplingPolicy.quick : SamplingPolicy.standard
        if let seconds = request.maxCellSeconds { sampling = sampling.cappingCellTime(atNs: Nanoseconds(UInt64(seconds * 1e9))) }
        let digest = (try? FileDigest.sha256Hex(ofFileAt: portfolio.manifestPath)) ?? "unknown"
        let configuration = SweepConfiguration(
            deviceID: deviceID, portfolioName: portfolio.name, portfolioDigest: digest, controller: controller.source,
            domainIndex: domainIndex, frequenciesKHz: frequencies, gridKHz: Array(Set(grid + frequencies)).sorted(),
            threads: request.threads, pin: request.pin, seed: request.seed, sampling: sampling,
            settleNs: request.controller == .real ? 50_000_000 : request.controller == .emulated ? 20_000_000 : 1_000_000,
            measureMemory: request.measureMemory, measureSwitchCosts: request.measureSwitchCosts,
            switchRepetitions: request.quick ? 2 : 3,
            thermal: ThermalGuard(maxPauseNs: Nanoseconds(UInt64(request.maxCoolDownSeconds * 1e9))),
            // Measured sweeps visit each cell twice, so that its CI holds the host's slow phases
            // (see `CellVisits`); a simulated machine has none, and its cells are visited once.
            visits: request.controller == .simulated ? 1 : 2)
        let simulated = request.controller == .simulated
        let environment = SweepEnvironment(
            controller: controller, makeBackend: makeBackend, clock: clock, simulation: simulation,
            makeCounters: simulated ? { UnavailableCounters(reason: "simulated: nothing ran, nothing to count") } : { PerfCellCounters() },
            thermal: simulated ? FixedThermalSensor() : ZoneThermalSensor(),
            binder: simulated ? UnpinnedThreadBinder() : HwlocThreadBinder(), device: device,
            cacheProbe: simulated ? nil : SharedCacheProbe(),
            energy: simulated ? nil : EnergySource.find())
        let out = request.outPath ?? defaultOutput(request, deviceID: deviceID, portfolio: portfolio.name)
        if controller.keepsCalibrations {
            let path = EmulatedCalibrationFile.path(besideLookupTable: out)
            notes.append(request.reuseCalibration
                ? controller.reuseCalibrations(from: path, maxAgeSeconds: EmulatedCalibrationFile.defaultMaxAgeSeconds)
                : "emulated DVFS: every step calibrated again (--recalibrate); saved to \(path)")
        }
        let sweep = ProfileSweep(portfolio: portfolio, configuration: configuration, environment: environment,
                                 paths: SweepPaths(lut: out))
        return ProfileSession(request: request, portfolio: portfolio, deviceID: deviceID, controller: controller,
                              sweep: sweep, notes: notes)
    }

    /// Runs the sweep under the output's lock (`<lut>.lock`: one process per table and
    /// checkpoint); SIGINT/SIGTERM restore the controller before the process exits (the
    /// checkpoint then lets `--resume` continue). A run that fails before its first checkpoint
    /// leaves no folder it created behind. With `waitForLocks`, `waiting` hears once whom the run
    /// queues behind.
    public func run(stopAfterCells: Int? = nil, waiting: (String) -> Void = { _ in },
                    progress: @escaping (SweepEvent) -> Void = { _ in }) throws -> SweepResult {
        let lut = sweep.paths.lut
        let created: [String]
        do { created = try CreatedDirectories.create((lut as NSString).deletingLastPathComponent) } catch {
            throw ProfilerError.sampleStore(path: sweep.paths.samples, reason: "cannot create its folder: \(error.localizedDescription)")
        }
        var outputLock: FileLock?
        defer {
            outputLock?.release()
            CreatedDirectories.removeEmpty(created)
        }
        outputLock = try FileLock.acquire(lut + ".lock", purpose: "the output \(lut)", wait: request.waitForLocks) { holder in
            waiting("waiting for \(holder.map(\.description) ?? "another process") to finish writing \(lut)")
        }
        let guardSignals = RestoreOnSignal(restoring: [controller], afterRestore: resumeHint)
        defer { guardSignals.cancel() }
        defer { try? controller.restore() }
        let result = try sweep.run(options: SweepOptions(resume: request.resume, stopAfterCells: stopAfterCells, progress: progress))
        if controller.keepsCalibrations {
            // Not fatal: the table is written; the next run just calibrates again.
            do { try controller.saveCalibrations(to: EmulatedCalibrationFile.path(besideLookupTable: sweep.paths.lut), deviceID: deviceID) } catch {
                progress(.note("could not save the emulated DVFS calibration: \(error)"))
            }
        }
        return result
    }

    /// What an interrupted sweep prints after the DVFS state is back: where the checkpoint is and
    /// the command that continues it (`gearbox demo` resumes on its own).
    public var resumeHint: String {
        "gearbox: the checkpoint \(sweep.paths.checkpoint) is kept (cells finished so far are not measured again); continue with:\n"
            + "  " + Self.resumeCommand(request, lut: sweep.paths.lut) + "\n"
            + "(`gearbox demo` continues it too when run again with the same settings)"
    }

    /// The `gearbox profile` command line that resumes `request`'s sweep into `lut`.
    static func resumeCommand(_ request: ProfileRequest, lut: String) -> String {
        var words = ["gearbox", "profile", "--portfolio", request.portfolioDirectory]
        if let device = request.devicePath { words += ["--device", device] }
        words += ["--controller", request.controller.rawValue, "--frequencies", request.frequencies, "--out", lut]
        if request.threads != 1 { words += ["--threads", String(request.threads)] }
        if request.pin != .pu { words += ["--pin", request.pin.description] }
        if request.quick { words.append("--quick") }
        if let seconds = request.maxCellSeconds { words += ["--max-cell-seconds", String(seconds)] }
        if request.seed != 1 { words += ["--seed", String(request.seed)] }
        if !request.measureSwitchCosts { words.append("--skip-switch-costs") }
        if !request.measureMemory { words.append("--skip-memory") }
        if !request.fillGaps { words.append("--idle-gaps") }
        if request.waitForLocks { words.append("--wait") }
        if request.maxCoolDownSeconds != 120 { words += ["--max-cool-down-seconds", String(request.maxCoolDownSeconds)] }
        words.append("--resume")
        return words.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }

    /// `Profiles/<device>/<portfolio>.lut.json`; simulated sweeps get `.simulated.lut.json` so
    /// they never overwrite a measured table.
    static func defaultOutput(_ request: ProfileRequest, deviceID: String, portfolio: String) -> String {
        let suffix = request.controller == .simulated ? ".simulated.lut.json" : ".lut.json"
        return "\(request.profilesDirectory)/\(deviceID)/\(portfolio)\(suffix)"
    }

    /// The id `gearbox device probe` would give this machine.
    static func derivedDeviceID(_ notes: inout [String]) throws -> String {
        let topology = try Topology.load()
        let id = DeviceID.derive(cpuModel: CPUInfo.model(), topology: topology.summary())
        notes.append("no --device given: device id '\(id)' derived from this machine")
        return id
    }

    /// The domain holding the CPU the measuring thread will run on (the last allowed PU, or the
    /// first PU of the requested CPU kind); 0 when the controller's domains do not say.
    static func chooseDomain(_ domains: [DeviceDescription.Domain], pin: PinningRequest) -> Int {
        guard domains.count > 1, let topology = try? Topology.load() else { return 0 }
        let cpu: Int?
        if case let .kind(index) = pin, topology.kinds.indices.contains(index) {
            cpu = topology.kinds[index].cpus.first
        } else {
            cpu = topology.pus.last
        }
        guard let cpu else { return 0 }
        return domains.firstIndex { $0.cpus.contains(cpu) } ?? 0
    }

    /// "all" → the grid; otherwise a list of kHz values (or with MHz/GHz suffixes) within range.
    public static func parseFrequencies(_ text: String, grid: [Int], minKHz: Int, maxKHz: Int) throws -> [Int] {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "all" {
            guard !grid.isEmpty else {
                throw ProfilerError.invalidSetting(name: "--frequencies", value: text, expected: "a list: this domain has no frequency grid")
            }
            return grid.sorted()
        }
        var result: [Int] = []
        for item in trimmed.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let value: Double?
            if item.hasSuffix("ghz") { value = Double(item.dropLast(3)).map { $0 * 1_000_000 } }
            else if item.hasSuffix("mhz") { value = Double(item.dropLast(3)).map { $0 * 1000 } }
            else if item.hasSuffix("khz") { value = Double(item.dropLast(3)) }
            else { value = Double(item) }
            guard let value, value.isFinite, value > 0, let kHz = Int(exactly: value.rounded()) else {
                throw ProfilerError.invalidSetting(name: "--frequencies", value: text, expected: "all, or kHz values like 400000,800000 (or 400MHz,1.2GHz)")
            }
            guard kHz >= minKHz && kHz <= maxKHz else {
                throw ProfilerError.invalidSetting(name: "--frequencies", value: item, expected: "a frequency within \(minKHz)–\(maxKHz) kHz")
            }
            result.append(kHz)
        }
        guard !result.isEmpty else {
            throw ProfilerError.invalidSetting(name: "--frequencies", value: text, expected: "all, or at least one frequency")
        }
        return Array(Set(result)).sorted()
    }
}
