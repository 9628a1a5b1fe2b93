// GearboxTraining/PortfolioReadme: renders a portfolio's README.md from portfolio.json and
// build.json: one row per variant (format, sparsity, params, MACs, engine accuracy, p50 on the
// build machine) and the method's headline ratios next to its paper's.

import Foundation
import GearboxPortfolio

enum PortfolioReadme {
    static func render(_ manifest: PortfolioManifest, _ report: PortfolioBuildReport) -> String {
        var lines: [String] = []
        lines.append("# \(manifest.name)")
        lines.append("")
        lines.append("Built by `gearbox portfolio build --method \(report.method) --model \(report.model)` on \(report.hostname) "
            + "(\(report.logicalCPUs) logical CPUs, \(cpuModel)) on \(report.date), commit \(report.gitCommit.prefix(12)). "
            + String(format: "Dense training took %.0f s; the whole build %.0f s (wall time on a shared machine).",
                     report.denseTrainingSeconds, report.buildSeconds))
        lines.append("")
        lines.append("Accuracy: measured by the Gearbox engine on the exported file in its own format, "
            + "\(manifest.variants.first?.accuracySource.map { "\"\($0)\"" } ?? ""). "
            + "p50: \(report.latencySource).")
        lines.append("")
        lines.append("| variant | format | method | sparsity | params | MACs | accuracy | p50 (ms) |")
        lines.append("|---|---|---|---:|---:|---:|---:|---:|")
        let facts = Dictionary(uniqueKeysWithValues: report.variants.map { ($0.name, $0) })
        for v in manifest.variants {
            let format = v.format.rawValue + (v.block.map { " \($0)" } ?? "") + (v.mask.map { " @\($0)" } ?? "")
            let p50 = facts[v.name]?.figures["p50Ns"].map { String(format: "%.3f", $0 / 1e6) } ?? "–"
            let accuracy = v.accuracy.map { String(format: "%.2f%%", $0 * 100) } ?? "–"
            lines.append("| \(v.name) | \(format) | \(v.method) | \(String(format: "%.1f%%", v.sparsity * 100)) | \(v.params) | \(v.macs) | \(accuracy) | \(p50) |")
        }
        if !report.ratios.isEmpty {
            lines.append("")
            lines.append("| headline ratio | measured here | paper | note |")
            lines.append("|---|---:|---:|---|")
            for r in report.ratios {
                lines.append("| \(r.name) | \(r.measured.map { String(format: "%.2f", $0) } ?? "n/a") | \(r.paper.map { String(format: "%.2f", $0) } ?? "–") | \(r.note) |")
            }
        }
        let failed = report.checks.filter { !$0.passed }
        lines.append("")
        lines.append("Checks: \(report.checks.count - failed.count) of \(report.checks.count) passed "
            + "(engine output equals trainer output for every variant\(report.method == "dnnshifter" || report.method == "reconvene" ? "; structured conversion lossless" : "")). Details in build.json.")
        if !report.notes.isEmpty {
            lines.append("")
            for note in report.notes { lines.append("- \(note)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static var cpuModel: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let value = line.split(separator: ":", maxSplits: 1).last
        else { return "unknown CPU" }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
