// GearboxProfiler/SharedCacheState: which phase of the host's shared cache a sweep's cells ran
// in, from the `SharedCacheProbe` reading taken after each cell. On a shared host the L3 can be
// held by other tenants (a 4 MiB chase then runs from DRAM, several times slower), and the
// default portfolio's 2–7 MB variants then run from DRAM too. The figure changes no measurement:
// it shows whether the host kept its cache during a cell, not by how much the cell slowed (see
// docs/profiler.md and, for the figures, docs/measurements.md).

import GearboxCore
import GearboxHardware

/// The probe readings of one sweep, against a reference (the fastest reading, by default).
public struct SharedCacheState: Codable, Equatable, Sendable {
    /// A reading more than this many times the reference counts as contended.
    public static let contendedFactor = 2.0

    public var probeBytes: Int
    public var cells: Int
    public var fastestNs: Nanoseconds
    public var medianNs: Nanoseconds
    public var slowestNs: Nanoseconds
    /// The reading the contended test is against (the fastest of the sweeps compared).
    public var referenceNs: Nanoseconds
    /// Cells whose reading was above `contendedFactor` × `referenceNs`.
    public var contendedCells: Int

    /// nil when no cell was probed (simulated sweeps).
    public init?(cells records: [CellRecord], probeBytes: Int = SharedCacheProbe.defaultBytes, referenceNs given: Nanoseconds? = nil) {
        let readings = records.compactMap(\.sharedCacheLoadNs).filter { $0.isFinite && $0 > .zero }.sorted()
        guard let fastest = readings.first, let slowest = readings.last else { return nil }
        let reference = given ?? fastest
        self.probeBytes = probeBytes
        cells = readings.count
        fastestNs = fastest
        medianNs = readings[readings.count / 2]
        slowestNs = slowest
        referenceNs = reference
        contendedCells = readings.filter { Self.isContended($0, referenceNs: reference) }.count
    }

    public static func isContended(_ readingNs: Nanoseconds, referenceNs: Nanoseconds) -> Bool {
        readingNs > contendedFactor * referenceNs
    }

    /// "4 MiB chase 98 ns per load at the median (fastest 21, slowest 140); 70 of 119 cells ran
    /// with it contended (> 2× 21 ns)".
    public var summary: String {
        func ns(_ span: Nanoseconds) -> String { span.value < 10 ? String(format: "%.1f", span.value) : String(Int(span.value.rounded())) }
        let size = probeBytes % (1 << 20) == 0 ? "\(probeBytes >> 20) MiB" : "\(probeBytes >> 10) KiB"
        return "\(size) chase \(ns(medianNs)) ns per load at the median (fastest \(ns(fastestNs)), slowest \(ns(slowestNs))); \(contendedCells) of \(cells) cells ran with it contended (> \(Int(Self.contendedFactor))× \(ns(referenceNs)) ns)"
    }
}
