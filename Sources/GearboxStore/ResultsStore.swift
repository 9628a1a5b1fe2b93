// GearboxStore/ResultsStore: everything Gearbox measured, in one database — open (migrating),
// push result files idempotently, record failures, and read them back. Written once over
// `StoreBackend`, so SQLite and PostgreSQL hold and return the same thing.

import Foundation
import GearboxCore
import GearboxPortfolio
import GearboxRuntime

public final class ResultsStore {
    public let backend: any StoreBackend

    /// Opens the store at `location` and brings its schema up to date.
    public static func open(_ location: StoreLocation) throws -> ResultsStore {
        let backend: any StoreBackend
        switch location {
        case let .sqlite(path): backend = try SQLiteBackend(path: path)
        case let .postgres(postgres): backend = try PostgresBackend(postgres)
        }
        do {
            return try ResultsStore(backend: backend)
        } catch {
            backend.close()
            throw error
        }
    }

    /// Wraps an open backend, migrating it to `schemaVersion` (the current one unless a test
    /// builds an older store on purpose).
    public init(backend: any StoreBackend, schemaVersion: Int = ResultsStore.currentSchemaVersion) throws {
        self.backend = backend
        try migrate(to: schemaVersion)
    }

    public func close() { backend.close() }

    // MARK: Schema

    /// The highest migration applied (0 for an empty database).
    public func schemaVersion() throws -> Int {
        try backend.rows("SELECT MAX(version) AS version FROM gearbox_migrations", []).first?.integer("version") ?? 0
    }

    /// The schema version this Gearbox writes.
    public static let currentSchemaVersion = StoreSchema.current

    private func migrate(to target: Int) throws {
        // Under the schema lock: PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a
        // second process creating the same table at the same moment (farm workers open a fresh
        // store together).
        try backend.inTransaction {
            try backend.lockSchema()
            try backend.execute(StoreSchema.bookkeeping)
        }
        let found = try schemaVersion()
        guard found <= StoreSchema.current else {
            throw StoreError.newerSchema(backend.locationDescription, found: found, supported: StoreSchema.current)
        }
        for migration in StoreSchema.migrations where migration.version > found && migration.version <= target {
            try backend.inTransaction {
                try backend.lockSchema()
                // Another process may have applied it while this one waited for the lock.
                guard try schemaVersion() < migration.version else { return }
                for statement in migration.statements { try backend.execute(statement) }
                try migration.backfill?(self)
                try backend.execute(
                    "INSERT INTO gearbox_migrations (version, applied_at) VALUES (?, ?)",
                    [.integer(Int64(migration.version)), .text(Self.timestamp(Date()))])
            }
        }
    }

    /// Fills version 2's row tables from each run's stored table.
    func backfillRunDetails() throws {
        for row in try backend.rows("SELECT id, lut_json FROM runs ORDER BY id", []) {
            guard let id = row.text("id"), let json = row.text("lut_json") else { continue }
            let table = try JSONFile.decode(LookupTable.self, from: Data(json.utf8), path: "store run \(id)")
            try insertDetails(of: table, runID: id)
        }
    }

    // MARK: Push

    /// Stores a lookup table as a run, identified by its content: a second push of the same
    /// table changes nothing and says so.
    @discardableResult
    public func push(_ table: LookupTable) throws -> PushOutcome {
        let json = try Self.canonicalJSON(table)
        let id = FileDigest.sha256Hex(of: Data(json.utf8))
        return try backend.inTransaction {
            try registerPortfolio(name: table.portfolio, contentHash: nil)
            let inserted = try backend.rows(
                """
                INSERT INTO runs (id, device, portfolio, controller, gearbox_version, git_commit, hostname, date, lut_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id
                """,
                [.text(id), .text(table.device), .text(table.portfolio), .text(table.controller.rawValue),
                 .text(table.provenance.gearboxVersion), .text(table.provenance.gitCommit),
                 .text(table.provenance.hostname), .text(table.provenance.date), .text(json)])
            guard !inserted.isEmpty else { return PushOutcome(kind: .run, id: id, added: false) }
            try insertDetails(of: table, runID: id)
            return PushOutcome(kind: .run, id: id, added: true)
        }
    }

    /// Stores a validation summary (`gearbox validate`'s summary.json), by content.
    @discardableResult
    public func push(validation summary: ValidationSummaryRecord) throws -> PushOutcome {
        let id = FileDigest.sha256Hex(of: Data(summary.json.utf8))
        return try backend.inTransaction {
            let inserted = try backend.rows(
                """
                INSERT INTO validations (id, device, lut, trace, objective, controller, gearbox_version, git_commit, date, summary_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id
                """,
                [.text(id), .text(summary.device), .text(summary.lut), .text(summary.trace), .text(summary.objective),
                 .text(summary.controller), .text(summary.gearboxVersion), .text(summary.gitCommit), .text(summary.date),
                 .text(summary.json)])
            guard !inserted.isEmpty else { return PushOutcome(kind: .validation, id: id, added: false) }
            for policy in summary.policies {
                try backend.execute(
                    "INSERT INTO validation_policies (validation_id, policy, violation_rate, p99_ns, switches) VALUES (?, ?, ?, ?, ?)",
                    [.text(id), .text(policy.name), .real(policy.violationRate), .real(policy.p99Ns.value), .integer(Int64(policy.switches))])
            }
            return PushOutcome(kind: .validation, id: id, added: true)
        }
    }

