// GearboxReport/Charts/XYChart: a chart on two continuous axes (lines, bands, scatter points,
// reference rules, spans) with gridlines, nicely ticked axes, a legend and a source footnote.

import Foundation

/// A data point.
public struct Point: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// One axis of an `XYChart`.
public struct Axis: Sendable, Equatable {
    /// How tick labels are written.
    public enum Labels: Sendable, Equatable {
        /// Numbers with as many decimals as the tick step needs.
        case numbers
        /// Ticks at 0, 1, 2, … labelled with these names (a categorical axis).
        case categories([String])
    }

    /// The axis title, with its unit: "Frequency (MHz)".
    public var title: String
    public var kind: Scale.Kind
    public var labels: Labels
    /// Fixed ends; nil takes nice values around the data.
    public var lower: Double?
    public var upper: Double?
    /// Whether the data range is widened to include zero (linear axes only).
    public var includesZero: Bool
    public var targetTickCount: Int

    public init(
        _ title: String, kind: Scale.Kind = .linear, labels: Labels = .numbers, lower: Double? = nil,
        upper: Double? = nil, includesZero: Bool = false, targetTickCount: Int = 6
    ) {
        self.title = title; self.kind = kind; self.labels = labels; self.lower = lower; self.upper = upper
        self.includesZero = includesZero; self.targetTickCount = targetTickCount
    }
}

/// Something drawn in an `XYChart`'s plot area.
public enum Mark: Sendable, Equatable {
    /// A polyline through points (in x order as given).
    case line(points: [Point], color: Color, width: Double = 2, dash: StrokeDash = .solid, stepped: Bool = false)
    /// A filled band between `lower` and `upper` at each x.
    case band(x: [Double], lower: [Double], upper: [Double], color: Color, opacity: Double = 0.16)
    /// Markers at points, each with an optional tooltip (shown by browsers on hover, no script).
    case points(points: [Point], color: Color, shape: MarkerShape = .circle, size: Double = 8, tooltips: [String] = [])
    /// Text labels next to points.
    case labels(points: [Point], texts: [String], color: Color)
    /// A horizontal reference line at `y`, labelled at the right end.
    case horizontalRule(y: Double, color: Color, dash: StrokeDash = .dashed, label: String?)
    /// Rectangles spanning `x0...x1` and `y0...y1` in data units.
    case spans([Span])
}

/// A rectangle in data units, e.g. "variant 3 chosen from 120 ms to 480 ms".
public struct Span: Sendable, Equatable {
    public var x0: Double, x1: Double, y0: Double, y1: Double
    public var color: Color
    public var tooltip: String?
    public init(x0: Double, x1: Double, y0: Double, y1: Double, color: Color, tooltip: String? = nil) {
        self.x0 = x0; self.x1 = x1; self.y0 = y0; self.y1 = y1; self.color = color; self.tooltip = tooltip
    }
}

/// A chart on two continuous axes, rendered to deterministic SVG.
public struct XYChart: Sendable, Equatable {
    public var id: String
    public var title: String
    public var x: Axis
    public var y: Axis
    public var marks: [Mark]
    public var legend: [LegendEntry]
    /// One line under the plot saying where the data came from (source and provenance).
    public var footnote: String?
    public var width: Double
    public var height: Double
    /// Where the plot area starts (pixels from the left); nil fits the y tick labels. Charts
    /// stacked on a shared x axis set the same value so their axes line up.
    public var plotLeft: Double?
    /// Width kept free on the right for the legend; nil = the legend's width when there is one.
    public var legendWidth: Double?

    public init(
        id: String, title: String, x: Axis, y: Axis, marks: [Mark], legend: [LegendEntry] = [],
        footnote: String? = nil, width: Double = 760, height: Double = 340, plotLeft: Double? = nil,
        legendWidth: Double? = nil
    ) {
        self.id = Markup.identifier(id); self.title = title; self.x = x; self.y = y; self.marks = marks
        self.legend = legend; self.footnote = footnote; self.width = width; self.height = height
        self.plotLeft = plotLeft; self.legendWidth = legendWidth
    }

    /// The plot's left edge that fits this chart's y tick labels.
    public var fittedPlotLeft: Double {
        if case let .categories(names) = y.labels {
            return 22 + min(150, (names.map { SVG.estimatedWidth(SVG.truncated($0, maxCharacters: 22), size: 11) }.max() ?? 30) + 14)
        }
        return 22 + 48
    }

