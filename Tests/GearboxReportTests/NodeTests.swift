// Tests for Markup/Node's own tree and serialiser: the `el` builders, attribute order, escaping of
// text and attribute values as they are written, XML vs HTML forms of empty, void and foreign
// (`<svg>`) elements, and verbatim trusted markup. (MarkupTests covers the escaper functions and
// identifiers on their own.)

import Testing
@testable import GearboxReport

@Suite struct NodeTests {
    // MARK: - Builders

    @Test func elementBuilderKeepsNameAttributesAndChildren() {
        let node = Node.el("g", [("id", "a"), ("class", "b")], [.text("t"), .trusted("<!-- c -->")])
        #expect(node == .element(name: "g", attributes: [Node.Attribute("id", "a"), Node.Attribute("class", "b")],
                                 children: [.text("t"), .trusted("<!-- c -->")]))
    }

    @Test func textBuilderMakesOneTextChild() {
        #expect(Node.el("title", [("lang", "en")], text: "Hi") ==
            .element(name: "title", attributes: [Node.Attribute("lang", "en")], children: [.text("Hi")]))
        #expect(Node.el("p") == .element(name: "p", attributes: [], children: []))
    }

    @Test func attributeInitialiserSetsNameAndValue() {
        let attribute = Node.Attribute("data-x", "1")
        #expect(attribute.name == "data-x")
        #expect(attribute.value == "1")
        #expect(attribute != Node.Attribute("data-x", "2"))
    }

    // MARK: - Attribute order

    @Test func attributesAreWrittenInTheOrderGivenNotSorted() {
        let node = Node.el("rect", [("y", "2"), ("x", "1"), ("width", "3"), ("fill", "red")])
        #expect(node.xml() == "<rect y=\"2\" x=\"1\" width=\"3\" fill=\"red\"/>")
        #expect(node.html() == "<rect y=\"2\" x=\"1\" width=\"3\" fill=\"red\"></rect>")
    }

    @Test func repeatedAttributeNamesAreAllWrittenInOrder() {
        // The tree does not deduplicate: what the caller gives is what is written.
        #expect(Node.el("a", [("k", "1"), ("k", "2")]).xml() == "<a k=\"1\" k=\"2\"/>")
    }

    @Test func differentAttributeOrderMeansDifferentNodes() {
        #expect(Node.el("a", [("x", "1"), ("y", "2")]) != Node.el("a", [("y", "2"), ("x", "1")]))
    }

    // MARK: - Escaping while rendering

    @Test func textChildrenAreEscapedInBothForms() {
        let node = Node.el("p", text: "a < b && c > \"d\" 'e'")
        let expected = "<p>a &lt; b &amp;&amp; c &gt; \"d\" 'e'</p>"
        #expect(node.html() == expected)
        #expect(node.xml() == expected)
    }

    @Test func attributeValuesEscapeQuotesAndWhitespaceButTextDoesNot() {
        let value = "x\"y'z\n\t\r<&>"
        let node = Node.el("text", [("title", value)], text: value)
        #expect(node.xml() == "<text title=\"x&quot;y&#39;z&#10;&#9;&#13;&lt;&amp;&gt;\">x\"y'z\n\t\r&lt;&amp;&gt;</text>")
    }

    @Test func hostileAttributeValueCannotCloseTheTag() {
        let node = Node.el("img", [("alt", "\" onerror=\"alert(1)")])
        #expect(node.html() == "<img alt=\"&quot; onerror=&quot;alert(1)\">")
    }

    @Test func charactersXMLForbidsAreDroppedFromTextAndAttributes() {
        let node = Node.el("t", [("a", "1\u{0}2\u{1F}3")], text: "4\u{7}5\u{FFFF}6")
        #expect(node.xml() == "<t a=\"123\">456</t>")
    }

    @Test func nonASCIITextPassesThroughUnchanged() {
        #expect(Node.el("span", text: "µs — é 😀").html() == "<span>µs — é 😀</span>")
    }

    @Test func aBareTextNodeRendersEscapedAndATrustedNodeVerbatim() {
        #expect(Node.text("1 < 2").xml() == "1 &lt; 2")
        #expect(Node.text("1 < 2").html() == "1 &lt; 2")
        #expect(Node.trusted("<!DOCTYPE html>").html() == "<!DOCTYPE html>")
        #expect(Node.trusted("a & b").xml() == "a & b")
    }

    // MARK: - Empty, void and foreign elements

    @Test(arguments: ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"])
    func voidElementsHaveNoEndTagInHTMLAndSelfCloseInXML(name: String) {
        let node = Node.el(name, [("a", "1")])
        #expect(node.html() == "<\(name) a=\"1\">")
        #expect(node.xml() == "<\(name) a=\"1\"/>")
    }

    @Test(arguments: ["div", "p", "span", "script", "td", "g"])
    func emptyOrdinaryElementsGetAnEndTagInHTMLAndSelfCloseInXML(name: String) {
        #expect(Node.el(name).html() == "<\(name)></\(name)>")
        #expect(Node.el(name).xml() == "<\(name)/>")
    }

    @Test func anEmptySVGSelfClosesEvenInHTML() {
        #expect(Node.el("svg", [("width", "1")]).html() == "<svg width=\"1\"/>")
    }

    @Test func everythingInsideInlineSVGIsWrittenXMLStyle() {
        // Inside <svg>, even a name HTML treats as void self-closes, and empty elements self-close.
        let node = Node.el("div", [], [
            .el("svg", [], [.el("g", [], [.el("br"), .el("title")]), .el("p")]),
            .el("br"), .el("p"),
        ])
        #expect(node.html() == "<div><svg><g><br/><title/></g><p/></svg><br><p></p></div>")
    }

    @Test func childrenAreWrittenInOrderAndNestedCorrectly() {
        let node = Node.el("ul", [("class", "list")], [
            .el("li", text: "one"), .text(" "), .el("li", [], [.el("b", text: "two"), .text("!")]),
        ])
        let expected = "<ul class=\"list\"><li>one</li> <li><b>two</b>!</li></ul>"
        #expect(node.html() == expected)
        #expect(node.xml() == expected)
    }

    @Test func renderedSVGIsWellFormedXML() {
        let node = Node.el("svg", [("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", "0 0 10 10")], [
            .el("text", [("x", "1"), ("data-note", "a\"b<c>&'\n")], text: "<&> \u{1} ]]>"),
            .el("rect", [("width", "2")]),
        ])
        #expect(xmlError(node.xml()) == nil)
    }
}
