// End-to-end checks of `gearbox profile` and `gearbox lut`: a sweep stopped after a few cells
// resumes to a complete LUT; bad input exits 2 with one line naming the file or setting.

import Foundation
import GearboxTestSupport
import Testing

private let packageRoot = GearboxBinary.repositoryRoot

/// The shipped synthetic portfolio the sweep runs on.
private let hasDefaultPortfolio = FileManager.default.fileExists(atPath: packageRoot + "/Portfolios/default/portfolio.json")

/// Runs the built `gearbox` with `arguments` in the package root; returns (exit status, stdout, stderr).
private func gearbox(_ arguments: [String]) throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try GearboxBinary.built())
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

private let simulatedArguments = [
    "profile", "--portfolio", "Portfolios/default", "--controller", "simulated", "--frequencies",
    "500000,1000000,1500000,2000000", "--quick", "--skip-switch-costs", "--no-progress",
]

@Test(.requiresBinary, .enabled(if: hasDefaultPortfolio, "needs Portfolios/default (gearbox portfolio synth)"))
func aStoppedSimulatedSweepResumesToACompleteLUT() throws {
    let scratch = ScratchDirectory("cli")
    let dir = scratch.path
    let lut = dir + "/default.lut.json"
    let (stopped, _, stoppedErr) = try gearbox(simulatedArguments + ["--out", lut, "--stop-after-cells", "5"])
    #expect(stopped == 1)
    #expect(stoppedErr.contains("--resume"))
    #expect(FileManager.default.fileExists(atPath: dir + "/default.checkpoint.json"))

    let (again, _, againErr) = try gearbox(simulatedArguments + ["--out", lut])
    #expect(again == 2, "an unfinished sweep is not overwritten without --resume")
    #expect(againErr.contains("checkpoint"))

    let (resumed, resumedOut, resumedErr) = try gearbox(simulatedArguments + ["--out", lut, "--resume", "--json"])
    #expect(resumed == 0, "\(resumedErr)")
    let report = try JSONSerialization.jsonObject(with: Data(resumedOut.utf8)) as? [String: Any]
    #expect(report?["cellsFromCheckpoint"] as? Int == 5)
    let (shown, table, _) = try gearbox(["lut", "show", lut])
    #expect(shown == 0)
    #expect(table.contains("controller simulated"))
    let (exported, csv, _) = try gearbox(["lut", "export", "--csv", lut])
    #expect(exported == 0)
    #expect(csv.split(separator: "\n").count > 1 + 4 * 10)
}

@Test(.requiresBinary) func aTruncatedLUTExitsTwoWithOneLineNamingIt() throws {
    let scratch = ScratchDirectory("cli")
    let path = scratch.file("broken.lut.json")
    try Data("{\"schemaVersion\": 1, \"device\": \"x\", \"variants\": [".utf8).write(to: URL(fileURLWithPath: path))
    let (status, _, err) = try gearbox(["lut", "show", path])
    #expect(status == 2)
    #expect(err.contains(path))
    #expect(err.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1)
}

@Test(.requiresBinary) func badProfileSettingsExitTwo() throws {
    let (pin, _, pinErr) = try gearbox(["profile", "--portfolio", "Portfolios/default", "--controller", "simulated", "--pin", "socket"])
    #expect(pin == 2)
    #expect(pinErr.contains("--pin"))
    let (controller, _, _) = try gearbox(["profile", "--controller", "warp"])
    #expect(controller == 2)
    let (missing, _, missingErr) = try gearbox(["profile", "--portfolio", "/nonexistent/portfolio", "--controller", "simulated"])
    #expect(missing == 2)
    #expect(missingErr.contains("/nonexistent/portfolio/portfolio.json"))
}
