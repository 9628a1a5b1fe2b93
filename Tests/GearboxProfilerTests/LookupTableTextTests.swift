// Tests for GearboxProfiler/LookupTableText: the fixed-width table of `gearbox lut show` and the
// long-format CSV of `gearbox lut export --csv`, on a hand-built table whose every figure is known,
// plus the small number, byte and padding formatters both use.

import Foundation
import GearboxCore
import GearboxRuntime
import Testing

@testable import GearboxProfiler

@Suite struct LookupTableTextTests {
    // MARK: A table whose figures are all chosen by hand

    static func cell(
        _ p50: Nanoseconds, source: MeasurementSource = .simulated, noisy: Bool? = nil, stopRule: String? = "ci",
        interferedWindows: Int? = nil
    ) -> LookupTable.LatencyCell {
        LookupTable.LatencyCell(
            p50Ns: p50, p90Ns: p50 * 1.5, p99Ns: p50 * 2, p999Ns: nil, maxNs: p50 * 3, meanNs: p50 * 1.25,
            stddevNs: 1_000, ciHalfWidthNs: p50 * 0.02, samples: 40, source: source, stopRule: stopRule, noisy: noisy,
            cv: 0.0125, speedRatio: 0.5, interferedWindows: interferedWindows)
    }

    static func provenance(notes: [String] = []) -> Provenance {
        var p = Provenance(deviceID: "board", controller: .simulated, notes: notes)
        p.date = "2024-05-06T07:08:09Z"
        p.gearboxVersion = "9.8.7"
        p.gitCommit = "0123456789abcdef0123"
        p.compiler = "Swift 6.x"
        p.hostname = "labhost"
        return p
    }

    /// Two variants at 400 and 800 MHz: "dense-full" measured at both (noisy at 800), with a
    /// model and an accuracy; "pruned" measured at 400, predicted at 800, without either.
    static func table(notes: [String] = []) -> LookupTable {
        let dense = LookupTable.Variant(
            name: "dense-full", format: "dense", accuracy: 0.875, params: 1000, macs: 20_000, memoryBytes: 3 * 1_048_576,
            latency: ["400000": cell(2_000_000), "800000": cell(1_250_000, noisy: true)], counters: [:],
            model: LookupTable.FrequencyModel(aNs: 500_000, bNsKHz: 6e11, r2: 0.99876, looMape: 0.034))
        let pruned = LookupTable.Variant(
            name: "pruned", format: "csr", accuracy: nil, params: 300, macs: 6000, memoryBytes: 2048,
            latency: ["400000": cell(1_000_000, stopRule: "maxTime"), "800000": cell(600_000, source: .predicted, stopRule: nil)],
            counters: [:], model: nil)
        return LookupTable(
            device: "board", portfolio: "tiny", controller: .simulated, provenance: provenance(notes: notes),
            frequenciesKHz: [400_000, 800_000], threads: 2, pin: "pu0", variants: [dense, pruned], switchCostNs: [:])
    }

    static func lines(_ text: String) -> [String] { text.components(separatedBy: "\n") }

    // MARK: render

    @Test func theHeadNamesTheTableAndWhereAndWhenItWasMeasured() {
        let lines = Self.lines(LookupTableText.render(Self.table()))
        #expect(lines[0] == "LUT tiny on board: controller simulated, 2 thread(s), pin pu0")
        // The commit is cut to 12 characters.
        #expect(lines[1] == "measured 2024-05-06T07:08:09Z by gearbox 9.8.7 (0123456789ab), Swift 6.x, host labhost")
    }

    @Test func aTableWithoutThreadsOrPinSaysOneThreadAndAQuestionMark() {
        var lut = Self.table()
        lut.threads = nil
        lut.pin = nil
        #expect(Self.lines(LookupTableText.render(lut))[0] == "LUT tiny on board: controller simulated, 1 thread(s), pin ?")
    }