    struct Frame {
        var left: Double, top: Double, right: Double, bottom: Double
        var width: Double { right - left }
        var height: Double { bottom - top }
    }

    /// The data extent of every mark along one axis.
    func extent(horizontal: Bool) -> (Double, Double)? {
        var values: [Double] = []
        for mark in marks {
            switch mark {
            case let .line(points, _, _, _, _), let .points(points, _, _, _, _), let .labels(points, _, _):
                values += points.map { horizontal ? $0.x : $0.y }
            case let .band(xs, lower, upper, _, _):
                values += horizontal ? xs : lower + upper
            case let .horizontalRule(ruleY, _, _, _):
                if !horizontal { values.append(ruleY) }
            case let .spans(spans):
                values += spans.flatMap { horizontal ? [$0.x0, $0.x1] : [$0.y0, $0.y1] }
            }
        }
        let axis = horizontal ? x : y
        values = values.filter { $0.isFinite && (axis.kind == .linear || $0 > 0) }
        guard var low = values.min(), var high = values.max() else { return nil }
        if axis.includesZero && axis.kind == .linear { low = min(low, 0); high = max(high, 0) }
        return (low, high)
    }

    func scale(for axis: Axis, extent: (Double, Double)?, range: (Double, Double)) -> Scale {
        if case let .categories(names) = axis.labels {
            return Scale(kind: .linear, domain: (axis.lower ?? -0.5, axis.upper ?? Double(max(names.count, 1)) - 0.5), range: range)
        }
        let low = axis.lower ?? extent?.0 ?? 0
        let high = axis.upper ?? extent?.1 ?? 1
        if axis.lower != nil && axis.upper != nil {
            return Scale(kind: axis.kind, domain: (low, high), range: range)
        }
        let nice = Scale.nice(kind: axis.kind, covering: low, high, range: range, targetCount: axis.targetTickCount)
        return Scale(
            kind: axis.kind, domain: (axis.lower ?? nice.domainLower, axis.upper ?? nice.domainUpper), range: range)
    }

    func tickLabel(_ value: Double, axis: Axis, step: Double) -> String {
        switch axis.labels {
        case let .categories(names):
            let index = Int(value.rounded())
            return names.indices.contains(index) ? names[index] : ""
        case .numbers:
            if axis.kind == .logarithmic { return Formatting.significant(value, digits: 3) }
            return Formatting.fixed(value, decimals: NiceTicks.decimals(forStep: step))
        }
    }

    func ticks(for axis: Axis, scale: Scale) -> [Double] {
        if case let .categories(names) = axis.labels { return names.indices.map(Double.init) }
        return scale.ticks(targetCount: axis.targetTickCount)
    }

