// Tests for GearboxStore/StoreSchema: the migrations are numbered 1…current without gaps and only
// add tables; an empty SQLite database is brought to the current version with each step recorded
// once; reopening applies nothing again; a store built step by step from any older version ends
// with the same schema as a fresh one; and a step that fails leaves the database as it was.

import GearboxTestSupport
import Testing
@testable import GearboxStore

/// A SQLite store file in a scratch directory, opened at a chosen schema version.
private struct SchemaScratch {
    let scratch = ScratchDirectory("store-schema")
    var path: String { scratch.file("store.sqlite") }

    func open(schemaVersion: Int = StoreSchema.current) throws -> ResultsStore {
        try ResultsStore(backend: SQLiteBackend(path: path), schemaVersion: schemaVersion)
    }
}

/// The store's own tables (not SQLite's, not the bookkeeping table), name → CREATE statement.
private func tables(_ store: ResultsStore) throws -> [String: String] {
    var found: [String: String] = [:]
    for row in try store.backend.rows("SELECT name, sql FROM sqlite_master WHERE type = 'table'", []) {
        guard let name = row.text("name"), !name.hasPrefix("sqlite_"), name != "gearbox_migrations" else { continue }
        found[name] = row.text("sql") ?? ""
    }
    return found
}

/// The versions recorded in the bookkeeping table, in order, with when each was applied.
private func applied(_ store: ResultsStore) throws -> [(version: Int, at: String)] {
    try store.backend.rows("SELECT version, applied_at FROM gearbox_migrations ORDER BY version", []).map {
        (version: $0.integer("version") ?? -1, at: $0.text("applied_at") ?? "")
    }
}

/// The table a `CREATE TABLE name (…)` statement creates.
private func createdTable(_ statement: String) -> String? {
    let words = statement.split(whereSeparator: { $0.isWhitespace || $0 == "(" })
    guard words.count >= 3, words[0].uppercased() == "CREATE", words[1].uppercased() == "TABLE" else { return nil }
    return String(words[2])
}

@Suite struct StoreSchemaTests {
    @Test func versionsRunFromOneToCurrentWithoutGapsOrRepeats() {
        let versions = StoreSchema.migrations.map(\.version)
        #expect(versions == Array(1...StoreSchema.current))
        #expect(ResultsStore.currentSchemaVersion == StoreSchema.current)
    }

    @Test func everyStatementCreatesANewTableAndNoTwoStepsCreateTheSameOne() {
        var seen: Set<String> = []
        for migration in StoreSchema.migrations {
            #expect(!migration.statements.isEmpty, "version \(migration.version) has no statements")
            for statement in migration.statements {
                let name = createdTable(statement)
                #expect(name != nil, "version \(migration.version): not a CREATE TABLE: \(statement.prefix(60))")
                if let name { #expect(seen.insert(name).inserted, "version \(migration.version) creates \(name) again") }
            }
        }
        // Version 1's four tables and version 2's five, at least.
        #expect(seen.isSuperset(of: ["devices", "portfolios", "runs", "failures", "cells", "switch_costs",
                                     "variant_memory", "validations", "validation_policies"]))
    }

    @Test func anEmptyDatabaseReachesTheCurrentVersionWithEachStepRecordedOnce() throws {
        let scratch = SchemaScratch()
        let store = try scratch.open()
        defer { store.close() }
        #expect(try store.schemaVersion() == StoreSchema.current)
        let steps = try applied(store)
        #expect(steps.map(\.version) == Array(1...StoreSchema.current))
        #expect(steps.allSatisfy { !$0.at.isEmpty })
        let expected = Set(StoreSchema.migrations.flatMap(\.statements).compactMap(createdTable))
        #expect(Set(try tables(store).keys) == expected)
    }

    @Test func reopeningAnUpToDateStoreAppliesNothingAgainAndKeepsItsRows() throws {
        let scratch = SchemaScratch()
        let first = try scratch.open()
        try first.backend.execute("INSERT INTO portfolios (name, content_hash) VALUES ('kept', 'h1')")
        let before = try applied(first)
        first.close()
        // A second open (and a third) must neither fail on an existing table nor record a step twice.
        for _ in 0..<2 {
            let again = try scratch.open()
            defer { again.close() }
            let after = try applied(again)
            #expect(after.map(\.version) == before.map(\.version))
            #expect(after.map(\.at) == before.map(\.at))
            #expect(try again.backend.rows("SELECT name FROM portfolios", []).map { $0.text("name") } == ["kept"])
        }
    }

    @Test func openingAtAnOlderVersionStopsThere() throws {
        let scratch = SchemaScratch()
        let empty = try scratch.open(schemaVersion: 0)
        #expect(try empty.schemaVersion() == 0)
        #expect(try tables(empty).isEmpty)
        empty.close()
        let old = try scratch.open(schemaVersion: 1)
        defer { old.close() }
        #expect(try old.schemaVersion() == 1)
        #expect(Set(try tables(old).keys) == ["devices", "portfolios", "runs", "failures"])
        #expect(try applied(old).map(\.version) == [1])
    }

    @Test(arguments: 0...StoreSchema.current)
    func aStoreLeftAtAnOlderVersionEndsWithTheSameSchemaAsAFreshOne(version: Int) throws {
        let fresh = SchemaScratch()
        let reference = try fresh.open()
        let expected = try tables(reference)
        reference.close()

        let scratch = SchemaScratch()
        let old = try scratch.open(schemaVersion: version)
        #expect(try old.schemaVersion() == version)
        old.close()
        let upgraded = try scratch.open()
        defer { upgraded.close() }
        #expect(try upgraded.schemaVersion() == StoreSchema.current)
        #expect(try applied(upgraded).map(\.version) == Array(1...StoreSchema.current))
        #expect(try tables(upgraded) == expected)
    }

    @Test func aStepThatFailsLeavesTheDatabaseAsItWas() throws {
        let scratch = SchemaScratch()
        let old = try scratch.open(schemaVersion: 1)
        // A table version 2 creates after three others already exist: its step fails part-way.
        try old.backend.execute("CREATE TABLE validations (id TEXT PRIMARY KEY)")
        old.close()
        #expect(throws: StoreError.self) { try scratch.open() }
        let after = try scratch.open(schemaVersion: 1)
        defer { after.close() }
        #expect(try after.schemaVersion() == 1)
        // The tables the failed step created before its failure were rolled back with it.
        #expect(Set(try tables(after).keys) == ["devices", "portfolios", "runs", "failures", "validations"])
    }
}
