// GearboxHardware/BoardSimulation: a board model played as a deterministic twin. It keeps the
// live state a board's kernel and firmware would — per cpufreq policy the governor, the limits
// written, the frequency requested and the one applied (after the transition latency), the die
// temperature, which trips are active, and the energy counters — and advances only when told to
// (`advance(byNs:)`): there is no clock inside, so tests step it exactly.

import Foundation
import GearboxCore

/// The live state of a board model, advanced by explicit time steps.
public struct BoardSimulation: Sendable {
    /// One cpufreq policy: a shared-policy domain has one, a per-CPU-policy domain one per CPU.
    public struct Policy: Equatable, Sendable {
        public let domain: Int
        /// The CPU whose `cpufreq` folder holds the policy's files.
        public let cpu: Int
        /// The CPUs it covers (`related_cpus`).
        public let cpus: [Int]
        public var governor: String
        /// The limits as written (`scaling_min_freq`/`scaling_max_freq` requests).
        public var requestedMinKHz: Int
        public var requestedMaxKHz: Int
        /// The last value written to `scaling_setspeed` (userspace governor), if any.
        public var setspeedKHz: Int?
        /// The frequency running now (`scaling_cur_freq`).
        public var appliedKHz: Int
        /// A frequency chosen but not yet applied, and when it applies.
        public var pendingKHz: Int?
        /// An instant on the simulation's clock (compared with `nowNs`), not a span, so not `Nanoseconds`.
        public var pendingDueNs: Int64
    }

    /// What a write to a policy file did.
    public enum WriteOutcome: Equatable, Sendable {
        case accepted
        /// The kernel would have refused it (EINVAL); the file shows the effective value again.
        case refused(String)
    }

    public let model: BoardModel
    /// The simulation's clock: an instant in whole nanoseconds since it started, not a span, so not `Nanoseconds`.
    public private(set) var nowNs: Int64 = 0
    public private(set) var policies: [Policy]
    public private(set) var celsius: Double
    /// Per trip, whether it is active (crossed, not yet released by hysteresis).
    public private(set) var tripActive: [Bool]
    /// Per domain, the utilisation the power model uses (0...1).
    public var utilisation: [Double]
    public var ambientCelsius: Double
    /// Energy since the start, per powercap zone, in J (the counter wraps; this does not).
    public private(set) var powercapJoules: [Double]
    /// Per hwmon sensor and channel, the power the chip reports (averaged over its last
    /// update interval), in W.
    public private(set) var hwmonWatts: [[Double]]
    /// Seeded noise on the hwmon chips' readings (`gearbox board run --seed N`); nil: none, and
    /// the board is deterministic.
    public var sensorNoise: SensorNoise?
    private var hwmonJoules: [[Double]]
    private var hwmonLastUpdateNs: [Int64]
    private var hwmonJoulesAtUpdate: [[Double]]

    /// Starts the board at the model's ambient (or `ambientCelsius`), every policy with its
    /// initial governor at full range.
    public init(model: BoardModel, ambientCelsius: Double? = nil) {
        self.model = model
        let ambient = ambientCelsius ?? model.thermal.ambientCelsius
        self.ambientCelsius = ambient
        celsius = ambient
        tripActive = Array(repeating: false, count: model.thermal.trips.count)
        utilisation = model.domains.map(\.utilisation)
        var policies: [Policy] = []
        for (index, domain) in model.domains.enumerated() {
            let groups = domain.sharedPolicy ? [domain.cpus] : domain.cpus.map { [$0] }
            for cpus in groups {
                policies.append(Policy(domain: index, cpu: cpus[0], cpus: cpus, governor: domain.initialGovernor,
                                       requestedMinKHz: domain.minKHz, requestedMaxKHz: domain.maxKHz, setspeedKHz: nil,
                                       appliedKHz: domain.maxKHz, pendingKHz: nil, pendingDueNs: 0))
            }
        }
        self.policies = policies
        powercapJoules = Array(repeating: 0, count: model.sensors.powercap.count)
        hwmonWatts = model.sensors.hwmon.map { Array(repeating: 0, count: $0.channels.count) }
        hwmonJoules = hwmonWatts
        hwmonJoulesAtUpdate = hwmonWatts
        hwmonLastUpdateNs = Array(repeating: 0, count: model.sensors.hwmon.count)
        for index in self.policies.indices {
            let target = targetKHz(of: self.policies[index])
            self.policies[index].appliedKHz = target
        }
    }

