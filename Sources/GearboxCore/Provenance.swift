// GearboxCore/Provenance: where a table, summary or report came from: device, controller,
// build, date, governor, temperatures and, on a virtual board, the board model. Sits in every
// result file Gearbox writes.

import Foundation

/// The board model a figure was produced on (`gearbox board run`): its figures are a model's,
/// not hardware's. Written as `"board": {"name": …, "model": true}`.
public struct BoardLabel: Codable, Equatable, Sendable {
    public var name: String
    public var model: Bool
    public init(name: String, model: Bool = true) { self.name = name; self.model = model }
}

public struct Provenance: Codable, Sendable, Equatable {
    public var deviceID: String
    public var controller: MeasurementSource
    public var gearboxVersion: String
    public var gitCommit: String
    public var compiler: String
    public var date: String
    public var hostname: String
    public var governors: [String]
    public var limitsKHz: [[Int]]
    public var milliCelsius: [String: Int]
    public var notes: [String]
    /// The board model the figures were measured on; nil on hardware (and in files written before).
    public var board: BoardLabel?

    public init(
        deviceID: String, controller: MeasurementSource, governors: [String] = [], limitsKHz: [[Int]] = [],
        milliCelsius: [String: Int] = [:], notes: [String] = [], date: Date = Date(), board: BoardLabel? = nil
    ) {
        self.deviceID = deviceID
        self.controller = controller
        self.gearboxVersion = GearboxBuild.version
        self.gitCommit = GearboxBuild.gitCommit
        self.compiler = GearboxBuild.compiler
        self.date = ISO8601DateFormatter().string(from: date)
        self.hostname = ProcessInfo.processInfo.hostName
        self.governors = governors
        self.limitsKHz = limitsKHz
        self.milliCelsius = milliCelsius
        self.notes = notes
        self.board = board
    }
}

/// Facts about this build of Gearbox.
public enum GearboxBuild {
    public static let version = "0.1.0"

    public static var compiler: String {
        #if compiler(>=6.3)
        return "Swift 6.3+"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #else
        return "Swift 6.1"
        #endif
    }

    /// The git commit of the source tree Gearbox runs from, read from `GEARBOX_GIT_COMMIT` or the
    /// `.git` directory of the current working directory; "unknown" when neither is there.
    public static var gitCommit: String {
        if let env = ProcessInfo.processInfo.environment["GEARBOX_GIT_COMMIT"], !env.isEmpty { return env }
        guard let head = try? String(contentsOfFile: ".git/HEAD", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        else { return "unknown" }
        if head.hasPrefix("ref: ") {
            let ref = String(head.dropFirst(5))
            if let sha = try? String(contentsOfFile: ".git/" + ref, encoding: .utf8) {
                return sha.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let packed = try? String(contentsOfFile: ".git/packed-refs", encoding: .utf8),
               let line = packed.split(separator: "\n").first(where: { $0.hasSuffix(" " + ref) }) {
                return String(line.prefix(40))
            }
            return "unknown"
        }
        return head
    }
}
