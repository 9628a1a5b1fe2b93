// The store's contract, run the same way against SQLite and against a real (throwaway,
// socket-only) PostgreSQL cluster: idempotent pushes, failures, export, read-back, migrations.

import Foundation
import GearboxCore
import GearboxPolicy
import GearboxRuntime
import GearboxStore
import GearboxTestSupport
import Testing

/// One check of the contract, on a fresh store.
enum ContractCheck: String, CaseIterable, CustomTestStringConvertible {
    case samePushTwiceKeepsOneRun
    case changedContentIsASecondRun
    case devicesValidationsAndPortfoliosAreKeptOnce
    case failuresKeepBoardStepAndReason
    case storedTablesReadBackUnchanged
    case csvExportHasOneRowPerCell
    case versionOneStoreMigratesWithItsRuns
    case newerSchemaIsRefused
    case concurrentFirstPushesMigrateOnceAndKeepOneCopy

    var testDescription: String { rawValue }

    func run(on harness: StoreHarness) throws {
        switch self {
        case .samePushTwiceKeepsOneRun:
            let store = try harness.open()
            defer { store.close() }
            let table = try StoreFixtures.baseline()
            let first = try store.push(table)
            let second = try store.push(table)
            #expect(first.added && !second.added)
            #expect(first.id == second.id)
            // A second process pushing it again changes nothing either.
            let other = try harness.open()
            defer { other.close() }
            #expect(try !other.push(StoreFixtures.baseline()).added)
            let listing = try store.listing()
            #expect(listing.runs.count == 1)
            #expect(listing.runs.first?.cells == StoreFixtures.cellCount(table))
            #expect(listing.runs.first?.gitCommit == table.provenance.gitCommit)
            #expect(listing.portfolios.map(\.name) == ["fashion-cnn"])

        case .changedContentIsASecondRun:
            let store = try harness.open()
            defer { store.close() }
            var table = try StoreFixtures.baseline()
            try store.push(table)
            table.variants[0].latency[table.variants[0].latency.keys.sorted()[0]]?.p50Ns += 1
            #expect(try store.push(table).added)
            #expect(try store.listing().runs.count == 2)

        case .devicesValidationsAndPortfoliosAreKeptOnce:
            let store = try harness.open()
            defer { store.close() }
            for _ in 0..<2 {
                for path in [StoreFixtures.devicePath, StoreFixtures.validationPath, StoreFixtures.baselinePath] {
                    _ = try StoreFile.read(path).push(into: store)
                }
            }
            #expect(try store.push(portfolio: "fashion-cnn", contentHash: "abc123").added)
            #expect(try !store.push(portfolio: "fashion-cnn", contentHash: "abc123").added)
            let listing = try store.listing()
            #expect(listing.devices.map(\.id) == ["fixture-vm-2c"])
            #expect(listing.devices.first?.kind == "real")
            // The probe's kernel is kept; this VM exposes no DMI firmware, so none is invented.
            #expect(listing.devices.first?.kernel?.hasPrefix("Linux ") == true)
            #expect(listing.devices.first?.firmware == nil)
            #expect(listing.validations.count == 1)
            #expect(listing.validations.first?.objective.isEmpty == false)
            // The manifest's hash replaces the name-only entry the table's push made.
            #expect(listing.portfolios == [StoreListing.Portfolio(name: "fashion-cnn", contentHash: "abc123")])

        case .failuresKeepBoardStepAndReason:
            let store = try harness.open()
            defer { store.close() }
            try store.recordFailure(board: "st-u8500", step: "profile", reason: "connection lost",
                                    at: Date(timeIntervalSince1970: 1_800_000_000))
            let failures = try store.failures()
            #expect(failures.map { [$0.board, $0.step, $0.reason] } == [["st-u8500", "profile", "connection lost"]])
            #expect(failures.first?.date.hasPrefix("2027-01-15T08:00:00") == true)
            #expect(throws: StoreError.emptyField("reason")) {
                try store.recordFailure(board: "b", step: "s", reason: " ")
            }

        case .storedTablesReadBackUnchanged:
            let store = try harness.open()
            defer { store.close() }
            let baseline = try StoreFixtures.baseline()
            let candidate = try StoreFixtures.candidate()
            try store.push(candidate)
            try store.push(baseline)
            let runs = try store.runs(portfolio: "fashion-cnn")
            #expect(runs.map(\.table) == [baseline, candidate])  // oldest first
            #expect(try store.runs(portfolio: "other").isEmpty)

        case .csvExportHasOneRowPerCell:
            let store = try harness.open()
            defer { store.close() }
            let energetic = try StoreFixtures.onOtherBoard("board-b", factor: 2, energyJ: 0.5)
            try store.push(energetic)
            let lines = try store.cellsCSV().split(separator: "\n")
            #expect(lines.first == "run_id,device,portfolio,controller,gearbox_version,git_commit,date,variant,frequency_khz,source,p50_ns,p90_ns,p99_ns,mean_ns,samples,energy_per_inference_j,power_w")
            #expect(lines.count == 1 + StoreFixtures.cellCount(energetic))
            let first = lines[1].split(separator: ",", omittingEmptySubsequences: false)
            #expect(first[1] == "board-b")
            #expect(Double(first[15]).map { $0 > 0 } == true, "energy column: \(lines[1])")

        case .versionOneStoreMigratesWithItsRuns:
            // A store as version 1 left it: the run's table only, no cell rows.
            let old = try harness.open(schemaVersion: 1)
            #expect(try old.schemaVersion() == 1)
            let table = try StoreFixtures.baseline()
            let json = String(decoding: try JSONFile.encoder().encode(table), as: UTF8.self)
            try old.backend.execute(
                """
                INSERT INTO runs (id, device, portfolio, controller, gearbox_version, git_commit, hostname, date, lut_json)
                VALUES ('v1-run', ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(table.device), .text(table.portfolio), .text(table.controller.rawValue), .text("0.0.9"),
                 .text("oldcommit"), .text("vm"), .text(table.provenance.date), .text(json)])
            old.close()
            let store = try harness.open()
            defer { store.close() }
            #expect(try store.schemaVersion() == ResultsStore.currentSchemaVersion)
            let runs = try store.listing().runs
            #expect(runs.map(\.id) == ["v1-run"])
            #expect(runs.first?.cells == StoreFixtures.cellCount(table))
            #expect(try store.cellsCSV().split(separator: "\n").count == 1 + StoreFixtures.cellCount(table))

        case .concurrentFirstPushesMigrateOnceAndKeepOneCopy:
            // Farm workers: several processes open a fresh store and push the same files at once.
            let files = try [StoreFixtures.baselinePath, StoreFixtures.devicePath].map { try StoreFile.read($0) }
            let errors = ErrorBox()
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    let store = try harness.open()
                    defer { store.close() }
                    for file in files { _ = try file.push(into: store) }
                } catch {
                    errors.append(error)
                }
            }
            #expect(errors.all.isEmpty, "\(errors.all)")
            let store = try harness.open()
            defer { store.close() }
            let listing = try store.listing()
            #expect(listing.runs.count == 1 && listing.devices.count == 1)
            #expect(try store.backend.rows("SELECT version FROM gearbox_migrations", []).count == ResultsStore.currentSchemaVersion)

        case .newerSchemaIsRefused:
            let store = try harness.open()
            try store.backend.execute("INSERT INTO gearbox_migrations (version, applied_at) VALUES (99, 'future')")
            store.close()
            #expect(throws: StoreError.self) { try harness.open() }
            do { _ = try harness.open() } catch let error as StoreError {
                #expect(error.exitStatus == .inputError)
                #expect("\(error)".contains("schema version 99"))
            }
        }
    }
}

@Suite struct StoreContractOnSQLite {
    @Test(arguments: ContractCheck.allCases)
    func contract(_ check: ContractCheck) throws {
        try check.run(on: StoreHarness(.sqlite))
    }
}

// Serialized: each check starts its own cluster, and two cores do not need six at once.
@Suite(.requiresPostgres, .serialized) struct StoreContractOnPostgreSQL {
    @Test(arguments: ContractCheck.allCases)
    func contract(_ check: ContractCheck) throws {
        try check.run(on: StoreHarness(.postgresql))
    }

    @Test func sqliteAndPostgreSQLReturnTheSameForTheSamePushes() throws {
        var listings: [StoreListing] = []
        var exports: [String] = []
        for kind in BackendKind.allCases {
            let harness = try StoreHarness(kind)
            let store = try harness.open()
            defer { store.close() }
            for path in [StoreFixtures.candidatePath, StoreFixtures.baselinePath, StoreFixtures.devicePath, StoreFixtures.validationPath] {
                _ = try StoreFile.read(path).push(into: store)
            }
            try store.push(StoreFixtures.onOtherBoard("board-b", factor: 1.5, energyJ: 0.25))
            try store.recordFailure(board: "board-c", step: "probe", reason: "timeout after 60 s",
                                    at: Date(timeIntervalSince1970: 1_800_000_000))
            var listing = try store.listing()
            // What differs by design: where the store is, and the random failure ids.
            listing.store = ""; listing.backend = ""
            listing.failures = listing.failures.map { var failure = $0; failure.id = ""; return failure }
            listings.append(listing)
            exports.append(try store.cellsCSV())
        }
        #expect(listings[0] == listings[1])
        #expect(exports[0] == exports[1])
        #expect(listings[0].runs.count == 3)
    }
}

/// Errors collected from concurrent workers.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []
    func append(_ error: Error) { lock.lock(); errors.append("\(error)"); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return errors }
}
