// GearboxCore/SplitMix64: the one seeded random number generator of Gearbox (synthetic tensors,
// sweep orders, simulated noise, simulated latencies, trace generators, and the seeding of the
// trainer's xoshiro256**), so a seed reproduces a run exactly on every platform.

import Foundation

/// SplitMix64 (Steele, Lea and Flood): small, fast, and good enough for shuffles, synthetic data
/// and simulated noise.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator seeded from `seed` and a string key (e.g. a cell's key), stable across
    /// processes (Swift's `Hasher` is reseeded per process; FNV-1a is not).
    public init(seed: UInt64, key: String) { state = seed ^ Self.fnv1a(key) }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Standard normal (Box–Muller).
    public mutating func nextGaussian() -> Double {
        let u1 = Swift.max(nextUnit(), 1e-300), u2 = nextUnit()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// 64-bit FNV-1a of the UTF-8 bytes.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}
