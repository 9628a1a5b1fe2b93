// Tests for the report as a whole (ReportInputs, ReportBuilder and its sections, the HTML and
// Markdown renderers, ReportWriter), from the fixtures in Fixtures/.

import Foundation
import GearboxCore
import GearboxProfiler
import GearboxTestSupport
import Testing
@testable import GearboxReport

func fixtureInputs(validation: Bool = true, device: Bool = true) throws -> ReportInputs {
    try ReportInputs.load(
        lutPath: Fixtures.path("baseline.lut.json"),
        validationPath: validation ? Fixtures.path("validation") : nil,
        devicePath: device ? Fixtures.path("fixture-vm-2c.json") : nil)
}

func allTables(_ document: ReportDocument) -> [ReportTable] {
    document.sections.flatMap { $0.blocks.compactMap { if case let .table(table) = $0 { return table } else { return nil } } }
}

@Test func reportHasEverySectionInHTMLAndMarkdown() throws {
    let document = ReportBuilder(inputs: try fixtureInputs()).build()
    #expect(document.sections.map(\.id) == ReportDocument.sectionIDs)
    let html = HTMLRenderer.render(document)
    let markdown = MarkdownRenderer.render(document)
    for id in ReportDocument.sectionIDs {
        #expect(html.contains("<section id=\"\(id)\""), "HTML lacks \(id)")
        #expect(markdown.contains("<a id=\"\(id)\"></a>"), "Markdown lacks \(id)")
    }
    #expect(html.contains("badge-emulated"))
    #expect(!html.contains("<script"))
    #expect(!html.contains("http://") || html.components(separatedBy: "http://").dropFirst().allSatisfy { $0.hasPrefix("www.w3.org/2000/svg") },
            "no external references besides the SVG namespace")
}

@Test func markdownCarriesTheSameTablesAsHTML() throws {
    let document = ReportBuilder(inputs: try fixtureInputs()).build()
    let html = HTMLRenderer.render(document)
    let markdown = MarkdownRenderer.render(document)
    let tables = allTables(document)
    #expect(tables.count >= 10)
    for table in tables {
        #expect(html.contains(Markup.escapeText(table.caption)))
        #expect(markdown.contains("*" + MarkdownRenderer.escape(table.caption) + "*"))
        let header = "| " + table.header.map { MarkdownRenderer.escape($0) }.joined(separator: " | ") + " |"
        #expect(markdown.contains(header), "Markdown lacks the header of '\(table.caption)'")
    }
}

@Test func everyFigureSaysWhereItsNumbersCameFrom() throws {
    let document = ReportBuilder(inputs: try fixtureInputs()).build()
    let figures = document.sections.flatMap { section in
        section.blocks.flatMap { block -> [ReportFigure] in
            switch block {
            case let .figure(figure): return [figure]
            case let .figureRow(row): return row
            default: return []
            }
        }
    }
    #expect(figures.count >= 10)
    for figure in figures {
        #expect(["real", "emulated", "simulated", "predicted", "engine accounting"].contains { figure.source.contains($0) }, "\(figure.id): \(figure.source)")
        #expect(figure.provenance.contains("device fixture-vm-2c") && figure.provenance.contains("commit "), "\(figure.id)")
        for chart in figure.standaloneCharts {
            let svg = chart.xml()
            #expect(xmlError(svg) == nil, "\(figure.id) is not well-formed")
            #expect(svg.contains("class=\"footnote\""), "\(figure.id)'s standalone SVG is unlabelled")
        }
    }
    let latency = try #require(figures.first { $0.id == "latency-vs-frequency" })
    #expect(latency.source.contains("predicted"), "the LUT has predicted cells")
}

@Test func writerProducesPageMarkdownAndFigureFiles() throws {
    let directory = ScratchDirectory("report-tests")
    let document = ReportBuilder(inputs: try fixtureInputs()).build()
    let written = try ReportWriter.write(document, to: directory.path + "/run")
    #expect(FileManager.default.fileExists(atPath: written.html))
    #expect(FileManager.default.fileExists(atPath: written.markdown))
    #expect(written.figures.count >= 10)
    let markdown = try String(contentsOfFile: written.markdown, encoding: .utf8)
    for figure in written.figures {
        let relative = String(figure.dropFirst(written.directory.count + 1))
        #expect(markdown.contains("](\(relative))"), "report.md does not link \(relative)")
        #expect(xmlError(try String(contentsOfFile: figure, encoding: .utf8)) == nil)
    }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: written.directory).filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty)
}

@Test func reportIsDeterministic() throws {
    let inputs = try fixtureInputs()
    #expect(HTMLRenderer.render(ReportBuilder(inputs: inputs).build()) == HTMLRenderer.render(ReportBuilder(inputs: inputs).build()))
}

