// GearboxReport/Compare/LUTComparison: two lookup tables (two boards, or before/after a change)
// compared cell by cell: p50 ratio candidate/baseline, and whether the change is significant
// (the p50 ± CI half-width intervals don't overlap).

import Foundation
import GearboxCore
import GearboxProfiler

/// A cell-by-cell comparison of two lookup tables.
public struct LUTComparison: Codable, Sendable, Equatable {
    /// One table's identity.
    public struct Side: Codable, Sendable, Equatable {
        public var path: String
        public var device: String
        public var portfolio: String
        public var controller: MeasurementSource
        public var date: String
        public var commit: String
    }

    /// What happened to one cell.
    public enum Verdict: String, Codable, Sendable, Equatable {
        /// The candidate's interval lies wholly below the baseline's.
        case faster
        /// The candidate's interval lies wholly above the baseline's.
        case slower
        /// The intervals overlap: the difference is within measurement uncertainty.
        case noSignificantChange = "no significant change"
        /// One side is a model prediction, not a measurement: not judged.
        case predicted = "predicted, not compared"
    }

    /// One (variant, frequency) present in both tables.
    public struct Cell: Codable, Sendable, Equatable {
        public var variant: String
        public var kHz: Int
        public var baselineP50Ns: Nanoseconds
        public var candidateP50Ns: Nanoseconds
        /// candidate / baseline (< 1: the candidate is faster).
        public var ratio: Double
        public var baselineCIHalfWidthNs: Nanoseconds
        public var candidateCIHalfWidthNs: Nanoseconds
        public var verdict: Verdict
    }

    /// Counts over all common cells.
    public struct Summary: Codable, Sendable, Equatable {
        public var commonCells: Int
        public var faster: Int
        public var slower: Int
        public var noSignificantChange: Int
        public var predicted: Int
        /// Geometric mean of the ratios of measured cells; nil when there are none.
        public var geometricMeanRatio: Double?
    }

    public var baseline: Side
    public var candidate: Side
    public var cells: [Cell]
    public var variantsOnlyInBaseline: [String]
    public var variantsOnlyInCandidate: [String]
    public var frequenciesOnlyInBaselineKHz: [Int]
    public var frequenciesOnlyInCandidateKHz: [Int]
    public var warnings: [String]
    public var summary: Summary

    /// Whether two intervals `p50 ± halfWidth` overlap (touching counts as overlapping).
    public static func intervalsOverlap(
        _ a: Nanoseconds, _ aHalfWidth: Nanoseconds, _ b: Nanoseconds, _ bHalfWidth: Nanoseconds
    ) -> Bool {
        (a - b).magnitude <= aHalfWidth.magnitude + bHalfWidth.magnitude
    }

    /// Compares `candidate` against `baseline` for every (variant, frequency) both tables hold.
    /// - Throws: `ReportError.nothingToCompare` when they share no (variant, frequency).
    public init(baseline a: LookupTable, baselinePath: String, candidate b: LookupTable, candidatePath: String) throws {
        func side(_ table: LookupTable, _ path: String) -> Side {
            Side(path: path, device: table.device, portfolio: table.portfolio, controller: table.controller,
                 date: table.provenance.date, commit: table.provenance.gitCommit)
        }
        baseline = side(a, baselinePath)
        candidate = side(b, candidatePath)
        let namesA = a.variants.map(\.name), namesB = b.variants.map(\.name)
        variantsOnlyInBaseline = namesA.filter { !namesB.contains($0) }
        variantsOnlyInCandidate = namesB.filter { !namesA.contains($0) }
        let freqA = Set(a.allFrequenciesKHz), freqB = Set(b.allFrequenciesKHz)
        frequenciesOnlyInBaselineKHz = freqA.subtracting(freqB).sorted()
        frequenciesOnlyInCandidateKHz = freqB.subtracting(freqA).sorted()

        var cells: [Cell] = []
        for variantA in a.variants {
            guard let variantB = b.variants.first(where: { $0.name == variantA.name }) else { continue }
            for (kHz, cellA) in variantA.cellsByFrequency {
                guard let cellB = variantB.cell(atKHz: kHz), cellA.p50Ns > 0, cellB.p50Ns > 0 else { continue }
                let verdict: Verdict
                if cellA.source == .predicted || cellB.source == .predicted {
                    verdict = .predicted
                } else if Self.intervalsOverlap(cellA.p50Ns, cellA.ciHalfWidthNs, cellB.p50Ns, cellB.ciHalfWidthNs) {
                    verdict = .noSignificantChange
                } else {
                    verdict = cellB.p50Ns < cellA.p50Ns ? .faster : .slower
                }
                cells.append(Cell(variant: variantA.name, kHz: kHz, baselineP50Ns: cellA.p50Ns, candidateP50Ns: cellB.p50Ns,
                                  ratio: cellB.p50Ns / cellA.p50Ns, baselineCIHalfWidthNs: cellA.ciHalfWidthNs,
                                  candidateCIHalfWidthNs: cellB.ciHalfWidthNs, verdict: verdict))
            }
        }
        guard !cells.isEmpty else {
            let reason = Set(namesA).isDisjoint(with: namesB) ? "no variant name in common" : "no frequency in common for the shared variants"
            throw ReportError.nothingToCompare(baseline: baselinePath, candidate: candidatePath, reason: reason)
        }
        self.cells = cells
        let measured = cells.filter { $0.verdict != .predicted }
        let geometricMean = measured.isEmpty ? nil : exp(measured.map { log($0.ratio) }.reduce(0, +) / Double(measured.count))
        summary = Summary(
            commonCells: cells.count, faster: cells.filter { $0.verdict == .faster }.count,
            slower: cells.filter { $0.verdict == .slower }.count,
            noSignificantChange: cells.filter { $0.verdict == .noSignificantChange }.count,
            predicted: cells.filter { $0.verdict == .predicted }.count, geometricMeanRatio: geometricMean)

        var warnings: [String] = []
        if a.controller != b.controller {
            warnings.append("baseline was \(a.controller.rawValue), candidate \(b.controller.rawValue): ratios mix two ways of setting frequency")
        }
        if a.portfolio != b.portfolio { warnings.append("different portfolios (\(a.portfolio) vs \(b.portfolio)): only variants with the same name are compared") }
        if !variantsOnlyInBaseline.isEmpty { warnings.append("only in baseline: \(variantsOnlyInBaseline.joined(separator: ", "))") }
        if !variantsOnlyInCandidate.isEmpty { warnings.append("only in candidate: \(variantsOnlyInCandidate.joined(separator: ", "))") }
        if !frequenciesOnlyInBaselineKHz.isEmpty || !frequenciesOnlyInCandidateKHz.isEmpty {
            let text = (frequenciesOnlyInBaselineKHz.map { "\(Formatting.frequency(kHz: $0)) (baseline)" }
                + frequenciesOnlyInCandidateKHz.map { "\(Formatting.frequency(kHz: $0)) (candidate)" }).joined(separator: ", ")
            warnings.append("frequencies in one table only, not compared: \(text)")
        }
        self.warnings = warnings
    }

