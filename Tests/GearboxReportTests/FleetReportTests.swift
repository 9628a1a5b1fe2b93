// The fleet report on a results store (SQLite; PostgreSQL gives the same report) holding three devices (one measured twice, one
// with energy) and a failed run: every section, shared axes, the policy's choices, drift as
// `lut compare` computes it, the failure's reason; and the page in headless Chromium.

import Foundation
import GearboxCore
import GearboxRuntime
import GearboxStore
import GearboxTestSupport
import Testing
@testable import GearboxReport

/// A store with the baseline on fixture-vm-2c (then the candidate: a second run), and two other
/// boards — one 3× slower with an energy sensor, one 0.5× — plus one failure.
private func threeDeviceStore(_ scratch: ScratchDirectory) throws -> ResultsStore {
    try fillThreeDevices(try ResultsStore.open(.sqlite(path: scratch.file("store.sqlite"))))
}

private func fillThreeDevices(_ store: ResultsStore) throws -> ResultsStore {
    let baseline = try LookupTable.read(from: Fixtures.path("baseline.lut.json"))
    try store.push(baseline)
    try store.push(try LookupTable.read(from: Fixtures.path("candidate.lut.json")))
    for (name, factor, energy) in [("board-slow", 3.0, true), ("board-fast", 0.5, false)] {
        var table = baseline
        table.device = name
        table.provenance.deviceID = name
        table.provenance.board = BoardLabel(name: name)
        for index in table.variants.indices {
            table.variants[index].latency = table.variants[index].latency.mapValues { cell in
                var scaled = cell
                scaled.p50Ns *= factor; scaled.p90Ns *= factor; scaled.p99Ns *= factor; scaled.meanNs *= factor
                scaled.p999Ns = scaled.p999Ns.map { $0 * factor }; scaled.maxNs = scaled.maxNs.map { $0 * factor }
                scaled.stddevNs *= factor; scaled.ciHalfWidthNs *= factor
                scaled.energyPerInferenceJ = energy ? scaled.meanNs.value * 2e-9 : nil
                return scaled
            }
        }
        try store.push(table)
    }
    try store.recordFailure(board: "board-lost", step: "profile", reason: "connection lost after 40 s")
    return store
}

@Test func fleetReportHasEverySectionInHTMLAndMarkdown() throws {
    let scratch = ScratchDirectory("fleet")
    let store = try threeDeviceStore(scratch)
    defer { store.close() }
    let inputs = try FleetInputs.load(from: store, portfolio: "fashion-cnn", objective: LatencyObjective(parsing: "p99<=3ms"))
    let written = try ReportWriter.write(FleetReportBuilder(inputs: inputs).build(), to: scratch.file("fleet"))
    #expect(written.sections == FleetReportBuilder.sectionIDs)
    let html = try String(contentsOfFile: written.html, encoding: .utf8)
    let markdown = try String(contentsOfFile: written.markdown, encoding: .utf8)
    for device in ["fixture-vm-2c", "board-slow", "board-fast"] {
        #expect(html.contains("id=\"latency-\(device)\""), "no latency chart for \(device)")
    }
    #expect(html.contains("id=\"energy-board-slow\""))
    #expect(!html.contains("id=\"energy-board-fast\""), "board-fast measured no energy")
    #expect(markdown.contains("connection lost after 40 s") && markdown.contains("board-lost"))
    #expect(markdown.contains("inside board model board-slow"), "a board model's run says so")
    #expect(!html.contains("<script"))
    #expect(xmlError(try String(contentsOfFile: written.figures[0], encoding: .utf8)) == nil)
}

