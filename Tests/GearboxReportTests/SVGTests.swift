// Tests for GearboxReport/Charts/SVG: each element builder's exact markup (attribute order is
// part of the byte-for-byte deterministic output), coordinate rounding, the path pen lifting over
// non-finite points, the marker shapes' geometry, and label truncation and width estimates.

import Foundation
import Testing

@testable import GearboxReport

@Suite struct SVGTests {
    static let red = Color(red: 0xc8, green: 0x1e, blue: 0x1e)  // "#c81e1e"
    static let blue = Color(red: 0x00, green: 0x0a, blue: 0xff)  // "#000aff"

    // MARK: Stroke patterns

    @Test func solidLinesHaveNoDashPatternAndTheOthersTheirOwn() {
        #expect(StrokeDash.solid.dashArray == nil)
        #expect(StrokeDash.dashed.dashArray == "6 4")
        #expect(StrokeDash.dotted.dashArray == "1.5 3")
    }

    // MARK: root

    @Test func theRootIsAScalableAccessibleSVGWithTitleDescriptionAndWhiteBackground() {
        let svg = SVG.root(id: "lat", width: 640, height: 360.5, title: "Latency <ms>", description: "p50 & p99",
                           [.el("g", [("id", "child")])])
        let expected = "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"lat\" class=\"chart\" viewBox=\"0 0 640 360.5\""
            + " width=\"640\" height=\"360.5\" role=\"img\" aria-labelledby=\"lat-title\" font-family=\"\(SVG.fontFamily)\""
            + " font-size=\"12\" fill=\"#1f2937\">"
            + "<title id=\"lat-title\">Latency &lt;ms&gt;</title><desc id=\"lat-desc\">p50 &amp; p99</desc>"
            + "<rect x=\"0\" y=\"0\" width=\"640\" height=\"360.5\" fill=\"#ffffff\"/><g id=\"child\"/></svg>"
        #expect(svg.xml().replacingOccurrences(of: "&#39;", with: "'") == expected)
        #expect(xmlError(svg.xml()) == nil)
    }

    @Test func aRootWithoutDescriptionHasNoDescElement() {
        let xml = SVG.root(id: "c", width: 10, height: 10, title: "t", description: nil, []).xml()
        #expect(!xml.contains("<desc"))
        #expect(xml.contains("<title id=\"c-title\">t</title><rect "))
        #expect(xml.hasSuffix("fill=\"#ffffff\"/></svg>"))
    }

    // MARK: text

    @Test func textWithDefaultsHasOnlyItsPosition() {
        #expect(SVG.text("a<b", x: 1.004, y: -0.001).xml() == "<text x=\"1\" y=\"0\">a&lt;b</text>")
    }

