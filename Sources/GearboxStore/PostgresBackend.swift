// GearboxStore/PostgresBackend: a lab's shared PostgreSQL database through postgres-nio, over
// TCP or a Unix socket. One connection, driven synchronously through its EventLoopFuture API
// (NIO's own threads do the I/O, so waiting never needs a Swift-concurrency thread).

import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

public final class PostgresBackend: StoreBackend {
    public let kind = "postgresql"
    public let locationDescription: String
    private let connection: PostgresConnection
    private let logger = Logger(label: "gearbox.store", factory: { _ in SwiftLogNoOpLogHandler() })
    private var inTransactionNow = false

    /// Connects and authenticates (trust or password); no TLS (sockets and lab networks).
    public init(_ location: PostgresLocation, connectTimeout: TimeAmount = .seconds(10)) throws {
        locationDescription = location.description
        var configuration: PostgresConnection.Configuration
        switch location.endpoint {
        case let .tcp(host, port):
            configuration = .init(
                host: host, port: port, username: location.user, password: location.password,
                database: location.database, tls: .disable)
        case .socket:
            configuration = .init(
                unixSocketPath: location.socketPath ?? "", username: location.user, password: location.password,
                database: location.database)
        }
        configuration.options.connectTimeout = connectTimeout
        do {
            connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: logger
            ).wait()
        } catch {
            throw StoreError.unreachable(locationDescription, reason: Self.reason(error))
        }
    }

    public func execute(_ sql: String, _ values: [SQLValue]) throws {
        _ = try run(sql, values)
    }

    public func rows(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        try run(sql, values).map { row in
            var values: [String: SQLValue] = [:]
            for cell in row { values[cell.columnName.lowercased()] = Self.value(cell) }
            return SQLRow(values)
        }
    }

    public func inTransaction<T>(_ body: () throws -> T) throws -> T {
        if inTransactionNow { return try body() }
        try execute("BEGIN")
        inTransactionNow = true
        defer { inTransactionNow = false }
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// A transaction-scoped advisory lock (released at commit), so that two processes opening a
    /// fresh store at once migrate it once.
    public func lockSchema() throws {
        try execute("SELECT pg_advisory_xact_lock(4711)")
    }

    public func close() { try? connection.close().wait() }

    private func run(_ sql: String, _ values: [SQLValue]) throws -> PostgresQueryResult {
        do {
            var bindings = PostgresBindings(capacity: values.count)
            for value in values {
                switch value {
                case let .text(text): try bindings.append(text)
                case let .integer(number): try bindings.append(number)
                case let .real(number): try bindings.append(number)
                case .null: bindings.appendNull()
                }
            }
            let query = PostgresQuery(unsafeSQL: Self.numberingPlaceholders(sql), binds: bindings)
            return try connection.query(query, logger: logger).wait()
        } catch {
            throw StoreError.database(locationDescription, reason: Self.reason(error))
        }
    }

    /// `?` → `$1`, `$2`, … (the schema's SQL has no `?` inside literals).
    static func numberingPlaceholders(_ sql: String) -> String {
        var out = ""
        var index = 0
        for character in sql {
            if character == "?" {
                index += 1
                out += "$\(index)"
            } else {
                out.append(character)
            }
        }
        return out
    }

    private static func value(_ cell: PostgresCell) -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return (try? cell.decode(Int64.self)).map(SQLValue.integer) ?? .null
        case .float4, .float8: return (try? cell.decode(Double.self)).map(SQLValue.real) ?? .null
        default: return (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
        }
    }

    /// The server's message (or the connection's cause); postgres-nio's own description hides both.
    static func reason(_ error: Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + code
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}
