// GearboxProfiler/SampleStore: the raw samples database next to a LUT
// (`Profiles/<id>/<name>.samples.sqlite`), written through GRDB. One row per timed inference,
// one row per cell with its statistics, stop rules, thermal and shared-cache readings (a sample row is one
// inference, or the mean of `inferencesPerSample` consecutive ones under emulated DVFS), the switch and memory
// records, and the sweep's provenance in `meta`. Each cell is one transaction.

import Foundation
import GearboxCore
import GRDB

/// The sample database of one sweep.
public final class SampleStore {
    public let path: String
    private let queue: DatabaseQueue

    /// Opens (creating if needed) the database at `path` and its schema.
    public init(path: String) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            queue = try DatabaseQueue(path: path)
            try Self.migrator.migrate(queue)
        } catch {
            throw ProfilerError.sampleStore(path: path, reason: Self.reason(error))
        }
    }

    /// Deletes the database at `path` and SQLite's journal files beside it (files only: a
    /// folder of that name is left alone).
    public static func remove(at path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(path + suffix) }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                CREATE TABLE cell (
                    id INTEGER PRIMARY KEY,
                    key TEXT NOT NULL UNIQUE,
                    kHz INTEGER NOT NULL, variant TEXT NOT NULL, threads INTEGER NOT NULL, pin TEXT NOT NULL,
                    attempt INTEGER NOT NULL, source TEXT NOT NULL,
                    p50Ns REAL NOT NULL, p90Ns REAL NOT NULL, p99Ns REAL NOT NULL, p999Ns REAL NOT NULL,
                    minNs REAL NOT NULL, maxNs REAL NOT NULL, meanNs REAL NOT NULL, stddevNs REAL NOT NULL,
                    cv REAL NOT NULL, ciLowNs REAL NOT NULL, ciHighNs REAL NOT NULL, ciHalfWidthNs REAL NOT NULL,
                    samples INTEGER NOT NULL, stopRule TEXT NOT NULL, warmupRule TEXT NOT NULL,
                    warmupIterations INTEGER NOT NULL, appliedKHz INTEGER NOT NULL, speedRatio REAL NOT NULL,
                    frequencyVerified INTEGER NOT NULL, noisy INTEGER NOT NULL, loopOverheadFraction REAL NOT NULL,
                    thermalPauseNs INTEGER NOT NULL, milliCelsiusBefore TEXT NOT NULL, milliCelsiusAfter TEXT NOT NULL,
                    counters TEXT, startedAt TEXT NOT NULL);
                CREATE TABLE sample (
                    cellId INTEGER NOT NULL REFERENCES cell(id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL, ns INTEGER NOT NULL,
                    PRIMARY KEY (cellId, seq)) WITHOUT ROWID;
                CREATE TABLE switchCost (
                    fromVariant TEXT NOT NULL, toVariant TEXT NOT NULL, coldNs REAL, coldCache TEXT, warmNs REAL,
                    maskSwitchNs REAL, source TEXT NOT NULL, PRIMARY KEY (fromVariant, toVariant));
                CREATE TABLE memory (
                    variant TEXT PRIMARY KEY NOT NULL, engineBytes INTEGER NOT NULL, weightBytes INTEGER NOT NULL,
                    loadNs INTEGER NOT NULL, rssDeltaBytes INTEGER, peakRSSDeltaBytes INTEGER);
                """)
        }
        migrator.registerMigration("v2: inferences per sample") { db in
            try db.execute(sql: "ALTER TABLE cell ADD COLUMN inferencesPerSample INTEGER NOT NULL DEFAULT 1")
        }
        migrator.registerMigration("v3: interfered windows") { db in
            try db.execute(sql: "ALTER TABLE cell ADD COLUMN interferedWindows INTEGER NOT NULL DEFAULT 0")
            try db.execute(sql: "ALTER TABLE sample ADD COLUMN quartileNs INTEGER")
            try db.execute(sql: "ALTER TABLE sample ADD COLUMN interfered INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v4: shared-cache probe") { db in
            try db.execute(sql: "ALTER TABLE cell ADD COLUMN sharedCacheLoadNs REAL")
        }
        return migrator
    }

    /// Stores `value` as JSON under `key` in `meta` (provenance, configuration, clock calibration).
    public func setMeta<T: Encodable>(_ key: String, _ value: T) throws {
        let json = String(decoding: try JSONFile.encoder().encode(value), as: UTF8.self)
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [key, json])
        }
    }

    /// Records one cell and its samples in one transaction (replacing a cell with the same key).
    /// In window mode each sample also carries its window's upper-quartile inference and whether
    /// it was set aside as interfered.
    public func record(_ cell: CellRecord, samplesNs: [UInt64], windowQuartilesNs: [UInt64] = [], interfered: [Bool] = []) throws {
        let encoder = JSONFile.encoder()
        let before = String(decoding: try encoder.encode(cell.milliCelsiusBefore), as: UTF8.self)
        let after = String(decoding: try encoder.encode(cell.milliCelsiusAfter), as: UTF8.self)
        let counters = try cell.counters.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try write { db in
            try db.execute(sql: "DELETE FROM cell WHERE key = ?", arguments: [cell.key])
            let l = cell.latency
            let columns: [DatabaseValueConvertible?] = [
                cell.key, cell.kHz, cell.variant, cell.threads, cell.pin, cell.attempt, cell.source.rawValue,
                l.p50Ns.value, l.p90Ns.value, l.p99Ns.value, l.p999Ns.value, l.minNs.value, l.maxNs.value, l.meanNs.value,
                l.stddevNs.value, l.cv, l.ciLowNs.value, l.ciHighNs.value, l.ciHalfWidthNs.value, l.samples, cell.stopRule.rawValue, cell.warmupRule.rawValue,
                cell.warmupIterations, cell.appliedKHz, cell.speedRatio, cell.frequencyVerified, cell.noisy,
                cell.loopOverheadFraction, cell.thermalPauseNs.wholeNanoseconds, before, after, counters, cell.startedAt,
                cell.inferencesPerSample ?? 1, cell.interferedWindows ?? 0, cell.sharedCacheLoadNs?.value,
            ]
            try db.execute(
                sql: """
                    INSERT INTO cell(key, kHz, variant, threads, pin, attempt, source, p50Ns, p90Ns, p99Ns, p999Ns,
                    minNs, maxNs, meanNs, stddevNs, cv, ciLowNs, ciHighNs, ciHalfWidthNs, samples, stopRule, warmupRule,
                    warmupIterations, appliedKHz, speedRatio, frequencyVerified, noisy, loopOverheadFraction,
                    thermalPauseNs, milliCelsiusBefore, milliCelsiusAfter, counters, startedAt, inferencesPerSample,
                    interferedWindows, sharedCacheLoadNs)
                    VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ",")))
                    """,
                arguments: StatementArguments(columns))
            let cellID = db.lastInsertedRowID
            let insert = try db.cachedStatement(
                sql: "INSERT INTO sample(cellId, seq, ns, quartileNs, interfered) VALUES (?, ?, ?, ?, ?)")
            for (seq, ns) in samplesNs.enumerated() {
                let quartile = seq < windowQuartilesNs.count ? Int64(clamping: windowQuartilesNs[seq]) : nil
                let flagged = seq < interfered.count && interfered[seq]
                try insert.execute(arguments: [cellID, seq, Int64(clamping: ns), quartile, flagged])
            }
        }
    }

    /// Replaces the switch-cost matrix.
    public func record(switchCosts: [SwitchRecord]) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM switchCost")
            for r in switchCosts {
                try db.execute(
                    sql: "INSERT INTO switchCost VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [r.from, r.to, r.coldNs?.value, r.coldCache?.rawValue, r.warmNs?.value, r.maskSwitchNs?.value, r.source.rawValue])
            }
        }
    }

    /// Replaces the per-variant memory records.
    public func record(memory: PortfolioMemoryRecord) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM memory")
            for v in memory.variants {
                try db.execute(
                    sql: "INSERT INTO memory VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [v.variant, v.engineBytes, v.weightBytes, v.loadNs.wholeNanoseconds, v.rssDeltaBytes, v.peakRSSDeltaBytes])
            }
        }
    }

    /// Deletes cells (and their samples) whose keys are not in `keep`: the cell a killed sweep was
    /// writing when it died, if its transaction committed after the checkpoint's last write.
    public func deleteCells(notIn keep: Set<String>) throws {
        try write { db in
            let keys = try String.fetchAll(db, sql: "SELECT key FROM cell")
            for key in keys where !keep.contains(key) {
                try db.execute(sql: "DELETE FROM sample WHERE cellId = (SELECT id FROM cell WHERE key = ?)", arguments: [key])
                try db.execute(sql: "DELETE FROM cell WHERE key = ?", arguments: [key])
            }
        }
    }

    /// Keys of the stored cells, sorted.
    public func cellKeys() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT key FROM cell ORDER BY key") }
    }

    /// The stored samples of one cell, in the order they were taken.
    public func samples(cellKey: String) throws -> [UInt64] {
        try read { db in
            try Int64.fetchAll(
                db, sql: "SELECT ns FROM sample WHERE cellId = (SELECT id FROM cell WHERE key = ?) ORDER BY seq",
                arguments: [cellKey]
            ).map { UInt64(clamping: $0) }
        }
    }

    /// Every window that recorded its gap-free upper-quartile inference (emulated sweeps), with
    /// its cell and variant, in cell order.
    public func windowQuartiles() throws -> [HostContention.Window] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT cell.key AS key, cell.variant AS variant, sample.quartileNs AS quartileNs
                FROM sample JOIN cell ON cell.id = sample.cellId
                WHERE sample.quartileNs IS NOT NULL ORDER BY cell.id, sample.seq
                """).map { row in
                HostContention.Window(cell: row["key"], variant: row["variant"],
                                      quartileNs: Nanoseconds(row["quartileNs"] as Int64))
            }
        }
    }

    /// Each probed cell's shared-cache reading (ns per load, see `SharedCacheProbe`), by cell key.
    public func sharedCacheReadings() throws -> [String: Nanoseconds] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT key, sharedCacheLoadNs FROM cell WHERE sharedCacheLoadNs IS NOT NULL")
            return Dictionary(rows.map { ($0["key"] as String, Nanoseconds($0["sharedCacheLoadNs"] as Double)) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// The number of sample rows in the database.
    public func totalSamples() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") ?? 0 }
    }

    /// A `meta` value as its JSON text.
    public func metaJSON(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    private func write(_ body: (Database) throws -> Void) throws {
        do { try queue.write(body) } catch { throw ProfilerError.sampleStore(path: path, reason: Self.reason(error)) }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.read(body) } catch { throw ProfilerError.sampleStore(path: path, reason: Self.reason(error)) }
    }

    private static func reason(_ error: Error) -> String {
        if let db = error as? DatabaseError { return db.message ?? "\(db.resultCode)" }
        if let profiler = error as? ProfilerError { return profiler.description }
        return "\(error)"
    }
}
