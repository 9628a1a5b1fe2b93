// GearboxProfiler/LookupTableText: a lookup table as text: the readable table of `gearbox lut
// show` and the long-format CSV of `gearbox lut export --csv` (one row per variant × frequency,
// ready for pandas).

import Foundation
import GearboxCore
import GearboxRuntime

public enum LookupTableText {
    /// A fixed-width table: one row per variant, p50 (ms) per frequency with `*` on predicted
    /// cells and `!` on noisy ones, then memory, the frequency model and the switch costs.
    public static func render(_ lut: LookupTable) -> String {
        var lines: [String] = []
        let p = lut.provenance
        lines.append("LUT \(lut.portfolio) on \(lut.device): controller \(lut.controller), \(lut.threads ?? 1) thread(s), pin \(lut.pin ?? "?")")
        lines.append("measured \(p.date) by gearbox \(p.gearboxVersion) (\(p.gitCommit.prefix(12))), \(p.compiler), host \(p.hostname)")
        if let method = lut.method {
            lines.append("stop rule: \(method.stopRule)")
            let counts = method.stopRuleCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("cells ended by: \(counts); noisy \(method.noisyCells) (CV > \(method.noisyCV)), retried \(method.retriedCells); clock \(method.clock) res \(method.clockResolutionNs), read \(String(format: "%.0f", method.clockReadCostNs.value)) ns")
        }
        let precision = CellPrecision(lut)
        if precision.cells > 0 {
            lines.append("p50 95% CI, median over the measured cells: \(precision.summary)")
        }
        let interfered = lut.variants.flatMap { $0.latency.values.compactMap(\.interferedWindows) }
        if !interfered.isEmpty {
            lines.append("\(interfered.reduce(0, +)) window(s) in \(interfered.count) cell(s) set aside as interfered (a quarter of their inferences slower than the cell's undisturbed ones: other tenants of the host)")
        }
        if let contention = p.notes.first(where: { $0.hasPrefix("host contention: ") }) {
            lines.append(contention + " (inferences slowed from outside the measuring thread)")
        }
        if let cache = p.notes.first(where: { $0.hasPrefix("shared cache: ") }) {
            lines.append(cache + " (probed after each cell: how much of the last-level cache other tenants of the host left it)")
        }
        lines.append("")
        let freqs = lut.frequenciesKHz
        let nameWidth = max(7, lut.variants.map(\.name.count).max() ?? 7)
        var header = pad("variant", nameWidth) + "  " + pad("format", 6) + "  " + lpad("mem", 8)
        for f in freqs { header += "  " + lpad(mhz(f), 9) }
        header += "  " + lpad("R²", 6) + "  " + lpad("LOO", 6) + "  " + lpad("acc", 5)
        lines.append("p50 latency in ms per frequency (* predicted, ! noisy)")
        lines.append(header)
        lines.append(String(repeating: "-", count: header.count))
        for v in lut.variants {
            var row = pad(v.name, nameWidth) + "  " + pad(v.format, 6) + "  " + lpad(bytes(v.memoryBytes), 8)
            for f in freqs {
                guard let cell = v.latency[String(f)] else { row += "  " + lpad("-", 9); continue }
                let mark = cell.source == .predicted ? "*" : (cell.noisy == true ? "!" : " ")
                row += "  " + lpad(String(format: "%.3f", cell.p50Ns.milliseconds) + mark, 9)
            }
            if let m = v.model {
                row += "  " + lpad(String(format: "%.4f", m.r2), 6) + "  " + lpad(String(format: "%.1f%%", m.looMape * 100), 6)
            } else {
                row += "  " + lpad("-", 6) + "  " + lpad("-", 6)
            }
            row += "  " + lpad(v.accuracy.map { String(format: "%.3f", $0) } ?? "n/a", 5)
            lines.append(row)
        }
        if let memory = lut.portfolioMemory {
            lines.append("")
            var text = "portfolio resident: \(bytes(memory.allResidentEngineBytes)) all loaded vs \(bytes(memory.sumSeparateEngineBytes)) loaded separately (engine accounting)"
            if let all = memory.allResidentRSSDeltaBytes, let separate = memory.sumSeparateRSSDeltaBytes {
                text += "; RSS +\(bytes(all)) vs +\(bytes(separate))"
            }
            lines.append(text)
        }
        let costs = lut.switchCostNs.values.flatMap(\.values)
        if !costs.isEmpty {
            let warm = costs.compactMap(\.warm?.value), cold = costs.compactMap(\.cold?.value), mask = costs.compactMap(\.maskSwitch?.value)
            var text = "switch costs over \(costs.count) ordered pairs: warm median \(ms(median(warm))), cold median \(ms(median(cold)))"
            let caches = Set(costs.compactMap(\.coldCache))
            if !caches.isEmpty { text += " (\(caches.sorted().joined(separator: "/")))" }
            if !mask.isEmpty { text += ", mask switch median \(ms(median(mask)))" }
            lines.append(text)
        }
        return lines.joined(separator: "\n")
    }

    /// Long-format CSV: one row per variant and frequency (measured and predicted).
    public static func csv(_ lut: LookupTable) -> String {
        let header = [
            "device", "portfolio", "controller", "variant", "format", "accuracy", "params", "macs", "memoryBytes", "kHz",
            "source", "p50Ns", "p90Ns", "p99Ns", "p999Ns", "maxNs", "meanNs", "stddevNs", "cv", "ciHalfWidthNs",
            "samples", "stopRule", "noisy", "speedRatio", "modelANs", "modelBNsKHz", "modelR2", "modelLooMape",
            "interferedWindows",
        ]
        var rows = [header.joined(separator: ",")]
        for v in lut.variants {
            for f in lut.frequenciesKHz {
                guard let c = v.latency[String(f)] else { continue }
                let fields: [String] = [
                    field(lut.device), field(lut.portfolio), lut.controller.rawValue, field(v.name), v.format,
                    num(v.accuracy), String(v.params), String(v.macs), String(v.memoryBytes), String(f), c.source.rawValue,
                    num(c.p50Ns), num(c.p90Ns), num(c.p99Ns), num(c.p999Ns), num(c.maxNs), num(c.meanNs), num(c.stddevNs),
                    num(c.cv), num(c.ciHalfWidthNs), String(c.samples), c.stopRule ?? "", c.noisy.map { $0 ? "true" : "false" } ?? "",
                    num(c.speedRatio), num(v.model?.aNs), num(v.model?.bNsKHz), num(v.model?.r2), num(v.model?.looMape),
                    c.interferedWindows.map(String.init) ?? "",
                ]
                rows.append(fields.joined(separator: ","))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    static func field(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
    static func num(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.6g", value)
    }
    static func num(_ value: Nanoseconds?) -> String { num(value?.value) }
    static func mhz(_ kHz: Int) -> String { "\(kHz / 1000)MHz" }
    static func bytes(_ n: Int) -> String {
        let a = Double(abs(n))
        let s = a >= 1_048_576.0 ? String(format: "%.1fMiB", a / 1048576) : a >= 1024 ? String(format: "%.0fKiB", a / 1024) : "\(Int(a))B"
        return n < 0 ? "-" + s : s
    }
    static func ms(_ ns: Double?) -> String { ns.map { String(format: "%.3f ms", $0 / 1e6) } ?? "n/a" }
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    static func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
}
