// Tests for GearboxReport/Inputs/TimelineFile that TimelineTests leaves out: the CSV field
// splitter's quoting rules, the accepted flag spellings, policy order and per-policy rows, reading
// a file that is missing or not UTF-8, and each malformed-row error with its line number.

import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxReport

@Suite struct TimelineFileTests {
    static let header = "time_ms,khz,policy,variant,latency_ns,violation,switch"

    /// The error `body` throws, or nil (recording an issue) when it throws none or another type.
    static func reportError(_ body: () throws -> Void) -> ReportError? {
        do {
            try body()
            Issue.record("expected a ReportError, nothing was thrown")
        } catch let error as ReportError {
            return error
        } catch {
            Issue.record("expected a ReportError, got \(error)")
        }
        return nil
    }

    // MARK: CSV.fields

    @Test(arguments: [
        ("a,b,c", ["a", "b", "c"]),
        ("", [""]),
        (",", ["", ""]),
        ("a,,c,", ["a", "", "c", ""]),
        ("\"a,b\",c", ["a,b", "c"]),
        ("\"say \"\"hi\"\"\",x", ["say \"hi\"", "x"]),
        ("\"\"", [""]),
        ("\"unterminated, still one field", ["unterminated, still one field"]),
        ("ab\"cd\",e", ["ab\"cd\"", "e"]),
        ("\"quoted\"tail,x", ["quotedtail", "x"]),
        (" spaced , kept ", [" spaced ", " kept "]),
    ])
    func csvFieldsSplitOnCommasOutsideQuotes(line: String, fields: [String]) {
        #expect(CSV.fields(line) == fields)
    }

    // MARK: Flags

    @Test(arguments: ["1", "true", "TRUE", "Yes", "y"])
    func flagSpellingsThatMeanTrue(text: String) {
        #expect(TimelineFile.flag(text) == true)
    }

    @Test(arguments: ["0", "false", "False", "no", "N", ""])
    func flagSpellingsThatMeanFalse(text: String) {
        #expect(TimelineFile.flag(text) == false)
    }

    @Test(arguments: ["2", "-1", "on", "off", "t", "truthy"])
    func otherFlagTextIsNotAFlag(text: String) {
        #expect(TimelineFile.flag(text) == nil)
    }