    /// Stores (or updates, when it was probed again) a device by its id.
    @discardableResult
    public func push(device: DeviceRecord) throws -> PushOutcome {
        let hash = FileDigest.sha256Hex(of: Data(device.probeJSON.utf8))
        // One upsert, so that two farm workers pushing the same device at once cannot collide.
        let changed = try backend.rows(
            """
            INSERT INTO devices (id, hostname, cpu_model, kind, board, kernel, firmware, probe_hash, probe_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, cpu_model = excluded.cpu_model,
                kind = excluded.kind, board = excluded.board, kernel = excluded.kernel, firmware = excluded.firmware,
                probe_hash = excluded.probe_hash, probe_json = excluded.probe_json
            WHERE devices.probe_hash <> excluded.probe_hash
            RETURNING id
            """,
            [.text(device.id), .init(device.hostname), .init(device.cpuModel), .text(device.kind), .init(device.board),
             .init(device.kernel), .init(device.firmware), .text(hash), .text(device.probeJSON)])
        return PushOutcome(kind: .device, id: device.id, added: !changed.isEmpty)
    }

    /// Records a portfolio by name and content hash (the hash of its manifest, which lists each
    /// variant file's hash).
    @discardableResult
    public func push(portfolio name: String, contentHash: String) throws -> PushOutcome {
        try backend.inTransaction {
            let added = try registerPortfolio(name: name, contentHash: contentHash)
            return PushOutcome(kind: .portfolio, id: name, added: added)
        }
    }

