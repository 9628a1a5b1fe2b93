// A results store on either backend for one test: a SQLite file in a scratch directory, or a
// database in a throwaway socket-only PostgreSQL cluster; and the report fixtures it is fed.

import Foundation
import GearboxCore
import GearboxPolicy
import GearboxRuntime
import GearboxStore
import GearboxTestSupport
import Testing

enum BackendKind: String, CaseIterable, CustomTestStringConvertible {
    var testDescription: String { rawValue }
    case sqlite, postgresql
}

/// Keeps the scratch directory or cluster alive as long as the test holds it; reopening gives
/// a second connection to the same database (as a second `gearbox` process would).
final class StoreHarness {
    let kind: BackendKind
    let location: StoreLocation
    private let scratch: ScratchDirectory?
    private let cluster: PostgresTestCluster?

    init(_ kind: BackendKind) throws {
        self.kind = kind
        switch kind {
        case .sqlite:
            let scratch = ScratchDirectory("store")
            self.scratch = scratch
            cluster = nil
            location = .sqlite(path: scratch.file("nested/store.sqlite"))
        case .postgresql:
            let cluster = try PostgresTestCluster("store-pg")
            self.cluster = cluster
            scratch = nil
            location = try StoreLocation(parsing: cluster.url)
        }
    }

    func open() throws -> ResultsStore { try ResultsStore.open(location) }

    /// A store brought only up to `schemaVersion` (as an older Gearbox left it).
    func open(schemaVersion: Int) throws -> ResultsStore {
        switch location {
        case let .sqlite(path): return try ResultsStore(backend: SQLiteBackend(path: path), schemaVersion: schemaVersion)
        case let .postgres(postgres): return try ResultsStore(backend: PostgresBackend(postgres), schemaVersion: schemaVersion)
        }
    }

    deinit { cluster?.stop() }
}

enum StoreFixtures {
    static let directory = SharedFixtures.packageRoot + "/Tests/GearboxReportTests/Fixtures"
    static let baselinePath = directory + "/baseline.lut.json"
    static let candidatePath = directory + "/candidate.lut.json"
    static let devicePath = directory + "/fixture-vm-2c.json"
    static let validationPath = directory + "/validation/summary.json"

    static func baseline() throws -> LookupTable { try LookupTable.read(from: baselinePath) }
    static func candidate() throws -> LookupTable { try LookupTable.read(from: candidatePath) }

    /// The baseline as measured on another board: renamed, `factor` times slower, with energy.
    static func onOtherBoard(_ name: String, factor: Double, energyJ: Double?) throws -> LookupTable {
        var table = try baseline()
        table.device = name
        table.provenance.deviceID = name
        for index in table.variants.indices {
            for (key, var cell) in table.variants[index].latency {
                cell.p50Ns *= factor; cell.p90Ns *= factor; cell.p99Ns *= factor; cell.meanNs *= factor
                cell.p999Ns = cell.p999Ns.map { $0 * factor }; cell.maxNs = cell.maxNs.map { $0 * factor }
                cell.stddevNs *= factor; cell.ciHalfWidthNs *= factor
                cell.energyPerInferenceJ = energyJ.map { $0 * cell.meanNs.milliseconds }
                table.variants[index].latency[key] = cell
            }
        }
        return table
    }

    static func cellCount(_ table: LookupTable) -> Int { table.variants.reduce(0) { $0 + $1.latency.count } }
}
