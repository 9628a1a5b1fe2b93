// GearboxReport/Charts/SVG: small constructors for the SVG elements charts draw with. Styling is
// written as attributes (not page CSS) so a chart also reads correctly as a standalone .svg file.

/// Marker shapes for scatter points.
public enum MarkerShape: String, Sendable, Equatable {
    /// Filled circle: a measured value.
    case circle
    /// Hollow circle: a predicted (model) value.
    case ring
    /// A diagonal cross: a violation.
    case cross
    case diamond
    case square
    /// A filled upward triangle.
    case triangle
}

/// Stroke patterns for lines.
public enum StrokeDash: String, Sendable, Equatable {
    case solid, dashed, dotted

    var dashArray: String? {
        switch self {
        case .solid: return nil
        case .dashed: return "6 4"
        case .dotted: return "1.5 3"
        }
    }
}

/// Builders for SVG elements; every coordinate goes through `Formatting.coordinate`.
enum SVG {
    static let fontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

    static func c(_ value: Double) -> String { Formatting.coordinate(value) }

    /// The outer `<svg>`: sized by viewBox so it scales with the page, with an accessible title.
    static func root(id: String, width: Double, height: Double, title: String, description: String?, _ children: [Node]) -> Node {
        var head: [Node] = [.el("title", [("id", id + "-title")], text: title)]
        if let description { head.append(.el("desc", [("id", id + "-desc")], text: description)) }
        return .el(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"), ("id", id), ("class", "chart"),
                ("viewBox", "0 0 \(c(width)) \(c(height))"), ("width", c(width)), ("height", c(height)),
                ("role", "img"), ("aria-labelledby", id + "-title"),
                ("font-family", fontFamily), ("font-size", "12"), ("fill", Palette.ink.hex),
            ],
            head + [.el("rect", [("x", "0"), ("y", "0"), ("width", c(width)), ("height", c(height)), ("fill", "#ffffff")])]
                + children)
    }

    enum Anchor: String { case start, middle, end }

    static func text(
        _ string: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start, weight: String? = nil,
        color: Color? = nil, rotate: Double? = nil, baseline: String? = nil
    ) -> Node {
        var attributes: [(String, String)] = [("x", c(x)), ("y", c(y))]
        if size != 12 { attributes.append(("font-size", c(size))) }
        if anchor != .start { attributes.append(("text-anchor", anchor.rawValue)) }
        if let weight { attributes.append(("font-weight", weight)) }
        if let color { attributes.append(("fill", color.hex)) }
        if let baseline { attributes.append(("dominant-baseline", baseline)) }
        if let rotate { attributes.append(("transform", "rotate(\(c(rotate)) \(c(x)) \(c(y)))")) }
        return .el("text", attributes, text: string)
    }

    static func line(x1: Double, y1: Double, x2: Double, y2: Double, color: Color, width: Double = 1, dash: StrokeDash = .solid) -> Node {
        var attributes: [(String, String)] = [
            ("x1", c(x1)), ("y1", c(y1)), ("x2", c(x2)), ("y2", c(y2)), ("stroke", color.hex), ("stroke-width", c(width)),
        ]
        if let pattern = dash.dashArray { attributes.append(("stroke-dasharray", pattern)) }
        return .el("line", attributes)
    }

    static func rect(
        x: Double, y: Double, width: Double, height: Double, fill: Color?, opacity: Double? = nil,
        stroke: Color? = nil, radius: Double? = nil, tooltip: String? = nil
    ) -> Node {
        var attributes: [(String, String)] = [("x", c(x)), ("y", c(y)), ("width", c(max(0, width))), ("height", c(max(0, height)))]
        if let radius { attributes.append(("rx", c(radius))) }
        attributes.append(("fill", fill?.hex ?? "none"))
        if let opacity { attributes.append(("fill-opacity", c(opacity))) }
        if let stroke { attributes += [("stroke", stroke.hex), ("stroke-width", "1")] }
        return .el("rect", attributes, tooltip.map { [.el("title", text: $0)] } ?? [])
    }

    /// A polyline path through `points`, skipping non-finite points by starting a new segment.
    static func pathData(_ points: [(Double, Double)]) -> String {
        var data = ""
        var penDown = false
        for (x, y) in points {
            guard x.isFinite && y.isFinite else { penDown = false; continue }
            data += (data.isEmpty ? "" : " ") + (penDown ? "L" : "M") + c(x) + " " + c(y)
            penDown = true
        }
        return data
    }

    static func path(
        _ data: String, stroke: Color?, width: Double = 2, fill: Color? = nil, fillOpacity: Double? = nil,
        dash: StrokeDash = .solid
    ) -> Node {
        var attributes: [(String, String)] = [("d", data), ("fill", fill?.hex ?? "none")]
        if let fillOpacity { attributes.append(("fill-opacity", c(fillOpacity))) }
        if let stroke {
            attributes += [("stroke", stroke.hex), ("stroke-width", c(width)), ("stroke-linejoin", "round"), ("stroke-linecap", "round")]
        }
        if let pattern = dash.dashArray { attributes.append(("stroke-dasharray", pattern)) }
        return .el("path", attributes)
    }

    /// A marker centred at (x, y); `size` is its diameter in pixels.
    static func marker(_ shape: MarkerShape, x: Double, y: Double, size: Double, color: Color, tooltip: String? = nil) -> Node {
        let r = size / 2
        let children: [Node] = tooltip.map { [.el("title", text: $0)] } ?? []
        switch shape {
        case .circle:
            return .el("circle", [("cx", c(x)), ("cy", c(y)), ("r", c(r)), ("fill", color.hex), ("stroke", "#ffffff"), ("stroke-width", "1")], children)
        case .ring:
            return .el("circle", [("cx", c(x)), ("cy", c(y)), ("r", c(r)), ("fill", "#ffffff"), ("stroke", color.hex), ("stroke-width", "1.8")], children)
        case .square:
            return .el("rect", [("x", c(x - r)), ("y", c(y - r)), ("width", c(size)), ("height", c(size)), ("fill", color.hex)], children)
        case .diamond:
            let d = "M\(c(x)) \(c(y - r * 1.2)) L\(c(x + r * 1.2)) \(c(y)) L\(c(x)) \(c(y + r * 1.2)) L\(c(x - r * 1.2)) \(c(y)) Z"
            return .el("path", [("d", d), ("fill", color.hex), ("stroke", "#ffffff"), ("stroke-width", "1")], children)
        case .triangle:
            let d = "M\(c(x)) \(c(y - r * 1.2)) L\(c(x + r * 1.1)) \(c(y + r * 0.8)) L\(c(x - r * 1.1)) \(c(y + r * 0.8)) Z"
            return .el("path", [("d", d), ("fill", color.hex), ("stroke", "#ffffff"), ("stroke-width", "1")], children)
        case .cross:
            let d = "M\(c(x - r)) \(c(y - r)) L\(c(x + r)) \(c(y + r)) M\(c(x - r)) \(c(y + r)) L\(c(x + r)) \(c(y - r))"
            return .el("path", [("d", d), ("fill", "none"), ("stroke", color.hex), ("stroke-width", "2"), ("stroke-linecap", "round")], children)
        }
    }

    /// Shortens `text` to about `maxCharacters`, ending in "…".
    static func truncated(_ text: String, maxCharacters: Int) -> String {
        guard text.count > maxCharacters, maxCharacters > 1 else { return text }
        return String(text.prefix(maxCharacters - 1)) + "…"
    }

    /// A rough width of `text` at `size` pixels (system sans-serif averages about 0.56 em per glyph).
    static func estimatedWidth(_ text: String, size: Double = 12) -> Double {
        Double(text.count) * size * 0.56
    }
}
