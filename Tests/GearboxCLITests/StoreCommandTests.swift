// End-to-end checks of `gearbox store` and `gearbox fleet report` against a SQLite store in a
// scratch directory: idempotent push, failures, list, CSV export, the fleet report, and the
// one-line exit-2 errors (a bad --store URL, a file that is no result).

import Foundation
import GearboxTestSupport
import Testing

private let fixtures = GearboxBinary.repositoryRoot + "/Tests/GearboxReportTests/Fixtures"

private func isOneLine(_ text: String) -> Bool {
    text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1
}

@Test(.requiresBinary) func storePushTwiceKeepsOneRun() throws {
    let scratch = ScratchDirectory("cli-store")
    let store = "sqlite:" + scratch.file("s.sqlite")
    let files = [fixtures + "/baseline.lut.json", fixtures + "/fixture-vm-2c.json", fixtures + "/validation/summary.json"]
    let first = try GearboxBinary.run(["store", "push", "--store", store] + files)
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("stored run"))
    let second = try GearboxBinary.run(["store", "push", "--store", store] + files)
    #expect(second.status == 0, "\(second.stderr)")
    #expect(second.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("already stored") }, "\(second.stdout)")
    let list = try GearboxBinary.run(["store", "list", "--store", store, "--json"])
    #expect(list.status == 0, "\(list.stderr)")
    let listing = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any]
    #expect((listing?["runs"] as? [Any])?.count == 1)
    #expect((listing?["devices"] as? [Any])?.count == 1)
    #expect((listing?["validations"] as? [Any])?.count == 1)
}

@Test(.requiresBinary) func storeFailIsListedAndInTheFleetReport() throws {
    let scratch = ScratchDirectory("cli-store")
    let store = "sqlite:" + scratch.file("s.sqlite")
    let fail = try GearboxBinary.run(["store", "fail", "--store", store, "--board", "st-u8500", "--step", "profile", "--reason", "connection lost"])
    #expect(fail.status == 0, "\(fail.stderr)")
    let list = try GearboxBinary.run(["store", "list", "--store", store])
    #expect(list.stdout.contains("st-u8500 at profile: connection lost"), "\(list.stdout)")
    _ = try GearboxBinary.run(["store", "push", "--store", store, fixtures + "/baseline.lut.json", fixtures + "/candidate.lut.json"])
    let out = scratch.file("fleet")
    let report = try GearboxBinary.run(["fleet", "report", "--store", store, "--portfolio", "fashion-cnn", "--out", out, "--objective", "p99<=3ms"])
    #expect(report.status == 0, "\(report.stderr)")
    let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
    #expect(markdown.contains("connection lost"))
    #expect(FileManager.default.fileExists(atPath: out + "/index.html"))
}

@Test(.requiresBinary) func storeExportCSVHasAHeaderAndOneRowPerCell() throws {
    let scratch = ScratchDirectory("cli-store")
    let store = "sqlite:" + scratch.file("s.sqlite")
    _ = try GearboxBinary.run(["store", "push", "--store", store, fixtures + "/baseline.lut.json"])
    let export = try GearboxBinary.run(["store", "export", "--store", store, "--csv"])
    #expect(export.status == 0, "\(export.stderr)")
    let lines = export.stdout.split(separator: "\n")
    #expect(lines.first?.hasPrefix("run_id,device,portfolio,controller,gearbox_version,git_commit,date,variant,frequency_khz") == true)
    let table = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixtures + "/baseline.lut.json"))) as? [String: Any]
    let cells = (table?["variants"] as? [[String: Any]])?.reduce(0) { $0 + (($1["latency"] as? [String: Any])?.count ?? 0) }
    #expect(lines.count == 1 + (cells ?? -1))
}

@Test(.requiresBinary) func badStoreURLExitsTwoWithOneLine() throws {
    for url in ["mysql://u@h/db", "postgres://h/db", "store.sqlite"] {
        let result = try GearboxBinary.run(["store", "list", "--store", url])
        #expect(result.status == 2, "\(url): \(result.stderr)")
        #expect(isOneLine(result.stderr) && result.stderr.contains(url) && result.stderr.contains("sqlite:PATH"), "\(result.stderr)")
    }
}

@Test(.requiresBinary) func pushOfAFileThatIsNoResultExitsTwoAndStoresNothing() throws {
    let scratch = ScratchDirectory("cli-store")
    let store = "sqlite:" + scratch.file("s.sqlite")
    let stray = scratch.file("notes.json")
    try Data("{\"hello\": 1}".utf8).write(to: URL(fileURLWithPath: stray))
    let result = try GearboxBinary.run(["store", "push", "--store", store, fixtures + "/baseline.lut.json", stray])
    #expect(result.status == 2)
    #expect(isOneLine(result.stderr) && result.stderr.contains(stray), "\(result.stderr)")
    // Every file is checked before any is stored.
    let list = try GearboxBinary.run(["store", "list", "--store", store, "--json"])
    let listing = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any]
    #expect((listing?["runs"] as? [Any])?.isEmpty == true)
}
