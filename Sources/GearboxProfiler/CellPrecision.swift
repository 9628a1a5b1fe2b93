// GearboxProfiler/CellPrecision: how precisely a lookup table knows its cells' p50s, from the
// 95% CI of the median each measured cell stores: overall and per weight format, and how many
// cells reached the sampler's CI target rather than a sample or time cap.

import GearboxCore
import GearboxPortfolio
import GearboxRuntime

/// The 95% CI half-width of measured cells' p50 relative to it, as a median over cells.
public struct CellPrecision: Codable, Sendable, Equatable {
    public struct Format: Codable, Sendable, Equatable {
        public var format: String
        public var cells: Int
        public var medianRelativeCI: Double
    }

    public var cells: Int
    /// Median over the cells of ciHalfWidth / p50.
    public var medianRelativeCI: Double
    /// Rows in the order of `PortfolioManifest.Format`.
    public var byFormat: [Format]
    /// Cells whose sampling ended because the CI reached its target; the others ran into the
    /// sample-count or time cap.
    public var cellsStoppedByCI: Int

    /// The measured (not predicted) cells of `lut` whose p50 is above `minimumP50Ns`.
    public init(_ lut: LookupTable, minimumP50Ns: Nanoseconds = .zero) {
        var measured: [(relativeCI: Double, format: String, byCI: Bool)] = []
        for variant in lut.variants {
            for cell in variant.latency.values where cell.source != .predicted && cell.p50Ns > minimumP50Ns {
                measured.append((cell.ciHalfWidthNs / cell.p50Ns, variant.format, cell.stopRule == StopRule.ci.rawValue))
            }
        }
        func median(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.sorted()[values.count / 2] }
        cells = measured.count
        medianRelativeCI = median(measured.map(\.relativeCI))
        byFormat = PortfolioManifest.Format.sortedNames(measured.map(\.format)).map { format in
            let here = measured.filter { $0.format == format }.map(\.relativeCI)
            return Format(format: format, cells: here.count, medianRelativeCI: median(here))
        }
        cellsStoppedByCI = measured.filter(\.byCI).count
    }

    /// "±2.8% (dense ±2.8%, csr ±5.1%); 0 of 104 cells reached the CI target, the rest a sample
    /// or time cap".
    public var summary: String {
        func pct(_ x: Double) -> String { String(format: "±%.1f%%", x * 100) }
        let formats = byFormat.map { "\($0.format) \(pct($0.medianRelativeCI))" }.joined(separator: ", ")
        return "\(pct(medianRelativeCI)) (\(formats)); \(cellsStoppedByCI) of \(cells) cells reached the CI target, the rest a sample or time cap"
    }
}
