// GearboxReport/Charts/Heatmap: a matrix of values as coloured cells with the value written in
// each cell and a colour key; missing cells are drawn as such, never as zero.

import Foundation
import GearboxCore

/// How a chart writes its values.
public enum ValueFormat: Sendable, Equatable {
    case durationNs
    case bytes
    case number
    case percent

    /// The unit axis ticks are written in for values up to `maximum`: bytes in KiB/MiB/GiB,
    /// durations in µs/ms/s; (1, "") for plain numbers and percentages.
    public func axisUnit(forMaximum maximum: Double) -> (divisor: Double, suffix: String) {
        switch self {
        case .bytes:
            let units: [(Double, String)] = [(1, " B"), (1024, " KiB"), (1_048_576, " MiB"), (1_073_741_824, " GiB")]
            return units.last { maximum >= $0.0 } ?? units[0]
        case .durationNs:
            let units: [(Double, String)] = [(1, " ns"), (1e3, " µs"), (1e6, " ms"), (1e9, " s")]
            return units.last { maximum >= $0.0 } ?? units[0]
        case .percent:
            return (0.01, "%")
        case .number:
            return (1, "")
        }
    }

    /// `value` written with its unit ("1.23 ms", "4.5 MiB", "3.1%").
    public func text(_ value: Double) -> String {
        switch self {
        case .durationNs: return Formatting.duration(Nanoseconds(value))
        case .bytes: return Formatting.bytes(value)
        case .number: return Formatting.significant(value)
        case .percent: return Formatting.percent(value)
        }
    }
}

/// A matrix of optional values (rows × columns) as coloured cells.
public struct Heatmap: Sendable, Equatable {
    public var id: String
    public var title: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// values[row][column]; nil = not measured.
    public var values: [[Double?]]
    public var format: ValueFormat
    public var rowAxisTitle: String
    public var columnAxisTitle: String
    /// What a missing cell means, written in the key ("not measured").
    public var missingLabel: String
    public var footnote: String?
    public var width: Double

    public init(
        id: String, title: String, rowLabels: [String], columnLabels: [String], values: [[Double?]],
        format: ValueFormat, rowAxisTitle: String, columnAxisTitle: String, missingLabel: String = "not measured",
        footnote: String? = nil, width: Double = 560
    ) {
        self.id = Markup.identifier(id); self.title = title; self.rowLabels = rowLabels; self.columnLabels = columnLabels
        self.values = values; self.format = format; self.rowAxisTitle = rowAxisTitle
        self.columnAxisTitle = columnAxisTitle; self.missingLabel = missingLabel; self.footnote = footnote
        self.width = width
    }

    /// Whether the colour key is logarithmic: the values span more than 20×.
    var usesLogColour: Bool {
        let present = values.flatMap { $0 }.compactMap { $0 }.filter { $0 > 0 }
        guard let low = present.min(), let high = present.max(), low > 0 else { return false }
        return high / low > 20
    }

    func colourFraction(_ value: Double, low: Double, high: Double) -> Double {
        guard high > low else { return 0.5 }
        if usesLogColour, value > 0, low > 0 { return (log10(value) - log10(low)) / (log10(high) - log10(low)) }
        return (value - low) / (high - low)
    }