    // MARK: Limits as the driver shows them

    /// The highest frequency the active trips allow domain `domain`, or nil without a cap.
    public func thermalCapKHz(domain: Int) -> Int? {
        var cap: Int?
        for (trip, active) in zip(model.thermal.trips, tripActive) where active {
            for limit in trip.caps where limit.domain == domain { cap = min(cap ?? .max, limit.maxKHz) }
        }
        return cap
    }

    /// `scaling_max_freq` as the kernel shows it: the request, lowered by an active thermal cap.
    public func effectiveMaxKHz(_ policy: Policy) -> Int {
        let domain = model.domains[policy.domain]
        var high = min(policy.requestedMaxKHz, domain.maxKHz)
        if let cap = thermalCapKHz(domain: policy.domain) { high = min(high, max(cap, domain.minKHz)) }
        return high
    }

    /// `scaling_min_freq` as the kernel shows it: the request, never above the effective maximum.
    public func effectiveMinKHz(_ policy: Policy) -> Int {
        min(max(policy.requestedMinKHz, model.domains[policy.domain].minKHz), effectiveMaxKHz(policy))
    }

    /// The frequency the policy's governor and driver choose now (before the transition latency).
    public func targetKHz(of policy: Policy) -> Int {
        let low = effectiveMinKHz(policy)
        let high = effectiveMaxKHz(policy)
        let wanted: Int
        switch policy.governor {
        case "performance": wanted = high
        case "powersave": wanted = low
        case "userspace": wanted = policy.setspeedKHz ?? policy.appliedKHz
        default:
            // Load-following governors (ondemand, conservative, schedutil, intel_pstate's
            // powersave with HWP is above): the model's utilisation picks the frequency.
            let load = utilisation[policy.domain]
            wanted = load >= 0.8 ? high : low + Int(Double(high - low) * load / 0.8)
        }
        return resolve(min(max(wanted, low), high), domain: policy.domain, low: low, high: high)
    }

    /// A frequency the driver can run: for a frequency list the lowest entry at or above
    /// `kHz` within the limits (CPUFREQ_RELATION_L), for a pinned driver `kHz` rounded to its
    /// resolution.
    private func resolve(_ kHz: Int, domain index: Int, low: Int, high: Int) -> Int {
        let domain = model.domains[index]
        switch domain.semantics {
        case .userspace:
            let table = domain.operatingPoints.map(\.kHz).filter { $0 >= low && $0 <= high }
            return table.first(where: { $0 >= kHz }) ?? table.last ?? low
        case .pinned:
            guard let step = domain.resolutionKHz, step > 0 else { return kHz }
            let rounded = (kHz + step / 2) / step * step
            return min(max(rounded, low), high)
        }
    }

    // MARK: Writes

