// Tests for Markup/Node: escaping, identifiers, HTML vs XML serialisation.

import Testing
@testable import GearboxReport

@Test func textEscapingNeutralisesMarkup() {
    let hostile = "<script>alert(\"x\")</script> & ]]> 'q'"
    let escaped = Markup.escapeText(hostile)
    #expect(!escaped.contains("<script>"))
    #expect(escaped == "&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; ]]&gt; 'q'")
}

@Test func attributeEscapingCoversQuotesAndWhitespace() {
    #expect(Markup.escapeAttribute("a\"b'c\nd<e>&") == "a&quot;b&#39;c&#10;d&lt;e&gt;&amp;")
}

@Test func charactersXMLForbidsAreDropped() {
    let text = "ok\u{0}\u{1}\u{8}\u{B}\u{FFFE}\tend"
    #expect(Markup.escapeText(text) == "ok\tend")
    #expect(xmlError(Node.el("t", [("a", text)], text: text).xml()) == nil)
}

@Test func identifiersAreSafeForIdsAndClasses() {
    #expect(Markup.identifier("Switch cost (cold)") == "switch-cost-cold")
    #expect(Markup.identifier("<script>") == "script")
    #expect(Markup.identifier("1.4 GHz") == "x1-4-ghz")
    #expect(Markup.identifier("") == "x")
    #expect(Markup.identifier("\"><img onerror=x>") == "img-onerror-x")
}

@Test func htmlSerialisationUsesVoidElementsAndKeepsSVGSelfClosing() {
    let page = Node.el("div", [], [
        .el("br"), .el("p"),
        .el("svg", [("viewBox", "0 0 1 1")], [.el("rect", [("width", "1")])]),
    ])
    #expect(page.html() == "<div><br><p></p><svg viewBox=\"0 0 1 1\"><rect width=\"1\"/></svg></div>")
    #expect(page.xml() == "<div><br/><p/><svg viewBox=\"0 0 1 1\"><rect width=\"1\"/></svg></div>")
}

@Test func trustedMarkupIsWrittenVerbatimAndTextIsNot() {
    let node = Node.el("style", [], [.trusted("a>b{}")])
    #expect(node.html() == "<style>a>b{}</style>")
    #expect(Node.el("p", text: "a>b").html() == "<p>a&gt;b</p>")
}