    @Test func aViolationColumnThatIsNotAFlagNamesItsLine() {
        let csv = Self.header + "\n0,1,p,v,10,0,0\n5,1,p,v,10,maybe,0\n"
        #expect(Self.reportError { _ = try TimelineFile.parse(csv, path: "t.csv") }
            == .timelineMalformed(path: "t.csv", line: 3, reason: "violation and switch must be 0/1 or true/false"))
    }

    @Test func emptyFlagCellsReadAsFalse() throws {
        let timeline = try TimelineFile.parse(Self.header + "\n0,1,p,v,10,,\n", path: "t.csv")
        #expect(timeline.rows.map(\.violation) == [false])
        #expect(timeline.rows.map(\.switched) == [false])
    }

    // MARK: Policies and rows

    static func row(_ time: Double, _ policy: String) -> TimelineFile.Row {
        TimelineFile.Row(timeMs: time, kHz: 1, policy: policy, variant: "v", latencyNs: 1, violation: false, switched: false)
    }

    @Test func policiesAreListedOnceInOrderOfFirstAppearance() {
        let file = TimelineFile(rows: [Self.row(0, "oracle"), Self.row(1, "gearbox"), Self.row(2, "oracle"), Self.row(0, "static")])
        #expect(file.policies == ["oracle", "gearbox", "static"])
        #expect(TimelineFile(rows: []).policies == [])
    }

    @Test func theRowsOfAPolicyAreItsOwnInTimeOrder() {
        let file = TimelineFile(rows: [Self.row(9, "a"), Self.row(1, "b"), Self.row(3, "a"), Self.row(-2, "a")])
        #expect(file.rows(of: "a").map(\.timeMs) == [-2, 3, 9])
        #expect(file.rows(of: "b").map(\.timeMs) == [1])
        #expect(file.rows(of: "nobody").isEmpty)
    }

    // MARK: Parsing

    @Test func headerNamesAreMatchedIgnoringCaseAndSurroundingSpaces() throws {
        let csv = " Time_MS , KHZ,Policy,VARIANT, latency_ns ,Violation,SWITCH\n1.5, 800000 , p , v ,2000, 1 , 0 \n"
        let rows = try TimelineFile.parse(csv, path: "t.csv").rows
        #expect(rows == [TimelineFile.Row(timeMs: 1.5, kHz: 800_000, policy: "p", variant: "v", latencyNs: 2000, violation: true, switched: false)])
    }

    @Test func blankLinesAnywhereAndCarriageReturnsAreSkipped() throws {
        let csv = Self.header + "\r\n0,1,p,v,10,0,0\r\n\r\n   \n5,1,p,v,20,0,0\r\n\n\n"
        let rows = try TimelineFile.parse(csv, path: "t.csv").rows
        #expect(rows.map(\.latencyNs) == [10, 20])
    }

    @Test func aHeaderWithoutRowsIsAnEmptyTimeline() throws {
        #expect(try TimelineFile.parse(Self.header + "\n", path: "t.csv").rows.isEmpty)
    }

    @Test(arguments: ["", "\n\n", "   \n"])
    func anEmptyFileLacksTheFirstColumn(text: String) {
        #expect(Self.reportError { _ = try TimelineFile.parse(text, path: "empty.csv") }
            == .timelineMissingColumn(path: "empty.csv", column: "time_ms"))
    }

    @Test func theFirstMissingRequiredColumnIsTheOneNamed() {
        // Both "variant" and "switch" are missing; the check runs in the documented column order.
        #expect(Self.reportError { _ = try TimelineFile.parse("time_ms,khz,policy,latency_ns,violation\n", path: "t.csv") }
            == .timelineMissingColumn(path: "t.csv", column: "variant"))
    }

    @Test func aFractionalFrequencyIsRoundedToWholeKilohertz() throws {
        let rows = try TimelineFile.parse(Self.header + "\n0,800000.4,p,v,10,0,0\n0,1e6,p,v,10,0,0\n", path: "t.csv").rows
        #expect(rows.map(\.kHz) == [800_000, 1_000_000])
    }

    @Test func aRowWithFewerFieldsThanTheHeaderNamesBothCounts() {
        let csv = Self.header + ",extra\n0,1,p,v,10,0,0\n"
        #expect(Self.reportError { _ = try TimelineFile.parse(csv, path: "t.csv") }
            == .timelineMalformed(path: "t.csv", line: 2, reason: "7 fields, header has 8"))
    }

    @Test func moreFieldsThanTheHeaderAreAccepted() throws {
        let rows = try TimelineFile.parse(Self.header + "\n0,1,p,v,10,0,1,surplus,fields\n", path: "t.csv").rows
        #expect(rows.map(\.switched) == [true])
    }

    @Test(arguments: [
        ("nan,1,p,v,10,0,0", "time_ms 'nan' is not a number"),
        ("soon,1,p,v,10,0,0", "time_ms 'soon' is not a number"),
        ("0,fast,p,v,10,0,0", "khz 'fast' is not a number"),
        ("0,1,p,v,inf,0,0", "latency_ns 'inf' is not a number"),
    ])
    func aNonNumericRequiredCellNamesItsColumnAndLine(row: String, reason: String) {
        let csv = Self.header + "\n0,1,p,v,10,0,0\n" + row + "\n"
        #expect(Self.reportError { _ = try TimelineFile.parse(csv, path: "run/timeline.csv") }
            == .timelineMalformed(path: "run/timeline.csv", line: 3, reason: reason))
    }

    @Test func aSwitchTimeColumnMustHoldANumberInEveryRow() {
        let csv = Self.header + ",switch_ns\n0,1,p,v,10,0,0,\n"
        #expect(Self.reportError { _ = try TimelineFile.parse(csv, path: "t.csv") }
            == .timelineMalformed(path: "t.csv", line: 2, reason: "switch_ns '' is not a number"))
    }

    @Test func energyAndTemperatureCellsMayBeEmptyButNotText() throws {
        let header = Self.header + ",energy_j,temperature_c"
        let rows = try TimelineFile.parse(header + "\n0,1,p,v,10,0,0,,\n1,1,p,v,10,0,0,0.25,-3.5\n", path: "t.csv").rows
        #expect(rows.map(\.energyJ) == [nil, 0.25])
        #expect(rows.map(\.temperatureC) == [nil, -3.5])
        #expect(Self.reportError { _ = try TimelineFile.parse(header + "\n0,1,p,v,10,0,0,lots,\n", path: "t.csv") }
            == .timelineMalformed(path: "t.csv", line: 2, reason: "energy_j 'lots' is not a number"))
        #expect(Self.reportError { _ = try TimelineFile.parse(header + "\n0,1,p,v,10,0,0,1,inf\n", path: "t.csv") }
            == .timelineMalformed(path: "t.csv", line: 2, reason: "temperature_c 'inf' is not a number"))
    }

    // MARK: Reading files

    @Test func readParsesAFileFromDisk() throws {
        let scratch = ScratchDirectory("timeline")
        let path = scratch.file("timeline.csv")
        try (Self.header + "\n0,2400000,gearbox,\"a,b\",1500,0,1\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try TimelineFile.read(from: path).rows
            == [TimelineFile.Row(timeMs: 0, kHz: 2_400_000, policy: "gearbox", variant: "a,b", latencyNs: 1500, violation: false, switched: true)])
    }

    @Test func aMissingFileIsMalformedAtLineZero() {
        let scratch = ScratchDirectory("timeline")
        let path = scratch.file("absent.csv")
        #expect(Self.reportError { _ = try TimelineFile.read(from: path) }
            == .timelineMalformed(path: path, line: 0, reason: "not readable as UTF-8 text"))
    }

    @Test func aFileThatIsNotUTF8IsMalformedAtLineZero() throws {
        let scratch = ScratchDirectory("timeline")
        let path = scratch.file("binary.csv")
        try Data([0x74, 0x69, 0xFF, 0xFE, 0xC3, 0x28, 0x0A]).write(to: URL(fileURLWithPath: path))
        #expect(Self.reportError { _ = try TimelineFile.read(from: path) }
            == .timelineMalformed(path: path, line: 0, reason: "not readable as UTF-8 text"))
    }
}