@Test func longTimelinesAreDownsampledAndSaySo() throws {
    let document = ReportBuilder(inputs: try fixtureInputs(), timelineBuckets: 200).build()
    let timeline = try #require(document.sections.first { $0.id == "timeline" })
    #expect(timeline.blocks.contains { if case let .paragraph(text) = $0 { return text.contains("200 time buckets") } else { return false } })
    let html = HTMLRenderer.render(document)
    #expect(html.contains("target p99 ≤ 2.2 ms"))
}

@Test func hostileVariantNamesAreEscapedEverywhere() throws {
    var inputs = try fixtureInputs()
    let evil = "<img src=x onerror=alert(1)>|*_`[x](javascript:1)"
    let original = inputs.lut.variants[0].name
    inputs.lut.variants[0].name = evil
    inputs.lut.switchCostNs[evil] = inputs.lut.switchCostNs[original]
    let document = ReportBuilder(inputs: inputs).build()
    let html = HTMLRenderer.render(document)
    #expect(!html.contains("<img src=x"))
    #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
    let markdown = MarkdownRenderer.render(document)
    #expect(!markdown.contains("<img"))
    #expect(!markdown.contains("[x](javascript"))
    #expect(markdown.contains("\\|\\*\\_\\`\\[x\\](javascript:1)"))
    for section in document.sections {
        for block in section.blocks {
            if case let .figure(figure) = block { for chart in figure.standaloneCharts { #expect(xmlError(chart.xml()) == nil) } }
            if case let .figureRow(row) = block { for figure in row { for chart in figure.standaloneCharts { #expect(xmlError(chart.xml()) == nil) } } }
        }
    }
}

@Test func missingAccuracyFallsBackToMACsAndSaysSo() throws {
    var inputs = try fixtureInputs()
    for index in inputs.lut.variants.indices { inputs.lut.variants[index].accuracy = nil }
    let document = ReportBuilder(inputs: inputs).build()
    let pareto = try #require(document.sections.first { $0.id == "pareto" })
    #expect(pareto.blocks.contains { if case let .note(text) = $0 { return text.contains("MACs") && text.contains("not accuracy") } else { return false } })
    #expect(HTMLRenderer.render(document).contains("MACs per inference (millions)"))
}

@Test func partlyMissingAccuracyNamesTheVariantsLeftOut() throws {
    var inputs = try fixtureInputs()
    inputs.lut.variants[3].accuracy = nil
    let pareto = try #require(ReportBuilder(inputs: inputs).build().sections.first { $0.id == "pareto" })
    #expect(pareto.blocks.contains { if case let .note(text) = $0 { return text.contains("imp-csr-90") } else { return false } })
}

@Test func withoutValidationOrDeviceTheSectionsStayAndExplain() throws {
    let document = ReportBuilder(inputs: try fixtureInputs(validation: false, device: false)).build()
    #expect(document.sections.map(\.id) == ReportDocument.sectionIDs)
    for id in ["device", "timeline", "policies"] {
        let section = try #require(document.sections.first { $0.id == id })
        #expect(section.blocks.contains { if case let .note(text) = $0 { return text.contains("--") } else { return false } }, "\(id) says which flag to pass")
    }
}

@Test func countersTableShowsOnlyCountedCounters() throws {
    let document = ReportBuilder(inputs: try fixtureInputs()).build()
    let counters = try #require(document.sections.first { $0.id == "counters" })
    let tables = counters.blocks.compactMap { if case let .table(table) = $0 { return table } else { return nil } }
    let header = try #require(tables.first?.header)
    #expect(header.contains("task-clock"))
    #expect(!header.contains("cycles") && !header.contains("instructions"))
    #expect(counters.blocks.contains { if case let .note(text) = $0 { return text.contains("cycles") } else { return false } })
}

@Test func paretoTableListsTheFrontFastestFirst() throws {
    let document = ReportBuilder(inputs: try fixtureInputs()).build()
    let pareto = try #require(document.sections.first { $0.id == "pareto" })
    let table = try #require(pareto.blocks.compactMap { if case let .table(table) = $0 { return table } else { return nil } }.first)
    #expect(table.rows.count == 3, "lowest, middle and highest frequency")
    #expect(table.rows.last?[1].text == "masked-0.25 → structured-75 → ubp-80 → structured-50 → dense-full")
}

@Test func corruptLookupTableIsAOneLineErrorForTheReport() {
    do {
        _ = try ReportInputs.load(lutPath: Fixtures.path("corrupt.lut.json"))
        Issue.record("a truncated table must be rejected")
    } catch {
        let message = "\(error)"
        #expect(message.contains("corrupt.lut.json is malformed"))
        #expect(!message.contains("\n"))
    }
}

@Test func validationDirectoryWithoutSummaryIsRejected() throws {
    let directory = ScratchDirectory("report-tests")
    #expect(throws: ReportError.validationNotFound(path: directory.path)) {
        try ReportInputs.load(lutPath: Fixtures.path("baseline.lut.json"), validationPath: directory.path)
    }
}

@Test func defaultOutputGoesBesideTheValidation() throws {
    #expect(try fixtureInputs().defaultOutputDirectory == Fixtures.path("validation"))
    #expect(try fixtureInputs(validation: false).defaultOutputDirectory == "Reports/fixture-vm-2c-fashion-cnn")
}

@Test func hybridCPUKindsGetATableAndCountersGroupByReason() throws {
    var inputs = try fixtureInputs()
    inputs.device?.cpuKinds = [
        .init(cpus: [0, 1, 2, 3], efficiency: 0, infos: ["CoreType": "IntelAtom"]),
        .init(cpus: [4, 5], efficiency: 1, infos: ["CoreType": "IntelCore"]),
    ]
    let device = try #require(ReportBuilder(inputs: inputs).build().sections.first { $0.id == "device" })
    let kinds = try #require(device.blocks.compactMap { if case let .table(table) = $0, table.caption.hasPrefix("CPU kinds") { return table } else { return nil } }.first)
    #expect(kinds.rows.map { $0[0].text } == ["0-3", "4-5"])
    let facts = device.blocks.compactMap { if case let .facts(facts) = $0 { return facts } else { return nil } }.flatMap { $0 }
    let unsupported = try #require(facts.first { $0.label == "Counters unsupported" })
    #expect(unsupported.value == "cycles, instructions, cache-misses, branch-misses: no hardware PMU in this VM (perf_event_open: ENOENT)")
}

@Test func cpuListsUseRanges() {
    #expect(CPUList.text([0, 1, 2, 3, 6, 8, 9]) == "0-3,6,8-9")
    #expect(CPUList.text([]) == "none")
}

@Test func provenanceNotesReachThePageAndTheMarkdown() throws {
    let document = ReportBuilder(inputs: try fixtureInputs()).build()
    #expect(document.provenanceNotes.contains { $0.hasPrefix("synthetic test fixture") })
    #expect(HTMLRenderer.render(document).contains("synthetic test fixture"))
    #expect(MarkdownRenderer.render(document).contains("> synthetic test fixture"))
}

/// The fixtures with energy and temperature added: energy in every cell (power × mean, labelled as
/// the cell), a validation whose summary has energy per policy and whose timeline has energy_j and
/// temperature_c.
func energyInputs() throws -> ReportInputs {
    var inputs = try fixtureInputs()
    for v in inputs.lut.variants.indices {
        for (key, cell) in inputs.lut.variants[v].latency {
            let watts = 0.15 + 0.6 * Double(Int(key) ?? 0) / 2_400_000
            inputs.lut.variants[v].latency[key]?.energyPerInferenceJ = watts * cell.meanNs.seconds
            inputs.lut.variants[v].latency[key]?.temperatureEndC = 40 + 20 * Double(Int(key) ?? 0) / 2_400_000
        }
    }
    var validation = try #require(inputs.validation)
    validation.summary.energySource = .simulated
    for name in validation.summary.policies.keys { validation.summary.policies[name]?.energyPerInferenceJ = name == "gearbox" ? 0.002 : 0.003 }
    var timeline = try #require(validation.timeline)
    for i in timeline.rows.indices {
        timeline.rows[i].energyJ = 0.002
        timeline.rows[i].temperatureC = 50 + timeline.rows[i].timeMs / 1000
    }
    validation.timeline = timeline
    inputs.validation = validation
    return inputs
}

@Test func energyAndTemperatureSectionsAppearOnlyWithTheirFigures() throws {
    let plain = ReportBuilder(inputs: try fixtureInputs()).build()
    #expect(!plain.sections.contains { ReportDocument.optionalSectionIDs.contains($0.id) })
    let document = ReportBuilder(inputs: try energyInputs()).build()
    let ids = document.sections.map(\.id)
    #expect(ids == ["device", "latency", "pareto", "energy", "switch-cost", "memory", "counters", "timeline", "temperature", "policies"])
    let html = HTMLRenderer.render(document)
    for id in ["energy-vs-frequency", "policy-energy", "temperature-over-trace"] {
        #expect(html.contains(id), "HTML lacks \(id)")
    }
    let markdown = MarkdownRenderer.render(document)
    #expect(markdown.contains("\n## Energy\n") && markdown.contains("\n## Temperature\n"))
    #expect(html.contains("energy: simulated"))
}

@Test func timelineEnergyAndTemperatureColumnsAreReadWhenPresent() throws {
    let csv = "time_ms,khz,policy,variant,latency_ns,violation,switch,switch_ns,energy_j,temperature_c\n"
        + "0,800000,gearbox,a,1000,0,0,0,0.0021,61.5\n1,800000,gearbox,a,1000,0,0,0,,\n"
    let file = try TimelineFile.parse(csv, path: "t.csv")
    #expect(file.rows[0].energyJ == 0.0021 && file.rows[0].temperatureC == 61.5)
    #expect(file.rows[1].energyJ == nil && file.rows[1].temperatureC == nil)
    #expect(throws: ReportError.self) {
        try TimelineFile.parse(csv.replacingOccurrences(of: "61.5", with: "warm"), path: "t.csv")
    }
}