    /// The chart as an `<svg>` element.
    public func svg() -> Node {
        let legendSpace = legendWidth ?? (legend.isEmpty ? 0 : LegendLayout.width)
        let footnoteHeight = Footnote.height(footnote, width: width - 24)
        let totalHeight = max(height, LegendLayout.height(of: legend) + 70) + footnoteHeight
        let frame = Frame(left: plotLeft ?? fittedPlotLeft, top: 16, right: width - 18 - legendSpace, bottom: totalHeight - 48 - footnoteHeight)
        let xScale = scale(for: x, extent: extent(horizontal: true), range: (frame.left, frame.right))
        let yScale = scale(for: y, extent: extent(horizontal: false), range: (frame.bottom, frame.top))

        var grid: [Node] = []
        var axes: [Node] = []
        let xTicks = ticks(for: x, scale: xScale)
        let yTicks = ticks(for: y, scale: yScale)
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1
        let yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        for tick in xTicks {
            let px = xScale.position(of: tick)
            grid.append(SVG.line(x1: px, y1: frame.top, x2: px, y2: frame.bottom, color: Palette.grid))
            axes.append(SVG.line(x1: px, y1: frame.bottom, x2: px, y2: frame.bottom + 5, color: Palette.axis))
            axes.append(SVG.text(tickLabel(tick, axis: x, step: xStep), x: px, y: frame.bottom + 19, size: 11, anchor: .middle, color: Palette.mutedInk))
        }
        for tick in yTicks {
            let py = yScale.position(of: tick)
            grid.append(SVG.line(x1: frame.left, y1: py, x2: frame.right, y2: py, color: Palette.grid))
            axes.append(SVG.line(x1: frame.left - 5, y1: py, x2: frame.left, y2: py, color: Palette.axis))
            let label = SVG.truncated(tickLabel(tick, axis: y, step: yStep), maxCharacters: 22)
            axes.append(SVG.text(label, x: frame.left - 8, y: py + 4, size: 11, anchor: .end, color: Palette.mutedInk))
        }
        axes.append(SVG.line(x1: frame.left, y1: frame.bottom, x2: frame.right, y2: frame.bottom, color: Palette.axis))
        axes.append(SVG.line(x1: frame.left, y1: frame.top, x2: frame.left, y2: frame.bottom, color: Palette.axis))
        axes.append(SVG.text(x.title, x: (frame.left + frame.right) / 2, y: frame.bottom + 38, size: 12, anchor: .middle, weight: "600"))
        axes.append(SVG.text(y.title, x: 14, y: (frame.top + frame.bottom) / 2, size: 12, anchor: .middle, weight: "600", rotate: -90))

        let clipID = id + "-plot"
        let clip = Node.el("clipPath", [("id", clipID)], [
            SVG.rect(x: frame.left, y: frame.top - 6, width: frame.width + 6, height: frame.height + 12, fill: Palette.ink),
        ])
        let plotted = marks.flatMap { render($0, xScale: xScale, yScale: yScale, frame: frame) }
        var children: [Node] = [
            .el("defs", [], [clip]),
            .el("g", [("class", "grid")], grid),
            .el("g", [("class", "marks"), ("clip-path", "url(#\(clipID))")], plotted),
            .el("g", [("class", "axes")], axes),
        ]
        children += marks.compactMap { ruleLabel($0, yScale: yScale, frame: frame) }
        if !legend.isEmpty {
            children.append(LegendLayout.render(legend, x: frame.right + 24, y: frame.top))
        }
        if let note = Footnote.render(footnote, width: width - 24, bottom: totalHeight - 4) { children.append(note) }
        return SVG.root(id: id, width: width, height: totalHeight, title: title, description: footnote, children)
    }

    private func render(_ mark: Mark, xScale: Scale, yScale: Scale, frame: Frame) -> [Node] {
        func px(_ point: Point) -> (Double, Double) { (xScale.position(of: point.x), yScale.position(of: point.y)) }
        switch mark {
        case let .line(points, color, width, dash, stepped):
            var pixels: [(Double, Double)] = []
            for (index, point) in points.enumerated() {
                if stepped, index > 0 {
                    pixels.append((xScale.position(of: point.x), yScale.position(of: points[index - 1].y)))
                }
                pixels.append(px(point))
            }
            return [SVG.path(SVG.pathData(pixels), stroke: color, width: width, dash: dash)]
        case let .band(xs, lower, upper, color, opacity):
            let count = min(xs.count, lower.count, upper.count)
            guard count > 1 else { return [] }
            let top = (0..<count).map { (xScale.position(of: xs[$0]), yScale.position(of: upper[$0])) }
            let bottom = (0..<count).reversed().map { (xScale.position(of: xs[$0]), yScale.position(of: lower[$0])) }
            return [SVG.path(SVG.pathData(top + bottom) + " Z", stroke: nil, fill: color, fillOpacity: opacity)]
        case let .points(points, color, shape, size, tooltips):
            return points.enumerated().map { index, point in
                let (x, y) = px(point)
                return SVG.marker(shape, x: x, y: y, size: size, color: color, tooltip: tooltips.indices.contains(index) ? tooltips[index] : nil)
            }
        case let .labels(points, texts, color):
            return LabelPlacer.place(zip(points, texts).map { (px($0), SVG.truncated($1, maxCharacters: 18)) },
                                     avoiding: markerPixels(xScale: xScale, yScale: yScale), within: frame, color: color)
        case let .horizontalRule(ruleY, color, dash, _):
            let py = yScale.position(of: ruleY)
            return [SVG.line(x1: frame.left, y1: py, x2: frame.right, y2: py, color: color, width: 1.5, dash: dash)]
        case let .spans(spans):
            return spans.map { span in
                let x0 = xScale.position(of: span.x0), x1 = xScale.position(of: span.x1)
                let y0 = yScale.position(of: span.y0), y1 = yScale.position(of: span.y1)
                return SVG.rect(x: min(x0, x1), y: min(y0, y1), width: max(abs(x1 - x0), 0.6), height: abs(y1 - y0),
                                fill: span.color, tooltip: span.tooltip)
            }
        }
    }

