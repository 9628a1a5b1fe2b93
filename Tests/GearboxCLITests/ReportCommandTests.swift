// End-to-end checks of `gearbox report` and `gearbox lut compare` on the report fixtures
// (Tests/GearboxReportTests/Fixtures): a LUT plus a validation directory give index.html and
// report.md with every section; compare prints per-cell ratios with "no significant change"
// marked and the documented JSON keys; a missing or corrupt table exits 2 with one line naming it.

import Foundation
import GearboxTestSupport
import Testing

private let fixtures = GearboxBinary.repositoryRoot + "/Tests/GearboxReportTests/Fixtures"
private let baselineLUT = fixtures + "/baseline.lut.json"
private let candidateLUT = fixtures + "/candidate.lut.json"
private let corruptLUT = fixtures + "/corrupt.lut.json"

/// The report's sections, by HTML id and Markdown heading.
private let sections: [(id: String, title: String)] = [
    ("device", "Device"), ("latency", "Latency vs frequency"), ("pareto", "Accuracy vs latency"),
    ("switch-cost", "Switch cost"), ("memory", "Memory"), ("counters", "Counters"),
    ("timeline", "Policy timeline"), ("policies", "Policy summary"),
]

/// The error output is exactly one non-empty line.
private func isOneLine(_ text: String) -> Bool {
    text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1
}

@Test(.requiresBinary) func reportWritesHTMLAndMarkdownWithEverySection() throws {
    let scratch = ScratchDirectory("cli-report")
    let out = scratch.file("report")
    let result = try GearboxBinary.run([
        "report", "--lut", baselineLUT, "--validation", fixtures + "/validation",
        "--device", fixtures + "/fixture-vm-2c.json", "--out", out,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("wrote \(out)/index.html"))
    let html = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
    let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
    for section in sections {
        #expect(html.contains("<section id=\"\(section.id)\""), "index.html lacks section \(section.id)")
        #expect(markdown.contains("\n## \(section.title)\n"), "report.md lacks section \(section.title)")
    }
    #expect(html.contains("<svg"), "index.html has no inline chart")
    #expect(!html.contains("<script"), "the report needs no script")
}

@Test(.requiresBinary) func reportJSONListsWhatWasWritten() throws {
    let scratch = ScratchDirectory("cli-report")
    let out = scratch.file("report")
    let result = try GearboxBinary.run(["report", "--lut", baselineLUT, "--validation", fixtures + "/validation", "--out", out, "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let written = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    #expect((written?["html"] as? String)?.hasSuffix("index.html") == true)
    #expect((written?["sections"] as? [String]) == sections.map(\.id))
}

@Test(.requiresBinary) func reportOnAMissingOrCorruptLUTExitsTwoNamingTheFile() throws {
    let scratch = ScratchDirectory("cli-report")
    let out = scratch.path
    let missing = out + "/no-such.lut.json"
    for path in [missing, corruptLUT] {
        let result = try GearboxBinary.run(["report", "--lut", path, "--out", out + "/report"])
        #expect(result.status == 2, "\(path): \(result.stderr)")
        #expect(result.stderr.contains(path), "the error names the file: \(result.stderr)")
        #expect(isOneLine(result.stderr), "one line: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/report/index.html"))
    }
}

@Test(.requiresBinary) func lutComparePrintsRatiosAndMarksInsignificantChanges() throws {
    let result = try GearboxBinary.run(["lut", "compare", baselineLUT, candidateLUT])
    #expect(result.status == 0, "\(result.stderr)")
    let rows = result.stdout.split(separator: "\n").map(String.init)
    // dense-full is unchanged within its CIs; structured-75 got 2.5% slower, significantly.
    let dense = rows.first { $0.hasPrefix("dense-full ") } ?? ""
    let slower = rows.first { $0.hasPrefix("structured-75 ") } ?? ""
    #expect(dense.contains("1.000=") || dense.contains("0.999="), "\(dense)")
    #expect(!dense.contains("*"))
    #expect(slower.contains("1.025*"), "\(slower)")
    #expect(result.stdout.contains("no significant change"))
    #expect(result.stdout.contains("only in baseline: bsr-80"))
}

@Test(.requiresBinary) func lutCompareJSONHasItsKeysAndVerdicts() throws {
    let result = try GearboxBinary.run(["lut", "compare", baselineLUT, candidateLUT, "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    let keys = Set(object?.keys.map { $0 } ?? [])
    #expect(keys.isSuperset(of: ["baseline", "candidate", "cells", "summary", "variantsOnlyInBaseline", "variantsOnlyInCandidate", "warnings"]))
    let cells = object?["cells"] as? [[String: Any]] ?? []
    #expect(!cells.isEmpty)
    for key in ["variant", "kHz", "baselineP50Ns", "candidateP50Ns", "ratio", "baselineCIHalfWidthNs", "candidateCIHalfWidthNs", "verdict"] {
        #expect(cells.allSatisfy { $0[key] != nil }, "every cell has \(key)")
    }
    for cell in cells {
        guard let a = cell["baselineP50Ns"] as? Double, let b = cell["candidateP50Ns"] as? Double, let ratio = cell["ratio"] as? Double else { continue }
        #expect(abs(ratio - b / a) < 1e-9, "ratio is B/A")
    }
    let verdicts = Set(cells.compactMap { $0["verdict"] as? String })
    #expect(verdicts.contains("no significant change"))
    let summary = object?["summary"] as? [String: Any]
    let counted = ["faster", "slower", "noSignificantChange", "predicted"].compactMap { summary?[$0] as? Int }.reduce(0, +)
    #expect(counted == summary?["commonCells"] as? Int)
    #expect(summary?["noSignificantChange"] as? Int == cells.filter { $0["verdict"] as? String == "no significant change" }.count)
}

@Test(.requiresBinary) func lutCompareWithACorruptTableExitsTwoNamingIt() throws {
    for arguments in [[baselineLUT, corruptLUT], [corruptLUT, candidateLUT]] {
        let result = try GearboxBinary.run(["lut", "compare"] + arguments)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(corruptLUT), "the error names the file: \(result.stderr)")
        #expect(isOneLine(result.stderr), "one line: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}
