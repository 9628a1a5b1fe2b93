// GearboxReport/Charts/BarChart: horizontal grouped bars, one group per category (e.g. variant),
// one bar per series (e.g. engine bytes, RSS delta); missing values are labelled, not drawn as 0.

import Foundation

/// One series of bars.
public struct BarSeries: Sendable, Equatable {
    public var name: String
    public var color: Color
    /// One value per category; nil = not available.
    public var values: [Double?]
    public init(name: String, color: Color, values: [Double?]) { self.name = name; self.color = color; self.values = values }
}

/// Horizontal grouped bars with the value written at each bar's end.
public struct BarChart: Sendable, Equatable {
    public var id: String
    public var title: String
    public var categories: [String]
    /// A colour swatch beside each category label (e.g. the variant's colour); empty for none.
    public var categoryColors: [Color]
    public var series: [BarSeries]
    public var format: ValueFormat
    public var axisTitle: String
    public var footnote: String?
    public var width: Double

    public init(
        id: String, title: String, categories: [String], categoryColors: [Color] = [], series: [BarSeries],
        format: ValueFormat, axisTitle: String, footnote: String? = nil, width: Double = 760
    ) {
        self.id = Markup.identifier(id); self.title = title; self.categories = categories
        self.categoryColors = categoryColors; self.series = series; self.format = format
        self.axisTitle = axisTitle; self.footnote = footnote; self.width = width
    }

    /// The chart as an `<svg>` element.
    public func svg() -> Node {
        let barHeight = 13.0, barGap = 2.0, groupGap = 12.0
        let groupHeight = Double(max(series.count, 1)) * (barHeight + barGap) - barGap
        let labelWidth = min(170, (categories.map { SVG.estimatedWidth(SVG.truncated($0, maxCharacters: 24)) }.max() ?? 40) + 28)
        let legendWidth = series.count > 1 ? LegendLayout.width : 0
        let left = 12 + labelWidth, right = width - 70 - legendWidth, top = 12.0
        let plotHeight = Double(categories.count) * (groupHeight + groupGap)
        let footnoteHeight = footnote == nil ? 0.0 : 20
        let totalHeight = max(top + plotHeight + 44 + footnoteHeight, top + LegendLayout.height(of: legendEntries) + 44 + footnoteHeight)
        let maxValue = series.flatMap { $0.values }.compactMap { $0 }.filter { $0.isFinite }.max() ?? 1
        let scale = Scale.nice(covering: 0, max(maxValue, 1), range: (left, right), targetCount: 5)

        var nodes: [Node] = []
        for tick in scale.ticks(targetCount: 5) {
            let x = scale.position(of: tick)
            nodes.append(SVG.line(x1: x, y1: top, x2: x, y2: top + plotHeight, color: Palette.grid))
            nodes.append(SVG.text(format.text(tick), x: x, y: top + plotHeight + 16, size: 11, anchor: .middle, color: Palette.mutedInk))
        }
        for (index, category) in categories.enumerated() {
            let groupTop = top + Double(index) * (groupHeight + groupGap) + groupGap / 2
            let label = SVG.truncated(category, maxCharacters: 24)
            let labelY = groupTop + groupHeight / 2 + 4
            var text = SVG.text(label, x: left - 8, y: labelY, size: 12, anchor: .end)
            if label != category { text = .el("g", [], [.el("title", text: category), text]) }
            nodes.append(text)
            if categoryColors.indices.contains(index) {
                nodes.append(SVG.rect(x: 12, y: labelY - 10, width: 10, height: 10, fill: categoryColors[index], radius: 2))
            }
            for (seriesIndex, bars) in series.enumerated() {
                let y = groupTop + Double(seriesIndex) * (barHeight + barGap)
                let value = bars.values.indices.contains(index) ? bars.values[index] : nil
                if let value, value.isFinite {
                    let end = scale.position(of: value)
                    nodes.append(SVG.rect(x: left, y: y, width: end - left, height: barHeight, fill: bars.color, radius: 2,
                                          tooltip: "\(category) · \(bars.name): \(format.text(value))"))
                    nodes.append(SVG.text(format.text(value), x: end + 5, y: y + barHeight - 2.5, size: 10.5, color: Palette.mutedInk))
                } else {
                    nodes.append(SVG.text("n/a (\(bars.name))", x: left + 4, y: y + barHeight - 2.5, size: 10.5, color: Palette.axis))
                }
            }
        }
        nodes.append(SVG.line(x1: left, y1: top, x2: left, y2: top + plotHeight, color: Palette.axis))
        nodes.append(SVG.text(axisTitle, x: (left + right) / 2, y: top + plotHeight + 34, size: 12, anchor: .middle, weight: "600"))
        if series.count > 1 {
            nodes.append(LegendLayout.render(legendEntries, x: width - legendWidth + 6, y: top))
        }
        if let footnote {
            nodes.append(SVG.text(footnote, x: 12, y: totalHeight - 8, size: 10.5, color: Palette.mutedInk))
        }
        return SVG.root(id: id, width: width, height: totalHeight, title: title, description: footnote, nodes)
    }

    var legendEntries: [LegendEntry] { series.map { LegendEntry($0.name, color: $0.color, symbol: .swatch) } }
}