    /// Pixel centres of every scatter marker, which labels should not cover.
    private func markerPixels(xScale: Scale, yScale: Scale) -> [(Double, Double)] {
        marks.flatMap { mark -> [(Double, Double)] in
            guard case let .points(points, _, _, _, _) = mark else { return [] }
            return points.map { (xScale.position(of: $0.x), yScale.position(of: $0.y)) }
        }
    }

    /// Rule labels sit outside the clip so they stay readable at the plot's edge.
    private func ruleLabel(_ mark: Mark, yScale: Scale, frame: Frame) -> Node? {
        guard case let .horizontalRule(ruleY, color, _, label?) = mark else { return nil }
        let py = yScale.position(of: ruleY)
        guard py >= frame.top - 1 && py <= frame.bottom + 1 else { return nil }
        return SVG.text(label, x: frame.right - 4, y: py - 5, size: 11, anchor: .end, weight: "600", color: color)
    }
}

/// Greedy placement of point labels: each label takes the first of eight spots around its point
/// that overlaps no label placed before it, no marker and stays inside the plot.
enum LabelPlacer {
    struct Box {
        var left: Double, top: Double, right: Double, bottom: Double
        func overlaps(_ other: Box) -> Bool {
            left < other.right && other.left < right && top < other.bottom && other.top < bottom
        }
    }

    static let size = 10.5

    static func place(_ labels: [((Double, Double), String)], avoiding markers: [(Double, Double)], within frame: XYChart.Frame, color: Color) -> [Node] {
        var placed: [Box] = []
        let obstacles = markers.map { Box(left: $0.0 - 5, top: $0.1 - 5, right: $0.0 + 5, bottom: $0.1 + 5) }
        var nodes: [Node] = []
        for ((x, y), text) in labels {
            // A little wider than the usual estimate: a clipped label is worse than a moved one.
            let width = SVG.estimatedWidth(text, size: size) * 1.1, height = size + 2
            // (dx, dy of the baseline, anchor)
            let spots: [(Double, Double, SVG.Anchor)] = [
                (8.0, -6.0, SVG.Anchor.start), (8.0, 12.0, SVG.Anchor.start), (-8.0, -6.0, SVG.Anchor.end), (-8.0, 12.0, SVG.Anchor.end),
                (0.0, -11.0, SVG.Anchor.middle), (0.0, 19.0, SVG.Anchor.middle), (10.0, 3.5, SVG.Anchor.start), (-10.0, 3.5, SVG.Anchor.end),
            ]
            func box(_ spot: (Double, Double, SVG.Anchor)) -> Box {
                let baseX = x + spot.0, baseY = y + spot.1
                let left: Double
                switch spot.2 {
                case .start: left = baseX
                case .end: left = baseX - width
                case .middle: left = baseX - width / 2
                }
                return Box(left: left, top: baseY - height + 2, right: left + width, bottom: baseY + 2)
            }
            let allowedRight: Double = frame.right
            let allowedTop: Double = frame.top - 4
            func insidePlot(_ candidate: Box) -> Bool {
                let horizontal: Bool = candidate.left >= frame.left && candidate.right <= allowedRight
                let vertical: Bool = candidate.top >= allowedTop && candidate.bottom <= frame.bottom
                return horizontal && vertical
            }
            func clearOfLabels(_ candidate: Box) -> Bool { !placed.contains { $0.overlaps(candidate) } }
            func clearOfMarkers(_ candidate: Box) -> Bool { !obstacles.contains { $0.overlaps(candidate) } }
            let chosen: (Double, Double, SVG.Anchor)
            if let best = spots.first(where: { insidePlot(box($0)) && clearOfLabels(box($0)) && clearOfMarkers(box($0)) }) {
                chosen = best
            } else if let fallback = spots.first(where: { insidePlot(box($0)) && clearOfLabels(box($0)) }) {
                chosen = fallback
            } else {
                chosen = spots[0]
            }
            placed.append(box(chosen))
            nodes.append(SVG.text(text, x: x + chosen.0, y: y + chosen.1, size: size, anchor: chosen.2, color: color))
        }
        return nodes
    }
}
