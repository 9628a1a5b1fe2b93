// GearboxStore/StoreBackend: the one interface both databases implement — run a statement, fetch
// rows, group statements in a transaction. The schema, migrations and queries are written once
// on top of it (`ResultsStore`), in the SQL both SQLite and PostgreSQL accept.

/// A value bound to, or read from, a statement. Only the types the schema uses.
public enum SQLValue: Equatable, Sendable, CustomStringConvertible {
    case text(String)
    case integer(Int64)
    case real(Double)
    case null

    public init(_ text: String?) { self = text.map(SQLValue.text) ?? .null }
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    public init(_ value: Double?) { self = value.map(SQLValue.real) ?? .null }

    public var description: String {
        switch self {
        case let .text(text): return text
        case let .integer(value): return String(value)
        case let .real(value): return String(value)
        case .null: return ""
        }
    }
}

/// One result row, by column name (lower case, as both databases fold unquoted names).
public struct SQLRow: Equatable, Sendable {
    public var values: [String: SQLValue]
    public init(_ values: [String: SQLValue]) { self.values = values }

    public func text(_ column: String) -> String? {
        if case let .text(text)? = values[column] { return text }
        return nil
    }
    public func integer(_ column: String) -> Int? {
        switch values[column] {
        case let .integer(value)?: return Int(value)
        case let .real(value)?: return Int(value)
        default: return nil
        }
    }
    public func real(_ column: String) -> Double? {
        switch values[column] {
        case let .real(value)?: return value
        case let .integer(value)?: return Double(value)
        default: return nil
        }
    }
}

/// A connection to one database. Statements use `?` placeholders (a backend that numbers its
/// parameters rewrites them); every failure is a `StoreError`.
public protocol StoreBackend: AnyObject {
    /// "sqlite" or "postgresql".
    var kind: String { get }
    /// The location, for messages (never with a password).
    var locationDescription: String { get }
    func execute(_ sql: String, _ values: [SQLValue]) throws
    func rows(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow]
    /// Runs `body` in one transaction: all its statements or none.
    func inTransaction<T>(_ body: () throws -> T) throws -> T
    /// Inside a transaction: waits until no other process is changing the schema.
    func lockSchema() throws
    func close()
}

extension StoreBackend {
    public func execute(_ sql: String) throws { try execute(sql, []) }
}
