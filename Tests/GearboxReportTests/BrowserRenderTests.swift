// The browser test: writes the fixture report and runs scripts/render-report.sh, which renders
// index.html in headless Chromium and fails on a blank page, a console error or a missing
// section. Skipped, with the reason, where Chromium is not installed.

import Foundation
import Testing
import GearboxCore
import GearboxTestSupport
@testable import GearboxReport

func runScript(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [Fixtures.packageRoot + "/scripts/render-report.sh"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Test(.waitsOnAnotherProgram, .enabled(if: HostFacts.hasChromium, "needs chromium (apt-get install chromium, or make deps)"))
func chromiumRendersTheFixtureReportWithEverySection() throws {
    let directory = ScratchDirectory("report-tests")
    let document = ReportBuilder(inputs: try fixtureInputs()).build()
    _ = try ReportWriter.write(document, to: directory.path + "/report")
    let result = try runScript([directory.path + "/report", directory.path + "/shot.png"])
    #expect(result.status == 0, "render-report.sh failed:\n\(result.output)")
    #expect(result.output.contains("all sections present"))
    #expect(FileManager.default.fileExists(atPath: directory.path + "/shot.png"))
}

@Test(.waitsOnAnotherProgram, .enabled(if: HostFacts.hasChromium, "needs chromium (apt-get install chromium, or make deps)"))
func renderCheckFailsOnABlankPage() throws {
    let directory = ScratchDirectory("report-tests")
    try AtomicFile.write("<!DOCTYPE html><html><body></body></html>\n", to: directory.path + "/blank/index.html")
    let result = try runScript([directory.path + "/blank", directory.path + "/blank.png"])
    #expect(result.status == 1)
    #expect(result.output.contains("looks blank"))
    #expect(result.output.contains("section 'device' missing"))
}
