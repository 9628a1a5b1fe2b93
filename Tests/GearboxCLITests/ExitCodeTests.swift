import Foundation
import GearboxTestSupport
import Testing

/// Gearbox's exit codes: 0 ok, 1 measurement/validation failure, 2 usage or input error.
@Suite(.requiresBinary) struct ExitCodeTests {
    @Test func verboseAddsTheErrorsDetailAfterTheOneLineMessage() throws {
        let scratch = ScratchDirectory("missing")
        let path = scratch.file("missing.lut.json")
        let plain = try GearboxBinary.run(["lut", "show", path])
        #expect(plain.status == 2)
        #expect(!plain.stderr.contains("detail:"))
        let verbose = try GearboxBinary.run(["lut", "show", path, "--verbose"])
        #expect(verbose.status == 2, "\(verbose.stderr)")
        let lines = verbose.stderr.split(separator: "\n")
        #expect(lines.count >= 2 && lines[0].contains(path) && lines[1].hasPrefix("detail:"), "\(verbose.stderr)")
    }

    @Test func aMissingRequiredOptionIsAUsageErrorWithExitTwo() throws {
        let result = try GearboxBinary.run(["dvfs", "set", "--khz", "400000"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--domain"))
    }

    @Test func aCorruptLookupTableIsAnInputErrorWithExitTwoAndOneLine() throws {
        let scratch = ScratchDirectory("corrupt")
        let path = scratch.file("corrupt.lut.json")
        try Data(#"{"schemaVersion": 1, "device": "x""#.utf8).write(to: URL(fileURLWithPath: path))
        let result = try GearboxBinary.run(["lut", "show", path])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(result.stderr.contains(path))
    }

    @Test func helpExitsZero() throws {
        #expect(try GearboxBinary.run(["--help"]).status == 0)
        #expect(try GearboxBinary.run(["demo", "--help"]).status == 0)
    }
}