    @Test func textOptionsAppearInAFixedOrderAndRotationTurnsAboutTheAnchorPoint() {
        let node = SVG.text("Axis", x: 10, y: 20.25, size: 10.5, anchor: .middle, weight: "600", color: Self.red,
                            rotate: -90, baseline: "hanging")
        #expect(node.xml() == "<text x=\"10\" y=\"20.25\" font-size=\"10.5\" text-anchor=\"middle\" font-weight=\"600\""
            + " fill=\"#c81e1e\" dominant-baseline=\"hanging\" transform=\"rotate(-90 10 20.25)\">Axis</text>")
        #expect(SVG.text("e", x: 0, y: 0, anchor: .end).xml() == "<text x=\"0\" y=\"0\" text-anchor=\"end\">e</text>")
    }

    // MARK: line

    @Test(arguments: [
        (StrokeDash.solid, ""), (.dashed, " stroke-dasharray=\"6 4\""), (.dotted, " stroke-dasharray=\"1.5 3\""),
    ])
    func aLineHasItsEndsStrokeAndDashPattern(dash: StrokeDash, dashAttribute: String) {
        let node = SVG.line(x1: 0, y1: 1.5, x2: 100.1262, y2: 2, color: Self.blue, width: 0.75, dash: dash)
        #expect(node.xml() == "<line x1=\"0\" y1=\"1.5\" x2=\"100.13\" y2=\"2\" stroke=\"#000aff\" stroke-width=\"0.75\"\(dashAttribute)/>")
    }

    @Test func aLineDefaultsToOnePixelWidth() {
        #expect(SVG.line(x1: 0, y1: 0, x2: 1, y2: 1, color: Self.red).xml().contains("stroke-width=\"1\""))
    }

    // MARK: rect

    @Test func aPlainRectIsUnfilledAndNegativeSizesClampToZero() {
        #expect(SVG.rect(x: 5, y: 6, width: -3, height: 4, fill: nil).xml()
            == "<rect x=\"5\" y=\"6\" width=\"0\" height=\"4\" fill=\"none\"/>")
        #expect(SVG.rect(x: 0, y: 0, width: 2, height: -0.5, fill: nil).xml().contains("height=\"0\""))
    }

    @Test func aRectWithEveryOptionHasRadiusFillOpacityStrokeAndTooltip() {
        let node = SVG.rect(x: 1, y: 2, width: 30, height: 40, fill: Self.red, opacity: 0.35, stroke: Self.blue, radius: 3,
                            tooltip: "v1 & v2")
        #expect(node.xml() == "<rect x=\"1\" y=\"2\" width=\"30\" height=\"40\" rx=\"3\" fill=\"#c81e1e\" fill-opacity=\"0.35\""
            + " stroke=\"#000aff\" stroke-width=\"1\"><title>v1 &amp; v2</title></rect>")
    }

    // MARK: pathData and path

    @Test func pathDataMovesToTheFirstPointAndDrawsLinesToTheRest() {
        #expect(SVG.pathData([]) == "")
        #expect(SVG.pathData([(3, 4)]) == "M3 4")
        #expect(SVG.pathData([(0, 0), (1.5, 2), (10.004, -7.1262)]) == "M0 0 L1.5 2 L10 -7.13")
    }

    @Test func aNonFinitePointLiftsThePenAndTheNextFinitePointStartsANewSegment() {
        #expect(SVG.pathData([(0, 0), (.nan, 1), (2, 2), (3, 3)]) == "M0 0 M2 2 L3 3")
        #expect(SVG.pathData([(.infinity, 0), (1, 1), (2, .infinity), (-.infinity, 5), (4, 4)]) == "M1 1 M4 4")
        #expect(SVG.pathData([(.nan, .nan), (0, .nan)]) == "")
    }

    @Test func aPathWithoutStrokeOrFillHasNeither() {
        #expect(SVG.path("M0 0 L1 1", stroke: nil).xml() == "<path d=\"M0 0 L1 1\" fill=\"none\"/>")
    }

    @Test func aStrokedFilledDashedPathHasAllItsAttributesInOrder() {
        let node = SVG.path("M0 0", stroke: Self.red, width: 1.25, fill: Self.blue, fillOpacity: 0.2, dash: .dotted)
        #expect(node.xml() == "<path d=\"M0 0\" fill=\"#000aff\" fill-opacity=\"0.2\" stroke=\"#c81e1e\" stroke-width=\"1.25\""
            + " stroke-linejoin=\"round\" stroke-linecap=\"round\" stroke-dasharray=\"1.5 3\"/>")
        #expect(SVG.path("M0 0", stroke: Self.red).xml().contains("stroke-width=\"2\""), "the default width is 2")
    }

    // MARK: Markers (centre (10, 20), diameter 10: r = 5)

    @Test func aCircleIsFilledWithAWhiteOutline() {
        #expect(SVG.marker(.circle, x: 10, y: 20, size: 10, color: Self.red).xml()
            == "<circle cx=\"10\" cy=\"20\" r=\"5\" fill=\"#c81e1e\" stroke=\"#ffffff\" stroke-width=\"1\"/>")
    }

    @Test func aRingIsHollowWithAColouredOutline() {
        #expect(SVG.marker(.ring, x: 10, y: 20, size: 10, color: Self.red).xml()
            == "<circle cx=\"10\" cy=\"20\" r=\"5\" fill=\"#ffffff\" stroke=\"#c81e1e\" stroke-width=\"1.8\"/>")
    }

    @Test func aSquareSpansTheDiameterAroundTheCentre() {
        #expect(SVG.marker(.square, x: 10, y: 20, size: 10, color: Self.red).xml()
            == "<rect x=\"5\" y=\"15\" width=\"10\" height=\"10\" fill=\"#c81e1e\"/>")
    }

    @Test func aDiamondReachesOnePointTwoRadiiFromTheCentre() {
        #expect(SVG.marker(.diamond, x: 10, y: 20, size: 10, color: Self.red).xml()
            == "<path d=\"M10 14 L16 20 L10 26 L4 20 Z\" fill=\"#c81e1e\" stroke=\"#ffffff\" stroke-width=\"1\"/>")
    }

    @Test func aTrianglePointsUp() {
        #expect(SVG.marker(.triangle, x: 10, y: 20, size: 10, color: Self.red).xml()
            == "<path d=\"M10 14 L15.5 24 L4.5 24 Z\" fill=\"#c81e1e\" stroke=\"#ffffff\" stroke-width=\"1\"/>")
    }

    @Test func aCrossIsTwoStrokedDiagonalsWithoutFill() {
        #expect(SVG.marker(.cross, x: 10, y: 20, size: 10, color: Self.red).xml()
            == "<path d=\"M5 15 L15 25 M5 25 L15 15\" fill=\"none\" stroke=\"#c81e1e\" stroke-width=\"2\" stroke-linecap=\"round\"/>")
    }

    @Test(arguments: [MarkerShape.circle, .ring, .cross, .diamond, .square, .triangle])
    func everyMarkerCarriesItsTooltipAsATitleAndIsWellFormed(shape: MarkerShape) {
        let xml = SVG.marker(shape, x: 3.333, y: 4, size: 7, color: Self.blue, tooltip: "p50 <1 ms> & \"fast\"").xml()
        #expect(xml.contains("><title>p50 &lt;1 ms&gt; &amp; \"fast\"</title></"))
        #expect(xmlError(xml) == nil)
        #expect(!SVG.marker(shape, x: 0, y: 0, size: 7, color: Self.blue).xml().contains("<title>"))
    }

    // MARK: Text helpers

    @Test func truncationKeepsRoomForTheEllipsis() {
        #expect(SVG.truncated("abcdefgh", maxCharacters: 4) == "abc…")
        #expect(SVG.truncated("abcdefgh", maxCharacters: 2) == "a…")
        #expect(SVG.truncated("abcd", maxCharacters: 4) == "abcd")
        #expect(SVG.truncated("", maxCharacters: 3) == "")
        #expect(SVG.truncated("ünïcødé", maxCharacters: 5) == "ünïc…", "counts characters")
    }

    @Test func limitsOfOneOrLessLeaveTheTextAlone() {
        #expect(SVG.truncated("abcdef", maxCharacters: 1) == "abcdef")
        #expect(SVG.truncated("abcdef", maxCharacters: 0) == "abcdef")
        #expect(SVG.truncated("abcdef", maxCharacters: -5) == "abcdef")
    }

    @Test func theWidthEstimateIsAboutHalfAnEmPerCharacter() {
        #expect(abs(SVG.estimatedWidth("abcd", size: 10) - 22.4) < 1e-9)
        #expect(abs(SVG.estimatedWidth("abcdef") - 40.32) < 1e-9, "12 px by default")
        #expect(SVG.estimatedWidth("") == 0)
    }
}
