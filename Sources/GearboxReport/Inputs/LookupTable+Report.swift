// GearboxReport/Inputs/LookupTable+Report: read-side conveniences over the LUT file type for
// charts and comparisons (frequencies in order, a cell by kHz).

import GearboxCore
import GearboxProfiler

extension LookupTable {
    /// Every frequency the table mentions (its grid and any cell), ascending.
    public var allFrequenciesKHz: [Int] {
        var set = Set(frequenciesKHz)
        for variant in variants { for key in variant.latency.keys { if let kHz = Int(key) { set.insert(kHz) } } }
        return set.sorted()
    }

    /// Device, date, commit and version in one line, for figure footnotes.
    public var provenanceLine: String {
        ProvenanceLine.text(provenance)
    }
}

extension LookupTable.Variant {
    /// The latency cell at `kHz`, if measured or predicted there.
    public func cell(atKHz kHz: Int) -> LookupTable.LatencyCell? { latency[String(kHz)] }

    /// Cells in ascending frequency order.
    public var cellsByFrequency: [(kHz: Int, cell: LookupTable.LatencyCell)] {
        latency.compactMap { key, cell in Int(key).map { (kHz: $0, cell: cell) } }.sorted { $0.kHz < $1.kHz }
    }
}

/// "device vm-2c · 2026-11-20 · commit 1a2b3c4": where a figure's data came from.
public enum ProvenanceLine {
    /// Device, date (UTC, to the minute), short commit and gearbox version, joined by " · ".
    public static func text(_ provenance: Provenance) -> String {
        let commit = provenance.gitCommit == "unknown" ? "commit unknown" : "commit " + String(provenance.gitCommit.prefix(10))
        return "device \(provenance.deviceID) · \(day(provenance.date)) · \(commit) · gearbox \(provenance.gearboxVersion)"
    }

    /// The date part of an ISO 8601 timestamp ("2026-11-20T10:00:00Z" → "2026-11-20 10:00 UTC").
    static func day(_ iso: String) -> String {
        guard iso.count >= 16, let t = iso.firstIndex(of: "T") else { return iso }
        let date = iso[..<t]
        let time = iso[iso.index(after: t)...].prefix(5)
        return "\(date) \(time) UTC"
    }
}
