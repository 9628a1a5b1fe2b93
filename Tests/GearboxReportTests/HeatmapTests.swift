// Tests for Heatmap: one cell (with its tooltip) per row × column, missing and ragged cells
// drawn as missing, the log colour key only past a 20× spread, long labels truncated with the
// full label kept, and the unit chosen for the cells' numbers.

import Foundation
import Testing
@testable import GearboxReport

private func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

private func heatmap(rows: [String], columns: [String], values: [[Double?]], format: ValueFormat = .durationNs) -> Heatmap {
    Heatmap(id: "h", title: "Switch cost", rowLabels: rows, columnLabels: columns, values: values, format: format,
            rowAxisTitle: "from", columnAxisTitle: "to")
}

@Suite struct HeatmapTests {
    @Test func aNonSquareMapHasOneTooltipPerCell() {
        // 2 rows × 3 columns, one missing: 6 cell tooltips, 5 with a value, 1 "not measured".
        let map = heatmap(rows: ["r0", "r1"], columns: ["c0", "c1", "c2"],
                          values: [[1_000_000, 2_000_000, nil], [3_000_000, 4_000_000, 5_000_000]])
        let svg = map.svg().xml()
        #expect(xmlError(svg) == nil)
        #expect(occurrences(of: " → ", in: svg) == 6)
        #expect(svg.contains("r0 → c2: not measured"))
        #expect(svg.contains("r1 → c0: 3 ms"))
        #expect(occurrences(of: ": not measured</title>", in: svg) == 1)
    }

    @Test func raggedRowsDrawTheirMissingCellsAsMissing() {
        // The second row has one value for three columns: its last two cells are missing.
        let map = heatmap(rows: ["a", "b"], columns: ["x", "y", "z"], values: [[1, 2, 3], [4]], format: .number)
        let svg = map.svg().xml()
        #expect(xmlError(svg) == nil)
        #expect(occurrences(of: " → ", in: svg) == 6)
        #expect(svg.contains("b → y: not measured") && svg.contains("b → z: not measured"))
    }

    @Test func cellNumbersShareTheUnitOfTheMedianValue() {
        // Median 2 ms: every cell in ms, named once under the grid.
        let map = heatmap(rows: ["a", "b"], columns: ["a", "b"], values: [[500_000, 2_000_000], [2_000_000, 40_000_000]])
        let svg = map.svg().xml()
        #expect(svg.contains("to · values in ms"))
        #expect(svg.contains(">0.5<") && svg.contains(">2<") && svg.contains(">40<"))
    }

    @Test func theLogColourKeyAppearsOnlyPastATwentyfoldSpread() {
        let narrow = heatmap(rows: ["a"], columns: ["x", "y"], values: [[10, 200]], format: .number)
        let wide = heatmap(rows: ["a"], columns: ["x", "y"], values: [[10, 201]], format: .number)
        #expect(!narrow.usesLogColour)
        #expect(wide.usesLogColour)
        #expect(!narrow.svg().xml().contains(">log<"))
        #expect(wide.svg().xml().contains(">log<"))
    }

    @Test func colourFractionIsLinearOrLogarithmic() {
        let linear = heatmap(rows: ["a"], columns: ["x", "y"], values: [[10, 30]], format: .number)
        #expect(linear.colourFraction(20, low: 10, high: 30) == 0.5)
        #expect(linear.colourFraction(7, low: 7, high: 7) == 0.5)  // one value: the middle of the scale
        let log = heatmap(rows: ["a"], columns: ["x", "y", "z"], values: [[10, 100, 1000]], format: .number)
        #expect(abs(log.colourFraction(100, low: 10, high: 1000) - 0.5) < 1e-12)
        #expect(abs(log.colourFraction(1000, low: 10, high: 1000) - 1) < 1e-12)
    }

    @Test func aMapWithoutValuesSaysSoInItsKey() {
        let map = heatmap(rows: ["a", "b"], columns: ["a", "b"], values: [[nil, nil], [nil, nil]])
        let svg = map.svg().xml()
        #expect(xmlError(svg) == nil)
        #expect(occurrences(of: ": not measured</title>", in: svg) == 4)
        #expect(!svg.contains("colour-key"), "no gradient without values")
        #expect(svg.contains(">not measured<"))
    }

    @Test func longLabelsAreTruncatedWithTheFullLabelKept() {
        let long = "a-very-long-variant-name-of-30c"  // 31 characters; 20 shown
        let map = heatmap(rows: [long], columns: [long], values: [[1]], format: .number)
        let svg = map.svg().xml()
        #expect(svg.contains(">a-very-long-variant…<"))
        #expect(svg.contains("<title>\(long)</title>"))
    }

    @Test func axisUnitsStepAtEachPowerOfTheUnit() {
        #expect(ValueFormat.bytes.axisUnit(forMaximum: 512) == (1, " B"))
        #expect(ValueFormat.bytes.axisUnit(forMaximum: 2048) == (1024, " KiB"))
        #expect(ValueFormat.bytes.axisUnit(forMaximum: 3 * 1_073_741_824) == (1_073_741_824, " GiB"))
        #expect(ValueFormat.durationNs.axisUnit(forMaximum: 999) == (1, " ns"))
        #expect(ValueFormat.durationNs.axisUnit(forMaximum: 5e5) == (1e3, " µs"))
        #expect(ValueFormat.durationNs.axisUnit(forMaximum: 2e9) == (1e9, " s"))
        #expect(ValueFormat.percent.axisUnit(forMaximum: 0.5) == (0.01, "%"))
        #expect(ValueFormat.number.axisUnit(forMaximum: 1e6) == (1, ""))
    }
}