    /// Applies a write of `value` to `file` (`scaling_setspeed`, `scaling_min_freq`,
    /// `scaling_max_freq`, `scaling_governor`) of policy `index`, as the driver would.
    @discardableResult
    public mutating func write(policy index: Int, file: String, value rawValue: String) -> WriteOutcome {
        let value = rawValue.trimmingCharacters(in: .whitespacesAndNewlines)
        let domain = model.domains[policies[index].domain]
        switch file {
        case "scaling_governor":
            guard domain.governors.contains(value) else { return .refused("governor \(value) not offered") }
            policies[index].governor = value
        case "scaling_setspeed":
            guard policies[index].governor == "userspace" else { return .refused("scaling_setspeed needs the userspace governor") }
            guard let kHz = Int(value), kHz > 0 else { return .refused("not a frequency: \(value)") }
            policies[index].setspeedKHz = kHz
        case "scaling_min_freq", "scaling_max_freq":
            guard let kHz = Int(value), kHz > 0 else { return .refused("not a frequency: \(value)") }
            var clamped = min(max(kHz, domain.minKHz), domain.maxKHz)
            // A pinned driver keeps limits in its own steps (intel_pstate: 100 MHz ratios).
            if domain.semantics == .pinned, let step = domain.resolutionKHz, step > 0 {
                clamped = min(max((clamped + step / 2) / step * step, domain.minKHz), domain.maxKHz)
            }
            if file == "scaling_min_freq" { policies[index].requestedMinKHz = clamped } else { policies[index].requestedMaxKHz = clamped }
        default:
            return .refused("\(file) is read-only")
        }
        schedule(policy: index)
        return .accepted
    }

    /// Starts the transition to the policy's new target, if it changed.
    private mutating func schedule(policy index: Int) {
        let target = targetKHz(of: policies[index])
        let current = policies[index].pendingKHz ?? policies[index].appliedKHz
        guard target != current else { return }
        if target == policies[index].appliedKHz {
            policies[index].pendingKHz = nil
            return
        }
        policies[index].pendingKHz = target
        policies[index].pendingDueNs = nowNs + model.domains[policies[index].domain].transitionLatencyNs.wholeNanoseconds
    }

    // MARK: Time

    /// The board's power now, in W: static plus per domain C·V(f)²·f·utilisation (a per-CPU-policy
    /// domain's capacitance split evenly over its policies).
    public func watts(scope: BoardModel.PowerScope? = nil) -> Double {
        let domains = scope.map { Set($0.domains) } ?? Set(model.domains.indices)
        var total = (scope?.includesStatic ?? true) ? model.power.staticWatts : 0
        for (index, _) in model.domains.enumerated() where domains.contains(index) {
            let members = policies.filter { $0.domain == index }
            for policy in members {
                total += model.dynamicWatts(domain: index, kHz: policy.appliedKHz, utilisation: utilisation[index]) / Double(members.count)
            }
        }
        return total
    }

    /// Advances the board by `ns`: power integrates into energy at the frequencies running
    /// during the step, the die temperature follows the RC model exactly for that constant power,
    /// pending frequencies whose latency has passed apply (splitting the step there), trips
    /// engage or release, and governors re-target.
    public mutating func advance(byNs ns: Int64) {
        var remaining = max(0, ns)
        while remaining > 0 {
            // Stop at the next transition so energy before and after it uses the right frequency.
            let nextDue = policies.compactMap { $0.pendingKHz == nil ? nil : $0.pendingDueNs }.filter { $0 > nowNs }.min()
            let step = min(remaining, nextDue.map { $0 - nowNs } ?? remaining)
            integrate(ns: step)
            remaining -= step
            applyDueTransitions()
        }
        if ns == 0 { applyDueTransitions() }
    }

    private mutating func integrate(ns: Int64) {
        let seconds = Double(ns) / 1e9
        let power = watts()
        for (index, zone) in model.sensors.powercap.enumerated() { powercapJoules[index] += watts(scope: zone.scope) * seconds }
        for (s, sensor) in model.sensors.hwmon.enumerated() {
            for (c, channel) in sensor.channels.enumerated() { hwmonJoules[s][c] += watts(scope: channel.scope) * seconds }
        }
        let steady = ambientCelsius + power * model.thermal.thermalResistanceKPerW
        let tau = model.thermal.thermalResistanceKPerW * model.thermal.heatCapacityJPerK
        celsius = steady + (celsius - steady) * exp(-seconds / tau)
        nowNs += ns
        for (s, sensor) in model.sensors.hwmon.enumerated() {
            let interval = Int64(sensor.updateIntervalMicroseconds) * 1000
            let elapsed = nowNs - hwmonLastUpdateNs[s]
            guard elapsed >= interval else { continue }
            for c in sensor.channels.indices {
                let average = (hwmonJoules[s][c] - hwmonJoulesAtUpdate[s][c]) / (Double(elapsed) / 1e9)
                hwmonWatts[s][c] = sensorNoise?.perturb(average) ?? average
            }
            hwmonJoulesAtUpdate[s] = hwmonJoules[s]
            hwmonLastUpdateNs[s] = nowNs
        }
        updateTrips()
    }

