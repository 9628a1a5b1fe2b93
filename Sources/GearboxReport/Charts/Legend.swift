// GearboxReport/Charts/Legend: legend entries and the column that draws them beside a chart.

/// What a legend entry's symbol looks like.
public enum LegendSymbol: Sendable, Equatable {
    case line(StrokeDash)
    case band
    case marker(MarkerShape)
    case swatch
}

/// One row of a legend.
public struct LegendEntry: Sendable, Equatable {
    public var label: String
    public var color: Color
    public var symbol: LegendSymbol
    public init(_ label: String, color: Color, symbol: LegendSymbol) {
        self.label = label; self.color = color; self.symbol = symbol
    }
}

enum LegendLayout {
    static let rowHeight = 18.0
    static let width = 190.0
    static let maxCharacters = 26

    /// The legend as a group of rows starting at (x, y); entries longer than the column are
    /// shortened, with the full text in a tooltip.
    static func render(_ entries: [LegendEntry], x: Double, y: Double) -> Node {
        var rows: [Node] = []
        for (index, entry) in entries.enumerated() {
            let top = y + Double(index) * rowHeight
            let mid = top + rowHeight / 2
            let symbol: Node
            switch entry.symbol {
            case let .line(dash):
                symbol = SVG.line(x1: x, y1: mid, x2: x + 22, y2: mid, color: entry.color, width: 2.4, dash: dash)
            case .band:
                symbol = SVG.rect(x: x, y: mid - 6, width: 22, height: 12, fill: entry.color, opacity: 0.22)
            case let .marker(shape):
                symbol = SVG.marker(shape, x: x + 11, y: mid, size: 9, color: entry.color)
            case .swatch:
                symbol = SVG.rect(x: x + 4, y: mid - 6, width: 14, height: 12, fill: entry.color, radius: 2)
            }
            let label = SVG.truncated(entry.label, maxCharacters: maxCharacters)
            var text = SVG.text(label, x: x + 30, y: mid + 4, size: 12)
            if label != entry.label {
                text = .el("g", [], [.el("title", text: entry.label), text])
            }
            rows.append(.el("g", [("class", "legend-row")], [symbol, text]))
        }
        return .el("g", [("class", "legend")], rows)
    }

    static func height(of entries: [LegendEntry]) -> Double { Double(entries.count) * rowHeight }
}