    @Test func theGridHasAFixedWidthColumnPerFrequencyWithPredictionAndNoiseMarks() throws {
        let lines = Self.lines(LookupTableText.render(Self.table()))
        let title = try #require(lines.firstIndex(of: "p50 latency in ms per frequency (* predicted, ! noisy)"))
        // Name column: max(7, longest name "dense-full" = 10).
        let header = "variant     format       mem     400MHz     800MHz      R²     LOO    acc"
        #expect(lines[title + 1] == header)
        #expect(lines[title + 2] == String(repeating: "-", count: header.count))
        // 2.000 ms measured, 1.250 ms noisy (!); R² to 4 places, LOO as a percentage, accuracy to 3.
        #expect(lines[title + 3] == "dense-full  dense     3.0MiB     2.000      1.250!  0.9988    3.4%  0.875")
        // 0.600 ms predicted (*); no model and no accuracy.
        #expect(lines[title + 4] == "pruned      csr         2KiB     1.000      0.600*       -       -    n/a")
        #expect(lines.count == title + 5, "no memory or switch-cost lines without their data")
    }

    @Test func aMissingCellIsADashAndAPredictedNoisyCellShowsAsPredicted() throws {
        var lut = Self.table()
        lut.variants[1].latency["400000"] = nil
        lut.variants[1].latency["800000"]?.noisy = true
        let row = try #require(Self.lines(LookupTableText.render(lut)).first { $0.hasPrefix("pruned ") })
        #expect(row == "pruned      csr         2KiB          -     0.600*       -       -    n/a")
    }

    @Test func aShortNameStillGetsASevenCharacterColumn() throws {
        var lut = Self.table()
        lut.variants = [lut.variants[1]]
        lut.variants[0].name = "v"
        let lines = Self.lines(LookupTableText.render(lut))
        #expect(lines.contains("variant  format       mem     400MHz     800MHz      R²     LOO    acc"))
        #expect(lines.contains { $0.hasPrefix("v        csr         2KiB ") })
    }

    @Test func theMethodLinesListTheStopRuleAndTheCellsEachRuleEndedInKeyOrder() {
        var lut = Self.table()
        #expect(!LookupTableText.render(lut).contains("stop rule:"), "no method, no method lines")
        lut.method = LookupTable.Method(
            clock: "CLOCK_MONOTONIC", clockResolutionNs: 1, clockReadCostNs: 24.6, stopRule: "CI within ±1%",
            stopRuleCounts: ["maxTime": 1, "ci": 3, "maxSamples": 0], noisyCV: 0.05, noisyCells: 1, retriedCells: 2, seed: 7,
            frequencyOrderKHz: [400_000, 800_000], placement: "pu0", backend: "simulated", resumes: 0, predictedKHz: [800_000])
        let lines = Self.lines(LookupTableText.render(lut))
        #expect(lines[2] == "stop rule: CI within ±1%")
        #expect(lines[3] == "cells ended by: ci 3, maxSamples 0, maxTime 1; noisy 1 (CV > 0.05), retried 2; clock CLOCK_MONOTONIC res 1 ns, read 25 ns")
    }

    @Test func thePrecisionLineAppearsOnlyWhenThereAreMeasuredCells() {
        let lut = Self.table()
        let measured = LookupTableText.render(lut)
        #expect(measured.contains("p50 95% CI, median over the measured cells: " + CellPrecision(lut).summary))
        var predictedOnly = lut
        for v in predictedOnly.variants.indices {
            for key in predictedOnly.variants[v].latency.keys { predictedOnly.variants[v].latency[key]?.source = .predicted }
        }
        #expect(!LookupTableText.render(predictedOnly).contains("p50 95% CI"))
    }

    @Test func interferedWindowsAreSummedOverTheCellsThatHaveThem() {
        var lut = Self.table()
        #expect(!LookupTableText.render(lut).contains("interfered"))
        lut.variants[0].latency["400000"]?.interferedWindows = 3
        lut.variants[1].latency["400000"]?.interferedWindows = 2
        let text = LookupTableText.render(lut)
        #expect(text.contains("\n5 window(s) in 2 cell(s) set aside as interfered ("))
    }

    @Test func contentionAndSharedCacheNotesAreExplainedAndOtherNotesAreNotShown() {
        let text = LookupTableText.render(Self.table(notes: [
            "unrelated note", "shared cache: 80% of the LLC left", "host contention: 3% of 100 windows slow",
        ]))
        #expect(text.contains("\nhost contention: 3% of 100 windows slow (inferences slowed from outside the measuring thread)\n"))
        #expect(text.contains("\nshared cache: 80% of the LLC left (probed after each cell: "))
        #expect(!text.contains("unrelated note"))
    }

