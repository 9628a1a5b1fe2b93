// gearbox store: push results into the results store, record failures, list and export it.
// Parsing and printing only; the store is GearboxStore's ResultsStore.

import ArgumentParser
import Foundation
import GearboxCore
import GearboxStore

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Keep every result in one database (SQLite by default, PostgreSQL for a lab).",
        discussion: """
            The store holds devices (probe files), portfolios (name and manifest hash), runs \
            (lookup tables: cells, switch matrix, memory, energy, provenance), validation \
            summaries and failed steps. --store picks it: sqlite:PATH, \
            postgres://USER@HOST:PORT/DB or postgresql:///DB?host=/socket/dir; default \
            sqlite:\(StoreLocation.defaultSQLitePath) (git-ignored). See docs/store.md.
            """,
        subcommands: [StorePushCommand.self, StoreFailCommand.self, StoreListCommand.self, StoreExportCommand.self]
    )
}

/// `--store URL`, shared by the store and fleet commands.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The results store: sqlite:PATH, postgres://USER@HOST:PORT/DB or postgresql:///DB?host=/socket/dir (default sqlite:\(StoreLocation.defaultSQLitePath)).",
        valueName: "url"))
    var store: String?

    /// Parses the URL (a bad one is a one-line input error) and opens the store, migrating it.
    func open() throws -> ResultsStore {
        try ResultsStore.open(store.map { try StoreLocation(parsing: $0) } ?? .default)
    }
}

struct StorePushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Store lookup tables, validation summaries, device files and portfolios.",
        discussion: """
            Each FILE is told by its contents: a lookup table (*.lut.json), a validation summary \
            (gearbox validate's summary.json), a device file (gearbox device probe) or a \
            portfolio folder (its portfolio.json). Every file is read and checked before any is \
            stored. Pushing the same content again keeps one copy ("already stored").

            Example:
              gearbox store push Profiles/amd-epyc-2c2t/default.lut.json Devices/amd-epyc-2c2t.json
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: ArgumentHelp("Files to store.", valueName: "file")) var files: [String]
    @Flag(name: .long, help: "Print what was stored as JSON.") var json = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file to push") }
    }

    func run() throws {
        let read = try files.map { ($0, try StoreFile.read($0)) }
        let store = try storeOptions.open()
        defer { store.close() }
        var outcomes: [PushOutcome] = []
        for (path, file) in read {
            let outcome = try file.push(into: store)
            outcomes.append(outcome)
            if !json {
                // Runs and validations are named by their content hash (shortened); the rest by name.
                let id = [.run, .validation].contains(outcome.kind) ? String(outcome.id.prefix(12)) : outcome.id
                print("\(outcome.added ? "stored" : "already stored") \(outcome.kind.rawValue) \(id) from \(path)")
            }
        }
        if json { print(String(decoding: try JSONFile.encoder().encode(outcomes), as: UTF8.self)) }
    }
}

struct StoreFailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fail",
        abstract: "Record a failed step on a board (the farm runner calls this).",
        discussion: """
            Example:
              gearbox store fail --board st-u8500 --step profile --reason "connection lost"
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .long, help: "The board (place) that failed.") var board: String
    @Option(name: .long, help: "The step that failed: probe, profile, validate, fetch, push, ….") var step: String
    @Option(name: .long, help: "Why, in one line.") var reason: String

    func run() throws {
        let store = try storeOptions.open()
        defer { store.close() }
        let id = try store.recordFailure(board: board, step: step, reason: reason)
        print("recorded failure \(id.prefix(8)): \(board) at \(step): \(reason)")
    }
}

struct StoreListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the devices, portfolios, runs, validations and failures in the store.",
        discussion: """
            Example:
              gearbox store list --store postgresql:///gearbox?host=/run/postgresql --json
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .long, help: "Print the listing as JSON.") var json = false

    func run() throws {
        let store = try storeOptions.open()
        defer { store.close() }
        let listing = try store.listing()
        if json {
            print(String(decoding: try JSONFile.encoder().encode(listing), as: UTF8.self))
        } else {
            print(StoreListingText.render(listing), terminator: "")
        }
    }
}

struct StoreExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export every stored cell with its run's provenance as CSV.",
        discussion: """
            Columns: run_id, device, portfolio, controller, gearbox_version, git_commit, date, \
            variant, frequency_khz, source, p50_ns, p90_ns, p99_ns, mean_ns, samples, \
            energy_per_inference_j, power_w.

            Example:
              gearbox store export --csv --out fleet.csv
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .long, help: "Write CSV (the one export format).") var csv = false
    @Option(help: "The CSV file to write (standard output when omitted).") var out: String?

    func validate() throws {
        guard csv else { throw ValidationError("give --csv (the one export format)") }
    }

    func run() throws {
        let store = try storeOptions.open()
        defer { store.close() }
        let text = try store.cellsCSV()
        if let out {
            try AtomicFile.write(text, to: out)
            FileHandle.standardError.write(Data("wrote \(out) (\(text.split(separator: "\n").count - 1) rows)\n".utf8))
        } else {
            print(text, terminator: "")
        }
    }
}
