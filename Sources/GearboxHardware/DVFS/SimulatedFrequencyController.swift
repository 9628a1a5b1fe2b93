// GearboxHardware/SimulatedFrequencyController: DVFS on a virtual clock for policy studies.
// Frequencies change instantly (or after a configured transition latency of virtual time);
// the speed ratio is exactly f / fmax; nothing on the machine is touched. Labelled `simulated`.

import Foundation
import GearboxCore

/// A controller whose changes only exist on a `VirtualClock`.
public final class SimulatedFrequencyController: FrequencyController, @unchecked Sendable {
    /// One change, as the simulation log keeps it.
    public struct LoggedChange: Equatable, Sendable {
        public var at: VirtualInstant
        public var domainIndex: Int
        public var kHz: Int
    }

    public let source = MeasurementSource.simulated
    public let domains: [DeviceDescription.Domain]
    public let clock: VirtualClock
    /// Virtual time a change takes (cpuinfo_transition_latency on a real board).
    public let transitionLatency: Duration

    private let lock = NSLock()
    private let initialKHz: [Int]
    private var current: [Int]
    private var log: [LoggedChange] = []

    /// Simulates `domains`, each starting at its highest grid frequency.
    public init(domains: [DeviceDescription.Domain], clock: VirtualClock = VirtualClock(), transitionLatency: Duration = .zero) {
        self.domains = domains
        self.clock = clock
        self.transitionLatency = transitionLatency
        initialKHz = domains.map { $0.gridKHz.last ?? $0.maxKHz }
        current = initialKHz
    }

    /// Simulates the DVFS domains of a probed device.
    public convenience init(device: DeviceDescription, clock: VirtualClock = VirtualClock(), transitionLatency: Duration = .zero) {
        self.init(domains: device.dvfs.domains, clock: clock, transitionLatency: transitionLatency)
    }

    /// The frequency each domain is at now.
    public var currentKHz: [Int] { lock.withLock { current } }

    /// Every change made, in order, with its virtual time.
    public var changes: [LoggedChange] { lock.withLock { log } }

    public func enrollCurrentThread() throws {}

    /// Moves domain `domainIndex` to `frequency` (which must lie within the domain's grid range),
    /// advancing the clock by the transition latency.
    public func setFrequency(_ frequency: Frequency, forDomain domainIndex: Int) throws -> FrequencyChange {
        guard domains.indices.contains(domainIndex) else {
            throw HardwareError.dvfsRequest(reason: "no DVFS domain \(domainIndex) (the simulation has \(domains.count))")
        }
        let domain = domains[domainIndex]
        let low = domain.gridKHz.first ?? domain.minKHz
        let high = domain.gridKHz.last ?? domain.maxKHz
        guard (low...high).contains(frequency.kHz) else {
            throw HardwareError.dvfsRequest(reason: "\(frequency.kHz) kHz is outside simulated domain \(domainIndex)'s range \(low)–\(high) kHz")
        }
        lock.withLock {
            clock.advance(by: transitionLatency)
            current[domainIndex] = frequency.kHz
            log.append(LoggedChange(at: clock.now, domainIndex: domainIndex, kHz: frequency.kHz))
        }
        return FrequencyChange(
            requestedKHz: frequency.kHz, appliedKHz: frequency.kHz, speedRatio: Double(frequency.kHz) / Double(high),
            settleNs: Nanoseconds(transitionLatency), source: .simulated, settled: true)
    }

    /// Puts every domain back at its starting frequency (no virtual time passes).
    public func restore() throws {
        lock.withLock { current = initialKHz }
    }
}