    @Test func portfolioMemoryComparesAllResidentWithSeparateLoadsAndAddsRSSOnlyWhenBothAreKnown() {
        var lut = Self.table()
        lut.portfolioMemory = LookupTable.PortfolioMemory(
            allResidentEngineBytes: 3 * 1_048_576, sumSeparateEngineBytes: 5 * 1_048_576,
            allResidentRSSDeltaBytes: 2048, sumSeparateRSSDeltaBytes: 512)
        #expect(Self.lines(LookupTableText.render(lut)).last
            == "portfolio resident: 3.0MiB all loaded vs 5.0MiB loaded separately (engine accounting); RSS +2KiB vs +512B")
        lut.portfolioMemory?.sumSeparateRSSDeltaBytes = nil
        #expect(Self.lines(LookupTableText.render(lut)).last
            == "portfolio resident: 3.0MiB all loaded vs 5.0MiB loaded separately (engine accounting)")
    }

    @Test func switchCostsAreSummarisedByTheirMedians() {
        var lut = Self.table()
        lut.switchCostNs = [
            "dense-full": ["pruned": LookupTable.SwitchCost(cold: 3_000_000, warm: 1_000_000, coldCache: "cold")],
            "pruned": [
                "dense-full": LookupTable.SwitchCost(cold: nil, warm: 4_000_000, coldCache: "warm-cache", maskSwitch: 500_000),
                "other": LookupTable.SwitchCost(cold: 5_000_000, warm: 2_000_000),
            ],
        ]
        // warm 1, 2, 4 ms → 2; cold 3, 5 ms → 4; one mask switch of 0.5 ms; both cache kinds, sorted.
        #expect(Self.lines(LookupTableText.render(lut)).last
            == "switch costs over 3 ordered pairs: warm median 2.000 ms, cold median 4.000 ms (cold/warm-cache), mask switch median 0.500 ms")
    }

    @Test func switchCostsWithoutColdFiguresSayNotAvailable() {
        var lut = Self.table()
        lut.switchCostNs = ["a": ["b": LookupTable.SwitchCost(cold: nil, warm: 1_500_000)]]
        #expect(Self.lines(LookupTableText.render(lut)).last
            == "switch costs over 1 ordered pairs: warm median 1.500 ms, cold median n/a")
    }

    // MARK: csv

    static let csvHeader = "device,portfolio,controller,variant,format,accuracy,params,macs,memoryBytes,kHz,source,p50Ns,p90Ns,p99Ns,p999Ns,maxNs,meanNs,stddevNs,cv,ciHalfWidthNs,samples,stopRule,noisy,speedRatio,modelANs,modelBNsKHz,modelR2,modelLooMape,interferedWindows"

    @Test func theCSVHasOneRowPerVariantAndFrequencyInTableOrder() {
        let rows = LookupTableText.csv(Self.table()).components(separatedBy: "\n")
        #expect(rows == [
            Self.csvHeader,
            "board,tiny,simulated,dense-full,dense,0.875,1000,20000,3145728,400000,simulated,2000000,3000000,4000000,,6000000,2500000,1000,0.0125,40000,40,ci,,0.5,500000,600000000000,0.99876,0.034,",
            "board,tiny,simulated,dense-full,dense,0.875,1000,20000,3145728,800000,simulated,1250000,1875000,2500000,,3750000,1562500,1000,0.0125,25000,40,ci,true,0.5,500000,600000000000,0.99876,0.034,",
            "board,tiny,simulated,pruned,csr,,300,6000,2048,400000,simulated,1000000,1500000,2000000,,3000000,1250000,1000,0.0125,20000,40,maxTime,,0.5,,,,,",
            "board,tiny,simulated,pruned,csr,,300,6000,2048,800000,predicted,600000,900000,1200000,,1800000,750000,1000,0.0125,12000,40,,,0.5,,,,,",
            "",  // the file ends in a newline
        ])
    }

    @Test func everyCSVRowHasAsManyFieldsAsTheHeaderAndMissingCellsHaveNoRow() {
        var lut = Self.table()
        lut.variants[1].latency["800000"] = nil
        lut.variants[0].latency["400000"]?.interferedWindows = 4
        lut.variants[0].latency["400000"]?.noisy = false
        let rows = LookupTableText.csv(lut).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.count == 1 + 3)
        #expect(rows.allSatisfy { $0.count == 29 })
        #expect(rows[1].last == "4")
        #expect(rows[1][22] == "false")
    }

    @Test func textFieldsWithCommasQuotesOrNewlinesAreQuoted() {
        var lut = Self.table()
        lut.device = "lab, bench 2"
        lut.portfolio = "line\nbreak"
        lut.variants[0].name = "say \"hi\""
        let second = LookupTableText.csv(lut).components(separatedBy: "\n").dropFirst().joined(separator: "\n")
        #expect(second.hasPrefix("\"lab, bench 2\",\"line\nbreak\",simulated,\"say \"\"hi\"\"\",dense,"))
    }

    @Test func aTableWithoutVariantsIsJustTheHeader() {
        var lut = Self.table()
        lut.variants = []
        #expect(LookupTableText.csv(lut) == Self.csvHeader + "\n")
    }

    // MARK: Formatters

    @Test(arguments: [
        ("plain", "plain"), ("", ""), ("a,b", "\"a,b\""), ("5\" disk", "\"5\"\" disk\""), ("two\nlines", "\"two\nlines\""),
    ])
    func fieldQuotesOnlyWhenItMust(text: String, expected: String) {
        #expect(LookupTableText.field(text) == expected)
    }

    @Test func numbersAreIntegersWhenWholeAndSixSignificantDigitsOtherwise() {
        func num(_ value: Double?) -> String { LookupTableText.num(value) }
        #expect(num(1_500_000) == "1500000")
        #expect(num(-3) == "-3")
        #expect(num(0) == "0")
        #expect(num(2.5) == "2.5")
        #expect(num(0.0123456789) == "0.0123457")
        #expect(num(123_456.789) == "123457")
        // Whole numbers from 1e15 up use the exponent form.
        #expect(num(999_999_999_999_999) == "999999999999999")
        #expect(num(1e15) == "1e+15")
        #expect(num(nil) == "")
        #expect(num(.nan) == "")
        #expect(num(-.infinity) == "")
        #expect(LookupTableText.num(Nanoseconds(42)) == "42")
        #expect(LookupTableText.num(Nanoseconds?.none) == "")
    }

    @Test func bytesUseBinaryUnitsAndKeepTheSign() {
        #expect(LookupTableText.bytes(0) == "0B")
        #expect(LookupTableText.bytes(1023) == "1023B")
        #expect(LookupTableText.bytes(1024) == "1KiB")
        #expect(LookupTableText.bytes(10 * 1024 + 100) == "10KiB")
        #expect(LookupTableText.bytes(1_048_575) == "1024KiB")
        #expect(LookupTableText.bytes(1_048_576) == "1.0MiB")
        #expect(LookupTableText.bytes(5 * 1_048_576 / 2) == "2.5MiB")
        #expect(LookupTableText.bytes(-2048) == "-2KiB")
        #expect(LookupTableText.bytes(-7) == "-7B")
    }

    @Test func megahertzAndMillisecondsFormatting() {
        #expect(LookupTableText.mhz(1_400_000) == "1400MHz")
        #expect(LookupTableText.mhz(999) == "0MHz")
        #expect(LookupTableText.ms(1_234_567) == "1.235 ms")
        #expect(LookupTableText.ms(nil) == "n/a")
    }

    @Test func theMedianOfAnOddCountIsTheMiddleValueAndOfAnEvenCountTheMeanOfTheTwo() {
        #expect(LookupTableText.median([]) == nil)
        #expect(LookupTableText.median([7]) == 7)
        #expect(LookupTableText.median([3, 1, 2]) == 2)
        #expect(LookupTableText.median([4, 1, 3, 2]) == 2.5)
    }

    @Test func paddingFillsToTheWidthAndNeverCuts() {
        #expect(LookupTableText.pad("ab", 5) == "ab   ")
        #expect(LookupTableText.lpad("ab", 5) == "   ab")
        #expect(LookupTableText.pad("abcdef", 3) == "abcdef")
        #expect(LookupTableText.lpad("abcdef", 3) == "abcdef")
        #expect(LookupTableText.pad("R²", 3) == "R² ", "counts characters, not bytes")
    }
}
