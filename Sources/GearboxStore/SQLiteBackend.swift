// GearboxStore/SQLiteBackend: the embedded default — one SQLite file through GRDB.

import Foundation
import GRDB

public final class SQLiteBackend: StoreBackend {
    public let kind = "sqlite"
    public let locationDescription: String
    private let queue: DatabaseQueue
    /// The open transaction's database while `inTransaction` runs, so statements inside it join
    /// it (GRDB forbids re-entering the queue).
    private var current: Database?

    /// Opens (creating it and its folder if needed) the SQLite file at `path`.
    public init(path: String) throws {
        locationDescription = "sqlite:\(path)"
        let folder = (path as NSString).deletingLastPathComponent
        do {
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw StoreError.unreachable(locationDescription, reason: Self.reason(error))
        }
    }

    public func execute(_ sql: String, _ values: [SQLValue]) throws {
        try withDatabase { db in try db.execute(sql: sql, arguments: Self.arguments(values)) }
    }

    public func rows(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        try withDatabase { db in
            try Row.fetchAll(db, sql: sql, arguments: Self.arguments(values)).map { row in
                var values: [String: SQLValue] = [:]
                for (column, value) in row { values[column.lowercased()] = Self.value(value) }
                return SQLRow(values)
            }
        }
    }

    public func inTransaction<T>(_ body: () throws -> T) throws -> T {
        if current != nil { return try body() }
        var result: T?
        do {
            try queue.inTransaction(.immediate) { db in
                current = db
                defer { current = nil }
                result = try body()
                return .commit
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(locationDescription, reason: Self.reason(error))
        }
        guard let result else { throw StoreError.database(locationDescription, reason: "transaction returned nothing") }
        return result
    }

    /// An immediate transaction already excludes other writers.
    public func lockSchema() throws {}

    public func close() { try? queue.close() }

    private func withDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            if let current { return try body(current) }
            return try queue.write(body)
        } catch {
            throw StoreError.database(locationDescription, reason: Self.reason(error))
        }
    }

    private static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map { value -> DatabaseValueConvertible? in
            switch value {
            case let .text(text): return text
            case let .integer(number): return number
            case let .real(number): return number
            case .null: return nil
            }
        })
    }

    private static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: return .null
        case let .int64(number): return .integer(number)
        case let .double(number): return .real(number)
        case let .string(text): return .text(text)
        case let .blob(data): return .text(String(decoding: data, as: UTF8.self))
        }
    }

    private static func reason(_ error: Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(error)"
    }
}
