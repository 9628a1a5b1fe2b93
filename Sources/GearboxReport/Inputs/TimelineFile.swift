// GearboxReport/Inputs/TimelineFile: reads the `timeline.csv` that `gearbox validate` writes next
// to summary.json (time_ms,khz,policy,variant,latency_ns,violation,switch[,switch_ns,energy_j,temperature_c]), one row per
// inference. GearboxPolicy writes the file; this side reads it by column name and keeps policy
// names as text, so a report still draws runs of policies it doesn't know.

import Foundation
import GearboxCore

/// One validation run's per-inference timeline.
public struct TimelineFile: Sendable, Equatable {
    /// One inference.
    public struct Row: Sendable, Equatable {
        public var timeMs: Double
        public var kHz: Int
        public var policy: String
        public var variant: String
        public var latencyNs: Nanoseconds
        public var violation: Bool
        /// Whether the policy switched variant before this inference.
        public var switched: Bool
        /// The switch's own time, when the file has a `switch_ns` column.
        public var switchNs: Nanoseconds?
        /// The row's energy in J and the die temperature in °C, when the file has them (empty cells: nil).
        public var energyJ: Double?
        public var temperatureC: Double?
        public init(
            timeMs: Double, kHz: Int, policy: String, variant: String, latencyNs: Nanoseconds, violation: Bool, switched: Bool,
            switchNs: Nanoseconds? = nil, energyJ: Double? = nil, temperatureC: Double? = nil
        ) {
            self.energyJ = energyJ; self.temperatureC = temperatureC
            self.timeMs = timeMs; self.kHz = kHz; self.policy = policy; self.variant = variant
            self.latencyNs = latencyNs; self.violation = violation; self.switched = switched; self.switchNs = switchNs
        }
    }

    public var rows: [Row]

    public init(rows: [Row]) { self.rows = rows }

    /// Policy names in order of first appearance.
    public var policies: [String] {
        var seen = Set<String>(), ordered: [String] = []
        for row in rows where seen.insert(row.policy).inserted { ordered.append(row.policy) }
        return ordered
    }

    /// The rows of one policy, in time order.
    public func rows(of policy: String) -> [Row] {
        rows.filter { $0.policy == policy }.sorted { $0.timeMs < $1.timeMs }
    }

    /// Reads and parses a timeline file.
    public static func read(from path: String) throws -> TimelineFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ReportError.timelineMalformed(path: path, line: 0, reason: "not readable as UTF-8 text")
        }
        return try parse(text, path: path)
    }

    static let requiredColumns = ["time_ms", "khz", "policy", "variant", "latency_ns", "violation", "switch"]

    /// Parses CSV text; columns are found by header name, so order and extra columns don't matter.
    public static func parse(_ text: String, path: String) throws -> TimelineFile {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        guard let header = lines.first else { throw ReportError.timelineMissingColumn(path: path, column: "time_ms") }
        let names = CSV.fields(header).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var index: [String: Int] = [:]
        for column in requiredColumns {
            guard let position = names.firstIndex(of: column) else {
                throw ReportError.timelineMissingColumn(path: path, column: column)
            }
            index[column] = position
        }
        let switchNsColumn = names.firstIndex(of: "switch_ns")
        let energyColumn = names.firstIndex(of: "energy_j"), temperatureColumn = names.firstIndex(of: "temperature_c")
        /// An optional numeric column: nil when absent or empty, else a finite number.
        func optional(_ fields: [String], _ position: Int?, _ column: String, line: Int) throws -> Double? {
            guard let position, fields.indices.contains(position) else { return nil }
            let text = fields[position].trimmingCharacters(in: .whitespaces)
            if text.isEmpty { return nil }
            guard let value = Double(text), value.isFinite else {
                throw ReportError.timelineMalformed(path: path, line: line, reason: "\(column) '\(text)' is not a number")
            }
            return value
        }
        func at(_ fields: [String], _ column: String) -> String {
            let position = index[column] ?? 0
            return fields.indices.contains(position) ? fields[position].trimmingCharacters(in: .whitespaces) : ""
        }
        var rows: [Row] = []
        rows.reserveCapacity(lines.count)
        for (offset, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let lineNumber = offset + 1
            let fields = CSV.fields(line)
            guard fields.count >= names.count else {
                throw ReportError.timelineMalformed(path: path, line: lineNumber, reason: "\(fields.count) fields, header has \(names.count)")
            }
            guard let time = Double(at(fields, "time_ms")), time.isFinite else {
                throw ReportError.timelineMalformed(path: path, line: lineNumber, reason: "time_ms '\(at(fields, "time_ms"))' is not a number")
            }
            guard let kHz = Int(at(fields, "khz")) ?? Double(at(fields, "khz")).flatMap({ Int(exactly: $0.rounded()) }) else {
                throw ReportError.timelineMalformed(path: path, line: lineNumber, reason: "khz '\(at(fields, "khz"))' is not a number")
            }
            guard let latency = Double(at(fields, "latency_ns")), latency.isFinite else {
                throw ReportError.timelineMalformed(path: path, line: lineNumber, reason: "latency_ns '\(at(fields, "latency_ns"))' is not a number")
            }
            guard let violation = flag(at(fields, "violation")), let switched = flag(at(fields, "switch")) else {
                throw ReportError.timelineMalformed(path: path, line: lineNumber, reason: "violation and switch must be 0/1 or true/false")
            }
            var switchNs: Double? = nil
            if let position = switchNsColumn, fields.indices.contains(position) {
                let text = fields[position].trimmingCharacters(in: .whitespaces)
                guard let value = Double(text), value.isFinite else {
                    throw ReportError.timelineMalformed(path: path, line: lineNumber, reason: "switch_ns '\(text)' is not a number")
                }
                switchNs = value
            }
            rows.append(Row(timeMs: time, kHz: kHz, policy: at(fields, "policy"), variant: at(fields, "variant"),
                            latencyNs: Nanoseconds(latency), violation: violation, switched: switched, switchNs: switchNs.map { Nanoseconds($0) },
                            energyJ: try optional(fields, energyColumn, "energy_j", line: lineNumber),
                            temperatureC: try optional(fields, temperatureColumn, "temperature_c", line: lineNumber)))
        }
        return TimelineFile(rows: rows)
    }

    static func flag(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "y": return true
        case "0", "false", "no", "n", "": return false
        default: return nil
        }
    }
}

/// Minimal RFC 4180 field splitting: commas, and double-quoted fields with "" escapes.
enum CSV {
    static func fields(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else {
                    current.append(character)
                }
            } else if character == "\"" && current.isEmpty {
                quoted = true
            } else if character == "," {
                fields.append(current); current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
