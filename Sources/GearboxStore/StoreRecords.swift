// GearboxStore/StoreRecords: the store's view of the files it keeps (a device probe, a
// validation summary) and `StoreListing`, what `gearbox store list` shows.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxPolicy

/// A probed device (`Devices/<id>.json`), with what the store indexes it by.
public struct DeviceRecord: Sendable, Equatable {
    public var id: String
    public var hostname: String?
    public var cpuModel: String?
    /// "board model" (probed inside a board model: its figures are a model's) or "real".
    public var kind: String
    public var board: String?
    public var kernel: String?
    public var firmware: String?
    /// The probe file, verbatim.
    public var probeJSON: String

    public init(_ description: DeviceDescription, probeJSON: String) {
        id = description.id
        hostname = description.hostname
        cpuModel = description.cpuModel
        board = description.board?.name
        kind = description.board.map { $0.model ? "board model" : "real" } ?? "real"
        // Newer probes may carry these; older ones (and boards that hide them) do not.
        let object = (try? JSONSerialization.jsonObject(with: Data(probeJSON.utf8))) as? [String: Any]
        kernel = object?["kernel"] as? String
        firmware = object?["firmware"] as? String
        self.probeJSON = probeJSON
    }
}

/// A validation summary (`gearbox validate`'s summary.json) with its indexed fields.
public struct ValidationSummaryRecord: Sendable, Equatable {
    public struct Policy: Sendable, Equatable {
        public var name: String
        public var violationRate: Double
        public var p99Ns: Nanoseconds
        public var switches: Int
    }
    public var device: String
    public var lut: String
    public var trace: String
    public var objective: String
    public var controller: String
    public var gearboxVersion: String
    public var gitCommit: String
    public var date: String
    public var policies: [Policy]
    public var json: String

    public init(_ summary: ValidationSummary) throws {
        device = summary.provenance.deviceID
        lut = summary.lut
        trace = summary.trace
        objective = summary.objective
        controller = summary.controller.rawValue
        gearboxVersion = summary.provenance.gearboxVersion
        gitCommit = summary.provenance.gitCommit
        date = summary.provenance.date
        policies = summary.policies.sorted { $0.key < $1.key }.map {
            Policy(name: $0.key, violationRate: $0.value.violationRate, p99Ns: $0.value.p99Ns, switches: $0.value.switches)
        }
        json = try ResultsStore.canonicalJSON(summary)
    }
}

/// What `gearbox store list` shows (and `--json` writes).
public struct StoreListing: Codable, Equatable, Sendable {
    public struct Device: Codable, Equatable, Sendable {
        public var id: String
        public var kind: String
        public var board: String?
        public var cpuModel: String?
        public var hostname: String?
        public var kernel: String?
        public var firmware: String?
    }
    public struct Portfolio: Codable, Equatable, Sendable {
        public var name: String
        /// SHA-256 of its manifest; nil until the portfolio itself was pushed.
        public var contentHash: String?
        public init(name: String, contentHash: String?) { self.name = name; self.contentHash = contentHash }
    }
    public struct Run: Codable, Equatable, Sendable {
        public var id: String
        public var device: String
        public var portfolio: String
        public var controller: String
        public var gearboxVersion: String
        public var gitCommit: String
        public var date: String
        public var cells: Int
        public var energyCells: Int
    }
    public struct Validation: Codable, Equatable, Sendable {
        public var id: String
        public var device: String
        public var lut: String
        public var trace: String
        public var objective: String
        public var controller: String
        public var date: String
    }
    public struct Failure: Codable, Equatable, Sendable {
        public var id: String
        public var board: String
        public var step: String
        public var reason: String
        public var date: String
    }

    /// The store's location (without password) and backend ("sqlite", "postgresql").
    public var store: String
    public var backend: String
    public var schemaVersion: Int
    public var devices: [Device]
    public var portfolios: [Portfolio]
    public var runs: [Run]
    public var validations: [Validation]
    public var failures: [Failure]
}