    /// A failed step on a board (the farm's connection lost, command failed, timeout).
    @discardableResult
    public func recordFailure(board: String, step: String, reason: String, at date: Date = Date()) throws -> String {
        for (name, value) in [("board", board), ("step", step), ("reason", reason)]
        where value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw StoreError.emptyField(name)
        }
        let id = UUID().uuidString.lowercased()
        try backend.execute(
            "INSERT INTO failures (id, board, step, reason, date) VALUES (?, ?, ?, ?, ?)",
            [.text(id), .text(board), .text(step), .text(reason), .text(Self.timestamp(date))])
        return id
    }

    /// A name without a known hash is kept with an empty hash until its manifest is pushed.
    @discardableResult
    private func registerPortfolio(name: String, contentHash: String?) throws -> Bool {
        if let contentHash {
            try backend.execute("DELETE FROM portfolios WHERE name = ? AND content_hash = ''", [.text(name)])
            return try !backend.rows(
                "INSERT INTO portfolios (name, content_hash) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING name",
                [.text(name), .text(contentHash)]).isEmpty
        }
        let known = try backend.rows("SELECT name FROM portfolios WHERE name = ?", [.text(name)])
        guard known.isEmpty else { return false }
        try backend.execute("INSERT INTO portfolios (name, content_hash) VALUES (?, '') ON CONFLICT DO NOTHING", [.text(name)])
        return true
    }

    private func insertDetails(of table: LookupTable, runID id: String) throws {
        for variant in table.variants {
            for (key, cell) in variant.latency.sorted(by: { $0.key < $1.key }) {
                guard let kHz = Int(key) else { continue }
                try backend.execute(
                    """
                    INSERT INTO cells (run_id, variant, frequency_khz, source, p50_ns, p90_ns, p99_ns, mean_ns, samples,
                    energy_per_inference_j, power_w) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """,
                    [.text(id), .text(variant.name), .integer(Int64(kHz)), .text(cell.source.rawValue), .real(cell.p50Ns.value),
                     .real(cell.p90Ns.value), .real(cell.p99Ns.value), .real(cell.meanNs.value), .integer(Int64(cell.samples)),
                     .init(cell.energyPerInferenceJ), .init(cell.powerW)])
            }
            if let memory = variant.memory {
                try backend.execute(
                    """
                    INSERT INTO variant_memory (run_id, variant, engine_bytes, rss_delta_bytes, peak_rss_delta_bytes)
                    VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """,
                    [.text(id), .text(variant.name), .integer(Int64(memory.engineBytes)), .init(memory.rssDeltaBytes),
                     .init(memory.peakRSSDeltaBytes)])
            }
        }
        for (from, row) in table.switchCostNs.sorted(by: { $0.key < $1.key }) {
            for (to, cost) in row.sorted(by: { $0.key < $1.key }) {
                try backend.execute(
                    "INSERT INTO switch_costs (run_id, from_variant, to_variant, cold_ns, warm_ns) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [.text(id), .text(from), .text(to), .init(cost.cold?.value), .init(cost.warm?.value)])
            }
        }
    }

    // MARK: Read

    /// What the store holds, each list in a fixed order (so two backends compare equal).
    public func listing() throws -> StoreListing {
        let devices = try backend.rows(
            "SELECT id, hostname, cpu_model, kind, board, kernel, firmware FROM devices ORDER BY id", []
        ).map { row in
            StoreListing.Device(
                id: row.text("id") ?? "", kind: row.text("kind") ?? "", board: row.text("board"),
                cpuModel: row.text("cpu_model"), hostname: row.text("hostname"), kernel: row.text("kernel"),
                firmware: row.text("firmware"))
        }
        let portfolios = try backend.rows("SELECT name, content_hash FROM portfolios ORDER BY name, content_hash", []).map {
            StoreListing.Portfolio(name: $0.text("name") ?? "", contentHash: ($0.text("content_hash") ?? "").isEmpty ? nil : $0.text("content_hash"))
        }
        let runs = try backend.rows(
            """
            SELECT r.id, r.device, r.portfolio, r.controller, r.gearbox_version, r.git_commit, r.date,
                (SELECT COUNT(*) FROM cells c WHERE c.run_id = r.id) AS cells,
                (SELECT COUNT(*) FROM cells c WHERE c.run_id = r.id AND c.energy_per_inference_j IS NOT NULL) AS energy_cells
            FROM runs r ORDER BY r.date, r.id
            """, []
        ).map { row in
            StoreListing.Run(
                id: row.text("id") ?? "", device: row.text("device") ?? "", portfolio: row.text("portfolio") ?? "",
                controller: row.text("controller") ?? "", gearboxVersion: row.text("gearbox_version") ?? "",
                gitCommit: row.text("git_commit") ?? "", date: row.text("date") ?? "", cells: row.integer("cells") ?? 0,
                energyCells: row.integer("energy_cells") ?? 0)
        }
        let validations = try backend.rows(
            "SELECT id, device, lut, trace, objective, controller, date FROM validations ORDER BY date, id", []
        ).map { row in
            StoreListing.Validation(
                id: row.text("id") ?? "", device: row.text("device") ?? "", lut: row.text("lut") ?? "",
                trace: row.text("trace") ?? "", objective: row.text("objective") ?? "",
                controller: row.text("controller") ?? "", date: row.text("date") ?? "")
        }
        return StoreListing(
            store: backend.locationDescription, backend: backend.kind, schemaVersion: try schemaVersion(),
            devices: devices, portfolios: portfolios, runs: runs, validations: validations, failures: try failures())
    }

    /// Every recorded failure, oldest first.
    public func failures() throws -> [StoreListing.Failure] {
        try backend.rows("SELECT id, board, step, reason, date FROM failures ORDER BY date, id", []).map { row in
            StoreListing.Failure(
                id: row.text("id") ?? "", board: row.text("board") ?? "", step: row.text("step") ?? "",
                reason: row.text("reason") ?? "", date: row.text("date") ?? "")
        }
    }

    /// The stored tables of one portfolio's runs, oldest first, each with its run id.
    public func runs(portfolio: String) throws -> [StoredRun] {
        try backend.rows("SELECT id, lut_json FROM runs WHERE portfolio = ? ORDER BY date, id", [.text(portfolio)]).map { row in
            let id = row.text("id") ?? ""
            let table = try JSONFile.decode(LookupTable.self, from: Data((row.text("lut_json") ?? "").utf8), path: "store run \(id)")
            return StoredRun(id: id, table: table)
        }
    }

    /// Every cell joined with its run's provenance, as CSV (header first, rows in a fixed order).
    public func cellsCSV() throws -> String {
        let columns = [
            "run_id", "device", "portfolio", "controller", "gearbox_version", "git_commit", "date", "variant",
            "frequency_khz", "source", "p50_ns", "p90_ns", "p99_ns", "mean_ns", "samples", "energy_per_inference_j", "power_w",
        ]
        let rows = try backend.rows(
            """
            SELECT r.id AS run_id, r.device, r.portfolio, r.controller, r.gearbox_version, r.git_commit, r.date,
                c.variant, c.frequency_khz, c.source, c.p50_ns, c.p90_ns, c.p99_ns, c.mean_ns, c.samples,
                c.energy_per_inference_j, c.power_w
            FROM cells c JOIN runs r ON r.id = c.run_id
            ORDER BY r.date, r.id, c.variant, c.frequency_khz
            """, [])
        var lines = [columns.joined(separator: ",")]
        for row in rows {
            lines.append(columns.map { CSV.field(row.values[$0]?.description ?? "") }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Helpers

    static func canonicalJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
            throw StoreError.database("(encoding)", reason: "cannot encode: \(error)")
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// What a push did.
public struct PushOutcome: Equatable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable { case run, validation, device, portfolio }
    public var kind: Kind
    public var id: String
    /// False when the store already held exactly this.
    public var added: Bool
}

/// One stored run: its id and the table it stored.
public struct StoredRun: Sendable {
    public var id: String
    public var table: LookupTable
}

/// RFC 4180 quoting.
enum CSV {
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
