// Tests for Report/MarkdownRenderer on hand-built documents: Markdown escaping, figure paths,
// each block kind's lines (tables with alignment, short rows and hostile cells; figures with and
// without captions; figure rows), and the whole page for a small document, byte for byte.

import Testing
@testable import GearboxReport

/// A chart that draws nothing: the renderer only needs its id and that it is one chart.
private struct StubChart: SVGChart {
    var footnote: String?
    var id: String
    func svg() -> Node { .el("svg", [("id", id)]) }
}

@Suite struct MarkdownRendererTests {
    func figure(_ id: String, title: String = "Latency", charts: Int = 1, caption: String? = nil) -> ReportFigure {
        ReportFigure(id: id, title: title, charts: (0..<charts).map { StubChart(id: "c\($0)") }, source: "emulated", provenance: "device vm",
                     caption: caption)
    }

    // MARK: - Escaping

    @Test func markdownSyntaxCharactersAreBackslashEscaped() {
        #expect(MarkdownRenderer.escape("a*b_c`d[e]f|g#h!i\\j") == "a\\*b\\_c\\`d\\[e\\]f\\|g\\#h\\!i\\\\j")
    }

    @Test func htmlIsEntityEscaped() {
        #expect(MarkdownRenderer.escape("<img src=x onerror=y> & co") == "&lt;img src=x onerror=y&gt; &amp; co")
    }

    @Test func plainTextAndPunctuationOutsideTheSyntaxSetAreUnchanged() {
        let text = "Cortex-A72 (1.5 GHz): 12.5 ms, 3/4 \"ok\" 'yes' µs é"
        #expect(MarkdownRenderer.escape(text) == text)
    }

    @Test func controlCharactersAreDroppedButNewlinesKept() {
        #expect(MarkdownRenderer.escape("a\u{0}b\u{1B}c\nd\te") == "abc\nd\te")
    }

    // MARK: - Figure paths

    @Test func aSingleChartFigureHasOneUnnumberedFile() {
        #expect(MarkdownRenderer.figurePath(figure("lat"), chart: 0) == "figures/lat.svg")
    }

    @Test func aMultiChartFigureNumbersItsFilesFromOne() {
        let two = figure("lat", charts: 2)
        #expect(MarkdownRenderer.figurePath(two, chart: 0) == "figures/lat-1.svg")
        #expect(MarkdownRenderer.figurePath(two, chart: 1) == "figures/lat-2.svg")
    }

    @Test func figurePathsUseTheSanitisedIdentifier() {
        #expect(MarkdownRenderer.figurePath(figure("Switch Cost (cold)"), chart: 0) == "figures/switch-cost-cold.svg")
    }

    // MARK: - Blocks

    @Test func paragraphAndNoteBlocks() {
        #expect(MarkdownRenderer.render(.paragraph("Uses *all* cores")) == ["Uses \\*all\\* cores"])
        #expect(MarkdownRenderer.render(.note("no <cpufreq>")) == ["> **Note:** no &lt;cpufreq&gt;"])
    }

    @Test func factsAreABoldLabelledList() {
        let lines = MarkdownRenderer.render(.facts([Fact("Cores", "2"), Fact("CPU_model", "A|B")]))
        #expect(lines == ["- **Cores:** 2", "- **CPU\\_model:** A\\|B"])
    }

    @Test func bulletsHaveATitleABlankLineAndItems() {
        let lines = MarkdownRenderer.render(.bullets(title: "Notes", items: ["one", "two #2"]))
        #expect(lines == ["**Notes**", "", "- one", "- two \\#2"])
    }

    @Test func bulletsWithoutItemsAreJustTheTitle() {
        #expect(MarkdownRenderer.render(.bullets(title: "Notes", items: [])) == ["**Notes**", ""])
    }

