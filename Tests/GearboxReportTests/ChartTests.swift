// Tests for the chart types (XYChart, Heatmap, BarChart): well-formed, deterministic SVG that
// escapes hostile labels and draws missing values as missing.

import Foundation
import Testing
@testable import GearboxReport

let hostileName = "<script>alert('x')</script> & \"q\" ]]> \u{1}"

func sampleXYChart(name: String = "dense-full") -> XYChart {
    XYChart(
        id: "latency", title: "Latency of \(name)", x: Axis("Frequency (MHz)"), y: Axis("Latency (ms)", kind: .logarithmic),
        marks: [
            .band(x: [800, 1600, 2400], lower: [1, 0.6, 0.4], upper: [1.5, 0.8, 0.5], color: Palette.series(0)),
            .line(points: [Point(x: 800, y: 1), Point(x: 1600, y: 0.6), Point(x: 2400, y: 0.4)], color: Palette.series(0)),
            .line(points: [Point(x: 800, y: 1.05), Point(x: 2400, y: 0.41)], color: Palette.series(0), dash: .dashed),
            .points(points: [Point(x: 800, y: 1)], color: Palette.series(0), shape: .ring, tooltips: ["\(name) predicted"]),
            .labels(points: [Point(x: 1600, y: 0.6)], texts: [name], color: Palette.ink),
            .horizontalRule(y: 0.9, color: Palette.target, label: "target \(name)"),
            .spans([Span(x0: 800, x1: 1200, y0: 0.5, y1: 0.7, color: Palette.series(1), tooltip: name)]),
        ],
        legend: [LegendEntry(name, color: Palette.series(0), symbol: .line(.solid)),
                 LegendEntry("predicted", color: Palette.mutedInk, symbol: .marker(.ring))],
        footnote: "Source: emulated · device \(name) · 2026-11-20 · commit abc")
}

@Test func xyChartIsWellFormedXML() {
    let svg = sampleXYChart().svg().xml()
    #expect(xmlError(svg) == nil)
    #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    #expect(svg.contains("stroke-dasharray=\"6 4\""), "the fitted model line is dashed")
}

@Test func chartsAreDeterministic() {
    #expect(sampleXYChart().svg().xml() == sampleXYChart().svg().xml())
    let heatmap = sampleHeatmap(names: ["a", "b", "c"])
    #expect(heatmap.svg().xml() == heatmap.svg().xml())
}

@Test func hostileLabelsAreEscapedInEveryChartType() {
    let charts: [any SVGChart] = [
        sampleXYChart(name: hostileName),
        sampleHeatmap(names: [hostileName, "b"]),
        BarChart(id: hostileName, title: hostileName, categories: [hostileName], categoryColors: [Palette.series(0)],
                 series: [BarSeries(name: hostileName, color: Palette.series(1), values: [1024])], format: .bytes,
                 axisTitle: hostileName, footnote: hostileName),
    ]
    for chart in charts {
        let svg = chart.svg().xml()
        #expect(xmlError(svg) == nil, "\(type(of: chart)) must stay well-formed with a hostile name")
        #expect(!svg.contains("<script"), "\(type(of: chart)) leaked markup")
        #expect(!svg.contains("\u{1}"))
    }
}

func sampleHeatmap(names: [String]) -> Heatmap {
    let values: [[Double?]] = names.indices.map { row in names.indices.map { column in row == column ? nil : Double(1_000_000 * (row + column + 1)) } }
    return Heatmap(id: "switch-cold", title: "Cold switch", rowLabels: names, columnLabels: names, values: values,
                   format: .durationNs, rowAxisTitle: "from", columnAxisTitle: "to", footnote: "Source: emulated")
}

@Test func heatmapDrawsMissingCellsAsMissingNotZero() {
    let svg = sampleHeatmap(names: ["a", "b", "c"]).svg().xml()
    #expect(xmlError(svg) == nil)
    #expect(svg.components(separatedBy: ": not measured</title>").count - 1 == 3, "three diagonal cells are not measured")
    #expect(svg.contains("values in ms"))
}

@Test func barChartLabelsMissingValuesAndUsesBinaryUnitsOnItsAxis() {
    let chart = BarChart(id: "memory", title: "Memory", categories: ["a", "b"],
                         series: [BarSeries(name: "engine", color: Palette.series(0), values: [3 * 1_048_576, nil])],
                         format: .bytes, axisTitle: "Memory")
    let svg = chart.svg().xml()
    #expect(xmlError(svg) == nil)
    #expect(svg.contains(">n/a<"))
    #expect(svg.contains(">3 MiB<"))
}

@Test func footnotesWrapInsteadOfRunningOffTheChart() {
    let long = Array(repeating: "device fixture-vm-2c", count: 12).joined(separator: " · ")
    let lines = Footnote.lines(long, width: 400)
    #expect(lines.count > 1)
    #expect(lines.allSatisfy { Double($0.count) * 10.5 * 0.56 <= 400 })
    #expect(lines.joined(separator: " · ") == long)
}

@Test func stackedChartsShareTheirPlotFrame() {
    let a = XYChart(id: "a", title: "a", x: Axis("t", lower: 0, upper: 10), y: Axis("v", labels: .categories(["a-rather-long-name"])),
                    marks: [], plotLeft: 150, legendWidth: 190)
    let b = XYChart(id: "b", title: "b", x: Axis("t", lower: 0, upper: 10), y: Axis("ms"),
                    marks: [], legend: [LegendEntry("x", color: Palette.ink, symbol: .swatch)], plotLeft: 150, legendWidth: 190)
    // Same frame: the y axis at x = 150 and the last x tick (t = 10) at 760 - 18 - 190 = 552 in both.
    for svg in [a.svg().xml(), b.svg().xml()] {
        #expect(svg.contains("<line x1=\"150\" y1=\"16\" x2=\"150\""))
        #expect(svg.contains("<line x1=\"552\" y1=\"16\" x2=\"552\""))
    }
}
