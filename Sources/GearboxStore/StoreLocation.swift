// GearboxStore/StoreLocation: which database `--store` names — a SQLite file or a PostgreSQL
// server (TCP or Unix socket) — parsed from the URL forms the CLI accepts.

import Foundation

/// Where the results store lives.
public enum StoreLocation: Equatable, Sendable, CustomStringConvertible {
    /// A SQLite database file (created on first use, with its folder).
    case sqlite(path: String)
    /// A PostgreSQL database, over TCP or a Unix-domain socket.
    case postgres(PostgresLocation)

    /// The store used when no `--store` is given: a SQLite file in a git-ignored folder of the
    /// working directory, so results never land in tracked files.
    public static let defaultSQLitePath = ".gearbox/store.sqlite"
    public static let `default` = StoreLocation.sqlite(path: defaultSQLitePath)

    /// The accepted spellings, for error messages and help.
    public static let accepted =
        "sqlite:PATH, postgres://USER@HOST:PORT/DB or postgresql:///DB?host=/socket/dir"

    /// Parses `sqlite:PATH`, `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` or
    /// `postgresql:///DB?host=/socket/dir[&user=USER]` (either scheme in either form).
    /// - Throws: `StoreError.badLocation` naming what is wrong and the accepted forms.
    public init(parsing text: String) throws {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            // sqlite:///abs/path and sqlite://rel are common spellings of the same thing.
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw StoreError.badLocation(text, reason: "sqlite: needs a file path") }
            self = .sqlite(path: path)
            return
        }
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else {
            throw StoreError.badLocation(text, reason: "unknown scheme")
        }
        self = .postgres(try PostgresLocation(parsing: text))
    }

    public var description: String {
        switch self {
        case let .sqlite(path): return "sqlite:\(path)"
        case let .postgres(location): return location.description
        }
    }
}

/// A PostgreSQL database and how to reach it.
public struct PostgresLocation: Equatable, Sendable, CustomStringConvertible {
    public enum Endpoint: Equatable, Sendable {
        case tcp(host: String, port: Int)
        /// The directory holding the server's socket (`.s.PGSQL.<port>`).
        case socket(directory: String, port: Int)
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String

    public init(endpoint: Endpoint, user: String, password: String? = nil, database: String) {
        self.endpoint = endpoint; self.user = user; self.password = password; self.database = database
    }

    /// The socket file's path for a socket endpoint (libpq's naming), nil over TCP.
    public var socketPath: String? {
        guard case let .socket(directory, port) = endpoint else { return nil }
        return (directory as NSString).appendingPathComponent(".s.PGSQL.\(port)")
    }

    init(parsing text: String) throws {
        guard let components = URLComponents(string: text) else {
            throw StoreError.badLocation(text, reason: "not a URL")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError.badLocation(text, reason: "missing database name after the host (…/DB)")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let unknown = Set(query.keys).subtracting(["host", "user", "password", "port"])
        guard unknown.isEmpty else {
            throw StoreError.badLocation(text, reason: "unknown parameter '\(unknown.sorted()[0])' (allowed: host, user, password, port)")
        }
        let portText = components.port.map(String.init) ?? query["port"]
        let port: Int
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw StoreError.badLocation(text, reason: "port '\(portText)' is not 1…65535")
            }
            port = value
        } else {
            port = 5432
        }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? query["host"]
        let endpoint: Endpoint
        if let host, host.hasPrefix("/") {
            endpoint = .socket(directory: host, port: port)
        } else if let host {
            endpoint = .tcp(host: host, port: port)
        } else {
            throw StoreError.badLocation(text, reason: "no host: give USER@HOST or ?host=/socket/dir")
        }
        let user = components.user.flatMap { $0.isEmpty ? nil : $0 } ?? query["user"]
        guard let user else {
            throw StoreError.badLocation(text, reason: "no user: give USER@HOST (or ?user=USER)")
        }
        self.init(endpoint: endpoint, user: user, password: components.password ?? query["password"], database: database)
    }

    /// The URL without its password.
    public var description: String {
        switch endpoint {
        case let .tcp(host, port): return "postgres://\(user)@\(host):\(port)/\(database)"
        case let .socket(directory, port):
            return "postgresql:///\(database)?host=\(directory)&user=\(user)" + (port == 5432 ? "" : "&port=\(port)")
        }
    }
}
