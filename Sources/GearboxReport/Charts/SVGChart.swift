// GearboxReport/Charts/SVGChart: what every chart type shares: it renders to an `<svg>`, and it
// can carry a footnote naming its source, drawn (wrapped) under the plot in standalone files.

/// A chart that renders to SVG.
public protocol SVGChart: Sendable {
    /// Where the data came from; drawn as wrapped grey lines at the bottom when set.
    var footnote: String? { get set }
    /// The chart's identifier (also the SVG element's `id`).
    var id: String { get }
    /// The chart as an `<svg>` element.
    func svg() -> Node
}

extension XYChart: SVGChart {}
extension Heatmap: SVGChart {}
extension BarChart: SVGChart {}

enum Footnote {
    static let fontSize = 10.5
    static let lineHeight = 14.0

    /// The footnote wrapped to `width`, breaking at " · " first, then at spaces.
    static func lines(_ footnote: String?, width: Double) -> [String] {
        guard let footnote, !footnote.isEmpty else { return [] }
        let maxCharacters = max(20, Int(width / (fontSize * 0.56)))
        var lines: [String] = []
        var current = ""
        let pieces = footnote.components(separatedBy: " · ")
        for (index, piece) in pieces.enumerated() {
            let separator = index == 0 || current.isEmpty ? "" : " · "
            if current.count + separator.count + piece.count <= maxCharacters {
                current += separator + piece
                continue
            }
            if !current.isEmpty { lines.append(current); current = "" }
            // A piece longer than a line breaks at spaces.
            for word in piece.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
                if current.isEmpty { current = word } else if current.count + 1 + word.count <= maxCharacters { current += " " + word } else {
                    lines.append(current); current = word
                }
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// The height the wrapped footnote needs.
    static func height(_ footnote: String?, width: Double) -> Double {
        let count = lines(footnote, width: width).count
        return count == 0 ? 0 : Double(count) * lineHeight + 6
    }

    /// The footnote's text nodes, bottom-aligned to `bottom`.
    static func render(_ footnote: String?, width: Double, bottom: Double) -> Node? {
        let wrapped = lines(footnote, width: width)
        guard !wrapped.isEmpty else { return nil }
        let top = bottom - Double(wrapped.count) * lineHeight
        return .el("g", [("class", "footnote")], wrapped.enumerated().map { index, line in
            SVG.text(line, x: 12, y: top + Double(index + 1) * lineHeight - 3, size: fontSize, color: Palette.mutedInk)
        })
    }
}
