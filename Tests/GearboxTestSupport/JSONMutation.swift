// GearboxTestSupport/JSONMutation: edits one value deep inside a decoded JSON document, so that
// hostile-input tests can break a valid file one rule at a time. Test-only.

import Foundation

/// One step of a path into a JSON document: an object key or an array index.
public enum JSONPathComponent: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, Sendable {
    case key(String)
    case index(Int)
    public init(stringLiteral value: String) { self = .key(value) }
    public init(integerLiteral value: Int) { self = .index(value) }
}

/// A JSON document (as `JSONSerialization` reads it) whose values tests replace.
public struct JSONDocument {
    public var root: Any

    /// Reads the JSON file at `path`.
    public init(contentsOf path: String) throws {
        root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    public init(data: Data) throws { root = try JSONSerialization.jsonObject(with: data) }

    /// The document with the value at `path` replaced by `value` (`nil` removes the key).
    public func setting(_ path: [JSONPathComponent], to value: Any?) -> JSONDocument {
        var copy = self
        copy.root = Self.set(root, path[...], value)
        return copy
    }

    /// The value at `path`, or nil.
    public func value(at path: [JSONPathComponent]) -> Any? {
        var node: Any? = root
        for component in path {
            switch component {
            case let .key(key): node = (node as? [String: Any])?[key]
            case let .index(index): node = (node as? [Any]).flatMap { $0.indices.contains(index) ? $0[index] : nil }
            }
        }
        return node
    }

    /// The document as JSON bytes.
    public func data() throws -> Data { try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]) }

    /// Writes the document to `path`.
    public func write(to path: String) throws { try data().write(to: URL(fileURLWithPath: path)) }

    private static func set(_ node: Any, _ path: ArraySlice<JSONPathComponent>, _ value: Any?) -> Any {
        guard let first = path.first else { return value ?? NSNull() }
        switch first {
        case let .key(key):
            var object = node as? [String: Any] ?? [:]
            if path.count == 1 && value == nil { object[key] = nil; return object }
            object[key] = set(object[key] ?? [String: Any](), path.dropFirst(), value)
            return object
        case let .index(index):
            var array = node as? [Any] ?? []
            guard array.indices.contains(index) else { return array }
            array[index] = set(array[index], path.dropFirst(), value)
            return array
        }
    }
}
