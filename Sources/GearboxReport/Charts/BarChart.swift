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
        let labelWidth = min(190, (categories.map { SVG.estimatedWidth(SVG.truncated($0, maxCharacters: 24)) }.max() ?? 40) + 34)
        let legendWidth = series.count > 1 ? LegendLayout.width : 0
        let left = 12 + labelWidth, right = width - 70 - legendWidth, top = 12.0
        let plotHeight = Double(categories.count) * (groupHeight + groupGap)
        let footnoteHeight = Footnote.height(footnote, width: width - 24)
        let totalHeight = max(top + plotHeight + 44, top + LegendLayout.height(of: legendEntries) + 44) + footnoteHeight
        let maxValue = series.flatMap { $0.values }.compactMap { $0 }.filter { $0.isFinite }.max() ?? 1
        // Ticks are nice numbers in the unit the largest value reads best in (MiB, not bytes).
        let unit = format.axisUnit(forMaximum: maxValue)
        let ticks = NiceTicks(covering: 0, max(maxValue / unit.divisor, 1e-9), targetCount: 5)
        let scale = Scale(domain: (0, ticks.upper * unit.divisor), range: (left, right))

        var nodes: [Node] = []
        for tick in ticks.values {
            let x = scale.position(of: tick * unit.divisor)
            nodes.append(SVG.line(x1: x, y1: top, x2: x, y2: top + plotHeight, color: Palette.grid))
            let label = Formatting.fixed(tick, decimals: NiceTicks.decimals(forStep: ticks.step)) + unit.suffix
            nodes.append(SVG.text(label, x: x, y: top + plotHeight + 16, size: 11, anchor: .middle, color: Palette.mutedInk))
        }
        for (index, category) in categories.enumerated() {
            let groupTop = top + Double(index) * (groupHeight + groupGap) + groupGap / 2
            let label = SVG.truncated(category, maxCharacters: 24)
            let labelY = groupTop + groupHeight / 2 + 4
            let hasSwatch = categoryColors.indices.contains(index)
            var text = SVG.text(label, x: hasSwatch ? 28 : 12, y: labelY, size: 12)
            if label != category { text = .el("g", [], [.el("title", text: category), text]) }
            nodes.append(text)
            if hasSwatch {
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
                    nodes.append(SVG.text("n/a", x: left + 4, y: y + barHeight - 2.5, size: 10.5, color: Palette.axis))
                }
            }
        }
        nodes.append(SVG.line(x1: left, y1: top, x2: left, y2: top + plotHeight, color: Palette.axis))
        nodes.append(SVG.text(axisTitle, x: (left + right) / 2, y: top + plotHeight + 34, size: 12, anchor: .middle, weight: "600"))
        if series.count > 1 {
            nodes.append(LegendLayout.render(legendEntries, x: width - legendWidth + 6, y: top))
        }
        if let note = Footnote.render(footnote, width: width - 24, bottom: totalHeight - 4) { nodes.append(note) }
        return SVG.root(id: id, width: width, height: totalHeight, title: title, description: footnote, nodes)
    }

    var legendEntries: [LegendEntry] { series.map { LegendEntry($0.name, color: $0.color, symbol: .swatch) } }
}