    @Test func tableRightAlignsNumericColumnsAndPadsShortRows() {
        let table = ReportTable(caption: "Per variant", header: ["Variant", "ms", "MB"],
                                rows: [["dense", "1.5", "2"], ["csr"]], numericColumns: [1, 2])
        #expect(MarkdownRenderer.render(.table(table)) == [
            "*Per variant*",
            "",
            "| Variant | ms | MB |",
            "| --- | ---: | ---: |",
            "| dense | 1.5 | 2 |",
            "| csr |   |   |",
        ])
    }

    @Test func tableCellsAreEscapedAndFlattenedToOneLine() {
        let table = ReportTable(caption: "t", header: ["a|b"], rows: [[TableCell("x\ny\rz", emphasis: .bad)], [""]])
        #expect(MarkdownRenderer.tableLines(table) == ["*t*", "", "| a\\|b |", "| --- |", "| x y z |", "|   |"])
    }

    @Test func extraCellsBeyondTheHeaderAreLeftOut() {
        let table = ReportTable(caption: "t", header: ["a"], rows: [["1", "2", "3"]])
        #expect(MarkdownRenderer.tableLines(table).last == "| 1 |")
    }

    @Test func cellOfEmptyOrOnlyDroppedCharactersIsASpace() {
        #expect(MarkdownRenderer.cell("") == " ")
        #expect(MarkdownRenderer.cell("\u{0}\u{1}") == " ")
        #expect(MarkdownRenderer.cell("a\nb") == "a b")
    }

    @Test func figureWithCaptionLinksEachChartThenCaptionThenSource() {
        let lines = MarkdownRenderer.render(.figure(figure("lat", title: "P99 [ms]", charts: 2, caption: "Lower is _better_")))
        #expect(lines == [
            "**Figure: P99 \\[ms\\]**",
            "",
            "![P99 \\[ms\\]](figures/lat-1.svg)",
            "![P99 \\[ms\\]](figures/lat-2.svg)",
            "",
            "Lower is \\_better\\_",
            "",
            "*Source: emulated · device vm*",
        ])
    }

    @Test func figureWithoutOrWithEmptyCaptionHasNoCaptionLines() {
        let expected = ["**Figure: Latency**", "", "![Latency](figures/lat.svg)", "", "*Source: emulated · device vm*"]
        #expect(MarkdownRenderer.figureLines(figure("lat")) == expected)
        #expect(MarkdownRenderer.figureLines(figure("lat", caption: "")) == expected)
    }

    @Test func figureRowSeparatesFiguresWithOneBlankLineAndNoTrailingOne() {
        let lines = MarkdownRenderer.render(.figureRow([figure("cold", title: "Cold"), figure("warm", title: "Warm")]))
        #expect(lines == [
            "**Figure: Cold**", "", "![Cold](figures/cold.svg)", "", "*Source: emulated · device vm*",
            "",
            "**Figure: Warm**", "", "![Warm](figures/warm.svg)", "", "*Source: emulated · device vm*",
        ])
    }

    @Test func anEmptyFigureRowHasNoLines() {
        #expect(MarkdownRenderer.render(.figureRow([])).isEmpty)
    }

    // MARK: - Whole document

    @Test func smallDocumentRendersExactly() {
        let document = ReportDocument(
            title: "Gearbox report: *tiny*", subtitle: "2 variants", controllerBadge: "real",
            headline: [Fact("Device", "vm-2c"), Fact("Commit", "1a2b")],
            provenanceNotes: ["synthetic test fixture"],
            sections: [
                ReportSection(id: "Device", title: "Device & CPU", blocks: [.paragraph("Two cores."), .note("No counters.")]),
                ReportSection(id: "latency", title: "Latency", blocks: []),
            ])
        let expected = """
            # Gearbox report: \\*tiny\\*

            2 variants

            **Frequency control: REAL** — Real DVFS: the CPU really ran at each frequency (cpufreq).

            **Device:** vm-2c · **Commit:** 1a2b

            > synthetic test fixture

            [Device &amp; CPU](#device) · [Latency](#latency)

            <a id="device"></a>

            ## Device &amp; CPU

            Two cores.

            > **Note:** No counters.

            <a id="latency"></a>

            ## Latency

            ---

            *Written by gearbox report; open index.html for the charts with hover details.*

            """
        #expect(MarkdownRenderer.render(document) == expected)
    }

    @Test func unknownControllerBadgeIsUppercasedAndExplainedGenerically() {
        let document = ReportDocument(title: "t", subtitle: "s", controllerBadge: "custom_x", headline: [], sections: [])
        let markdown = MarkdownRenderer.render(document)
        #expect(markdown.contains("**Frequency control: CUSTOM\\_X** — Frequency control: custom\\_x."))
        #expect(markdown.hasSuffix("hover details.*\n"))
    }

    @Test func everyProvenanceNoteIsItsOwnQuote() {
        let document = ReportDocument(title: "t", subtitle: "s", controllerBadge: "simulated", headline: [],
                                      provenanceNotes: ["one", "two", "three <x>"], sections: [])
        let markdown = MarkdownRenderer.render(document)
        #expect(markdown.contains("> one\n\n> two\n\n> three &lt;x&gt;\n\n"))
    }
}