@Test(.requiresPostgres, .waitsOnAnotherProgram)
func aPostgreSQLStoreGivesTheSameFleetReportAsSQLite() throws {
    let scratch = ScratchDirectory("fleet-pg")
    let cluster = try PostgresTestCluster("fleet-pg")
    defer { cluster.stop() }
    let objective = try LatencyObjective(parsing: "p99<=3ms")
    var markdown: [String] = []
    for location in [StoreLocation.sqlite(path: scratch.file("store.sqlite")), try StoreLocation(parsing: cluster.url)] {
        let store = try fillThreeDevices(try ResultsStore.open(location))
        defer { store.close() }
        let inputs = try FleetInputs.load(from: store, portfolio: "fashion-cnn", objective: objective)
        let written = try ReportWriter.write(FleetReportBuilder(inputs: inputs).build(), to: scratch.file("fleet-\(markdown.count)"))
        #expect(written.sections == FleetReportBuilder.sectionIDs)
        // The store's location (escaped, in the header line) is the one line allowed to differ.
        let text = try String(contentsOfFile: written.markdown, encoding: .utf8)
        #expect(text.contains("**Store:**"))
        // Failures carry the wall-clock minute they were recorded at, which the two pushes may straddle.
        let undated = text.replacingOccurrences(of: #"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"#, with: "<time>", options: .regularExpression)
        markdown.append(undated.split(separator: "\n").filter { !$0.contains("**Store:**") }.joined(separator: "\n"))
    }
    #expect(markdown[1].contains("connection lost after 40 s"))
    #expect(markdown[0] == markdown[1])
}

@Test func latencyChartsShareTheirAxes() throws {
    let scratch = ScratchDirectory("fleet")
    let store = try threeDeviceStore(scratch)
    defer { store.close() }
    let builder = try FleetReportBuilder(inputs: FleetInputs.load(from: store, portfolio: "fashion-cnn", objective: nil))
    let figures = builder.sharedAxisCharts(id: "t", title: "t", unit: "ms") { $0.p50Ns.milliseconds }
    #expect(figures.count == 3)
    // Same axes → the same tick labels on every chart.
    let ticks = figures.map { figure in
        figure.charts[0].xml().components(separatedBy: "<text").filter { $0.contains("tick") }.count
    }
    #expect(Set(ticks).count == 1)
    #expect(builder.objectiveWasSuggested)
}

@Test func choicesFollowTheSelectorAndTheFastBoardMeetsLowest() throws {
    let scratch = ScratchDirectory("fleet")
    let store = try threeDeviceStore(scratch)
    defer { store.close() }
    let objective = try LatencyObjective(parsing: "p99<=3ms")
    let builder = try FleetReportBuilder(inputs: FleetInputs.load(from: store, portfolio: "fashion-cnn", objective: objective))
    var notes: [String] = []
    let fast = try #require(builder.devices.first { $0.name == "board-fast" })
    let choices = try #require(builder.choices(on: fast, notes: &notes))
    for (kHz, choice) in choices {
        let selector = try VariantSelector(table: fast.latest, objective: objective)
        #expect(selector.variants[selector.decide(frequencyKHz: kHz, atNs: 0).variantIndex].name == choice.variant)
    }
    let section = builder.lowestFrequencySection()
    guard case let .paragraph(text)? = section.blocks.first else { Issue.record("no verdict paragraph"); return }
    #expect(text.hasPrefix("board-fast meets"), "\(text)")
}

@Test func driftComparesConsecutiveRunsAsLutCompareDoes() throws {
    let scratch = ScratchDirectory("fleet")
    let store = try threeDeviceStore(scratch)
    defer { store.close() }
    let builder = try FleetReportBuilder(inputs: FleetInputs.load(from: store, portfolio: "fashion-cnn", objective: nil))
    let section = builder.driftSection()
    let table = try #require(section.blocks.compactMap { block -> ReportTable? in
        if case let .table(table) = block { return table }
        return nil
    }.first)
    #expect(table.rows.map { $0[0].text } == ["fixture-vm-2c"])  // the only device with two runs
    let comparison = try LUTComparison.load(baselinePath: Fixtures.path("baseline.lut.json"), candidatePath: Fixtures.path("candidate.lut.json"))
    #expect(table.rows[0][2].text == "\(comparison.summary.commonCells)")
    #expect(table.rows[0][3].text == comparison.summary.geometricMeanRatio.map { Formatting.ratio($0) })
}

@Test func fleetReportOfAnUnknownPortfolioIsAnInputError() throws {
    let scratch = ScratchDirectory("fleet")
    let store = try threeDeviceStore(scratch)
    defer { store.close() }
    #expect(throws: FleetReportError.noRuns(portfolio: "nope", store: store.backend.locationDescription)) {
        try FleetInputs.load(from: store, portfolio: "nope", objective: nil)
    }
}

@Test(.waitsOnAnotherProgram, .enabled(if: HostFacts.hasChromium, "needs chromium (apt-get install chromium, or make deps)"))
func chromiumRendersTheFleetReportWithEverySection() throws {
    let scratch = ScratchDirectory("fleet")
    let store = try threeDeviceStore(scratch)
    defer { store.close() }
    let inputs = try FleetInputs.load(from: store, portfolio: "fashion-cnn", objective: nil)
    _ = try ReportWriter.write(FleetReportBuilder(inputs: inputs).build(), to: scratch.file("fleet"))
    // The fleet report's sections, not the single-board report's (an environment of its own, so
    // the other browser tests running at the same time are not affected).
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [Fixtures.packageRoot + "/scripts/render-report.sh", scratch.file("fleet"), scratch.file("shot.png")]
    process.environment = ProcessInfo.processInfo.environment.merging(
        ["SECTIONS": FleetReportBuilder.sectionIDs.joined(separator: " ")]) { $1 }
    FileManager.default.createFile(atPath: scratch.file("render.log"), contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("render.log")))
    process.standardOutput = log
    process.standardError = log
    try process.run()
    process.waitUntilExit()
    try log.close()
    let output = try String(contentsOfFile: scratch.file("render.log"), encoding: .utf8)
    #expect(process.terminationStatus == 0, "render-report.sh failed:\n\(output)")
    #expect(output.contains("all sections present"))
}