    /// The heatmap as an `<svg>` element: cells coloured on a sequential scale (log when values
    /// span more than 20×), values written in one unit per map, a colour key, missing cells grey.
    public func svg() -> Node {
        let rows = rowLabels.count, columns = columnLabels.count
        let labelWidth = min(150, (rowLabels.map { SVG.estimatedWidth(SVG.truncated($0, maxCharacters: 20), size: 11) }.max() ?? 40) + 14)
        let left = 24 + labelWidth
        let keyWidth = 96.0
        let cell = max(26, min(64, (width - left - keyWidth - 16) / Double(max(columns, 1))))
        // Column labels lean at 45° when cells are wide enough, else stand upright.
        let upright = cell < 40
        let longestColumnLabel = columnLabels.map { SVG.estimatedWidth(SVG.truncated($0, maxCharacters: 20), size: 11) }.max() ?? 20
        let columnLabelHeight = min(130, longestColumnLabel * (upright ? 1 : 0.72) + 18)
        let top = 8 + columnLabelHeight
        let gridWidth = cell * Double(columns), gridHeight = cell * Double(rows)
        let footnoteHeight = Footnote.height(footnote, width: width - 24)
        let totalHeight = max(top + gridHeight + 34, top + 170) + footnoteHeight
        let present = values.flatMap { $0 }.compactMap { $0 }.filter { $0.isFinite }
        let low = present.min() ?? 0, high = present.max() ?? 1
        // Cells show bare numbers in one unit per heatmap, named under the grid.
        let sorted = present.sorted()
        let unit = format.axisUnit(forMaximum: sorted.isEmpty ? 1 : sorted[sorted.count / 2])

        var children: [Node] = []
        for row in 0..<rows {
            let label = SVG.truncated(rowLabels[row], maxCharacters: 20)
            var text = SVG.text(label, x: left - 8, y: top + (Double(row) + 0.5) * cell + 4, size: 11, anchor: .end)
            if label != rowLabels[row] { text = .el("g", [], [.el("title", text: rowLabels[row]), text]) }
            children.append(text)
            for column in 0..<columns {
                let x = left + Double(column) * cell, y = top + Double(row) * cell
                let value = values.indices.contains(row) && values[row].indices.contains(column) ? values[row][column] : nil
                let tooltip = "\(rowLabels[row]) → \(columnLabels[column]): " + (value.map(format.text) ?? missingLabel)
                if let value, value.isFinite {
                    let fill = Palette.sequential(colourFraction(value, low: low, high: high))
                    children.append(SVG.rect(x: x + 1, y: y + 1, width: cell - 2, height: cell - 2, fill: fill, radius: 2, tooltip: tooltip))
                    if cell >= 30 {
                        let number = Formatting.significant(value / unit.divisor, digits: 3)
                        children.append(SVG.text(number, x: x + cell / 2, y: y + cell / 2 + 4, size: cell >= 44 ? 11.5 : 10,
                                                 anchor: .middle, color: fill.contrastingText))
                    }
                } else {
                    children.append(SVG.rect(x: x + 1, y: y + 1, width: cell - 2, height: cell - 2, fill: Palette.missing, stroke: Palette.grid, radius: 2, tooltip: tooltip))
                    children.append(SVG.text("–", x: x + cell / 2, y: y + cell / 2 + 4, size: 11, anchor: .middle, color: Palette.axis))
                }
            }
        }
        for column in 0..<columns {
            let label = SVG.truncated(columnLabels[column], maxCharacters: 20)
            let x = left + (Double(column) + 0.5) * cell + (upright ? 4 : 3), y = top - 8
            var text = SVG.text(label, x: x, y: y, size: 11, rotate: upright ? -90 : -45)
            if label != columnLabels[column] { text = .el("g", [], [.el("title", text: columnLabels[column]), text]) }
            children.append(text)
        }
        let unitNote = unit.suffix.trimmingCharacters(in: .whitespaces).isEmpty ? "" : " · values in" + unit.suffix
        children.append(SVG.text(columnAxisTitle + unitNote, x: left + gridWidth / 2, y: top + gridHeight + 20, size: 12, anchor: .middle, weight: "600"))
        children.append(SVG.text(rowAxisTitle, x: 12, y: top + gridHeight / 2, size: 12, anchor: .middle, weight: "600", rotate: -90))
        children.append(colourKey(x: left + gridWidth + 18, top: top, height: max(110, min(gridHeight, 220)), low: low, high: high, hasValues: !present.isEmpty))
        if let note = Footnote.render(footnote, width: width - 24, bottom: totalHeight - 4) { children.append(note) }
        // Many variants can need more room than asked for; the page scales the SVG down to fit.
        let totalWidth = max(width, left + gridWidth + keyWidth + 24)
        return SVG.root(id: id, width: totalWidth, height: totalHeight, title: title, description: footnote, children)
    }

    private func colourKey(x: Double, top: Double, height: Double, low: Double, high: Double, hasValues: Bool) -> Node {
        guard hasValues else {
            return SVG.text(missingLabel, x: x, y: top + 12, size: 10.5, color: Palette.mutedInk)
        }
        let steps = 24
        var nodes: [Node] = []
        for step in 0..<steps {
            let t = 1 - Double(step) / Double(steps - 1)
            nodes.append(SVG.rect(x: x, y: top + Double(step) * height / Double(steps), width: 12, height: height / Double(steps) + 0.5, fill: Palette.sequential(t)))
        }
        nodes.append(SVG.text(format.text(high), x: x + 16, y: top + 9, size: 10.5, color: Palette.mutedInk))
        nodes.append(SVG.text(format.text(low), x: x + 16, y: top + height, size: 10.5, color: Palette.mutedInk))
        if usesLogColour {
            nodes.append(SVG.text("log", x: x + 16, y: top + height / 2 + 4, size: 10, color: Palette.mutedInk))
        }
        nodes.append(SVG.rect(x: x, y: top + height + 10, width: 12, height: 12, fill: Palette.missing, stroke: Palette.grid))
        nodes.append(SVG.text(SVG.truncated(missingLabel, maxCharacters: 16), x: x + 16, y: top + height + 20, size: 10, color: Palette.mutedInk))
        return .el("g", [("class", "colour-key")], nodes)
    }
}
