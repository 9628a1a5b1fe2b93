// Tests for XYChart: the data extent (non-finite and, on a log axis, non-positive values left
// out; zero included on request), fixed and categorical scales, one marker per point, rule
// labels only when the rule is in range, and point labels that do not land on each other.

import Foundation
import Testing
@testable import GearboxReport

private func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

private func chart(x: Axis = Axis("x"), y: Axis = Axis("y"), marks: [Mark]) -> XYChart {
    XYChart(id: "c", title: "t", x: x, y: y, marks: marks)
}

@Suite struct XYChartTests {
    @Test func extentLeavesOutNonFiniteValues() throws {
        let c = chart(marks: [.line(points: [Point(x: 1, y: 5), Point(x: .nan, y: 2), Point(x: 4, y: .infinity)], color: Palette.ink)])
        let horizontal = try #require(c.extent(horizontal: true))
        let vertical = try #require(c.extent(horizontal: false))
        #expect(horizontal == (1, 4))
        #expect(vertical == (2, 5))
    }

    @Test func extentOnALogAxisLeavesOutZeroAndNegatives() throws {
        let c = chart(y: Axis("y", kind: .logarithmic),
                      marks: [.points(points: [Point(x: 0, y: 0), Point(x: 1, y: -3), Point(x: 2, y: 0.5), Point(x: 3, y: 40)], color: Palette.ink)])
        #expect(try #require(c.extent(horizontal: false)) == (0.5, 40))
        #expect(try #require(c.extent(horizontal: true)) == (0, 3))  // the linear x axis keeps 0
    }

    @Test func extentIncludesZeroOnlyWhenAsked() throws {
        let marks: [Mark] = [.points(points: [Point(x: 3, y: 7), Point(x: 5, y: 9)], color: Palette.ink)]
        #expect(try #require(chart(marks: marks).extent(horizontal: false)) == (7, 9))
        #expect(try #require(chart(y: Axis("y", includesZero: true), marks: marks).extent(horizontal: false)) == (0, 9))
    }

    @Test func rulesCountVerticallyAndSpansBothWays() throws {
        let c = chart(marks: [
            .horizontalRule(y: 100, color: Palette.target, label: nil),
            .spans([Span(x0: -2, x1: 6, y0: 1, y1: 3, color: Palette.series(0))]),
        ])
        #expect(try #require(c.extent(horizontal: true)) == (-2, 6))
        #expect(try #require(c.extent(horizontal: false)) == (1, 100))
        #expect(chart(marks: []).extent(horizontal: true) == nil)
    }

    @Test func fixedEndsAreKeptExactlyAndCategoriesSitOnIntegers() {
        let c = chart(marks: [])
        let fixed = c.scale(for: Axis("x", lower: 3, upper: 17), extent: (0, 100), range: (0, 140))
        #expect(fixed.position(of: 3) == 0)
        #expect(fixed.position(of: 17) == 140)
        #expect(fixed.position(of: 10) == 70)
        let categories = Axis("v", labels: .categories(["a", "b", "c", "d"]))
        let scale = c.scale(for: categories, extent: nil, range: (0, 400))
        // Domain −0.5…3.5: category k is centred at 50 + 100·k.
        #expect(scale.position(of: 0) == 50 && scale.position(of: 3) == 350)
        #expect(c.ticks(for: categories, scale: scale) == [0, 1, 2, 3])
        #expect(c.tickLabel(2.2, axis: categories, step: 1) == "c")
        #expect(c.tickLabel(4, axis: categories, step: 1) == "")
        #expect(c.tickLabel(-1, axis: categories, step: 1) == "")
    }

    @Test func everyPointGetsItsMarkerAndTooltip() {
        let points = (0..<7).map { Point(x: Double($0), y: Double($0 * $0)) }
        let tips = (0..<7).map { "point-\($0)" }
        let svg = chart(marks: [.points(points: points, color: Palette.series(2), tooltips: tips)]).svg().xml()
        #expect(xmlError(svg) == nil)
        for tip in tips { #expect(occurrences(of: "<title>\(tip)</title>", in: svg) == 1, "\(tip)") }
    }

    @Test func categoryNamesAreTheTickLabels() {
        let y = Axis("variant", labels: .categories(["dense", "csr-80", "masked-50"]))
        let svg = chart(y: y, marks: [.points(points: [Point(x: 1, y: 0), Point(x: 2, y: 2)], color: Palette.ink)]).svg().xml()
        for name in ["dense", "csr-80", "masked-50"] { #expect(svg.contains(">\(name)<"), "\(name)") }
    }

    @Test func aRuleLabelIsDrawnOnlyWhenTheRuleIsInRange() {
        let marks: [Mark] = [
            .points(points: [Point(x: 0, y: 0), Point(x: 1, y: 10)], color: Palette.ink),
            .horizontalRule(y: 5, color: Palette.target, label: "inside-target"),
            .horizontalRule(y: 50, color: Palette.target, label: "outside-target"),
        ]
        let svg = chart(y: Axis("y", lower: 0, upper: 10), marks: marks).svg().xml()
        #expect(svg.contains(">inside-target<"))
        #expect(!svg.contains("outside-target"))
    }

    @Test func labelsAtTheSamePointTakeDifferentSpots() {
        let frame = XYChart.Frame(left: 0, top: 0, right: 400, bottom: 300)
        let nodes = LabelPlacer.place([((200, 150), "same"), ((200, 150), "same"), ((200, 150), "same")],
                                      avoiding: [], within: frame, color: Palette.ink)
        let rendered = nodes.map { $0.xml() }
        #expect(rendered.count == 3)
        #expect(Set(rendered).count == 3, "three labels at one point must not be drawn on top of each other")
    }
}