    /// Reads both tables (one-line errors for missing or corrupt files) and compares them.
    public static func load(baselinePath: String, candidatePath: String) throws -> LUTComparison {
        let a = try LookupTable.read(from: baselinePath)
        let b = try LookupTable.read(from: candidatePath)
        return try LUTComparison(baseline: a, baselinePath: baselinePath, candidate: b, candidatePath: candidatePath)
    }

    /// The one-line summary: "48 cells: 12 faster, 5 slower, 31 no significant change; geometric mean ratio 0.962×".
    public var summaryLine: String {
        var text = "\(summary.commonCells) common cells: \(summary.faster) faster, \(summary.slower) slower, \(summary.noSignificantChange) no significant change"
        if summary.predicted > 0 { text += ", \(summary.predicted) predicted (not compared)" }
        if let mean = summary.geometricMeanRatio {
            text += "; geometric mean p50 ratio B/A \(Formatting.fixed(mean, decimals: 3))× (\(mean < 1 ? "B faster" : mean > 1 ? "B slower" : "equal"))"
        }
        return text
    }

    /// A plain-text matrix (variants × frequencies) of ratios with markers, then warnings and the summary.
    public func text() -> String {
        func describe(_ side: Side, _ letter: String) -> String {
            "\(letter) = \(side.path) (\(side.device), \(side.portfolio), \(side.controller.rawValue), \(ProvenanceLine.day(side.date)))"
        }
        var lines = [describe(baseline, "A"), describe(candidate, "B"),
                     "p50 ratio B/A per cell (< 1: B faster). '=' no significant change (CIs overlap), '*' significant, '†' predicted in A or B (not compared)", ""]
        let frequencies = Set(cells.map(\.kHz)).sorted()
        var variants: [String] = []
        for cell in cells where !variants.contains(cell.variant) { variants.append(cell.variant) }
        let nameWidth = min(28, max(7, variants.map(\.count).max() ?? 7))
        let columnWidth = 11
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let clipped = text.count > width ? String(text.prefix(width - 1)) + "…" : text
            let padding = String(repeating: " ", count: max(0, width - clipped.count))
            return right ? padding + clipped : clipped + padding
        }
        lines.append(pad("variant", nameWidth) + frequencies.map { pad(Formatting.frequency(kHz: $0), columnWidth, right: true) }.joined())
        for variant in variants {
            var row = pad(variant, nameWidth)
            for kHz in frequencies {
                guard let cell = cells.first(where: { $0.variant == variant && $0.kHz == kHz }) else {
                    row += pad("–", columnWidth, right: true); continue
                }
                let mark: String
                switch cell.verdict {
                case .faster, .slower: mark = "*"
                case .noSignificantChange: mark = "="
                case .predicted: mark = "†"
                }
                row += pad(Formatting.fixed(cell.ratio, decimals: 3) + mark, columnWidth, right: true)
            }
            lines.append(row)
        }
        lines.append("")
        lines += warnings.map { "warning: " + $0 }
        lines.append("summary: " + summaryLine)
        return lines.joined(separator: "\n")
    }
}