    private mutating func updateTrips() {
        var changed = false
        for (index, trip) in model.thermal.trips.enumerated() {
            if !tripActive[index], celsius >= trip.celsius {
                tripActive[index] = true; changed = true
            } else if tripActive[index], celsius < trip.celsius - trip.hysteresisCelsius {
                tripActive[index] = false; changed = true
            }
        }
        // Caps and load-following governors re-target as the state changes.
        if changed || policies.contains(where: { $0.governor != "userspace" }) {
            for index in policies.indices { schedule(policy: index) }
        }
    }

    private mutating func applyDueTransitions() {
        for index in policies.indices {
            guard let pending = policies[index].pendingKHz, policies[index].pendingDueNs <= nowNs else { continue }
            policies[index].appliedKHz = pending
            policies[index].pendingKHz = nil
        }
    }

    /// Domain `domain`'s running frequency (the mean over its policies) relative to the board's
    /// top frequency: how fast the board's CPUs of that domain compute, 0...1.
    public func speedRatio(domain: Int) -> Double {
        let top = model.domains.map(\.maxKHz).max() ?? 1
        let members = policies.filter { $0.domain == domain }
        guard !members.isEmpty, top > 0 else { return 1 }
        return Double(members.map(\.appliedKHz).reduce(0, +)) / Double(members.count) / Double(top)
    }

    // MARK: Sensors as sysfs shows them

    /// `energy_uj` of powercap zone `index`: the energy in µJ, wrapped at `max_energy_range_uj`.
    public func energyMicrojoules(zone index: Int) -> UInt64 {
        let range = UInt64(model.sensors.powercap[index].maxEnergyRangeMicrojoules)
        let total = UInt64(max(0, powercapJoules[index] * 1e6).rounded(.down))
        return total % (range + 1)
    }

    /// Replaces the energy a zone has counted (to start a test near the wrap-around).
    public mutating func setEnergy(zone index: Int, joules: Double) { powercapJoules[index] = joules }

    /// `temp` of the thermal zone, in millidegrees Celsius.
    public var milliCelsius: Int { Int((celsius * 1000).rounded()) }
}

/// The measurement noise of a board's hwmon chips: each reading is the true average over the
/// chip's update interval times (1 + σ·N(0,1)), drawn from a seeded generator, so a run with the
/// same seed reads the same noise at the same simulated times. σ is an assumption: 0.5%, twice
/// the INA3221's ±0.25% gain error (TI SBOS576), since shunt-offset error adds to it at low currents.
public struct SensorNoise: Sendable {
    public var relativeSigma: Double
    private var random: SplitMix64

    public static let defaultRelativeSigma = 0.005

    public init(seed: UInt64, relativeSigma: Double = SensorNoise.defaultRelativeSigma) {
        self.relativeSigma = relativeSigma
        random = SplitMix64(seed: seed, key: "board-sensor-noise")
    }

    /// `value` with one draw of noise (never negative).
    public mutating func perturb(_ value: Double) -> Double {
        max(0, value * (1 + relativeSigma * random.nextGaussian()))
    }
}

/// Differences of a wrapping energy counter (powercap `energy_uj`).
public enum EnergyCounter {
    /// The energy counted from `earlier` to `later` in µJ, allowing one wrap at `maxRange`
    /// (`max_energy_range_uj`: the counter runs 0...maxRange).
    public static func deltaMicrojoules(from earlier: UInt64, to later: UInt64, maxRange: UInt64) -> UInt64 {
        later >= earlier ? later - earlier : (maxRange - earlier) + later + 1
    }
}
