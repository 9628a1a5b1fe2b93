// GearboxCore/JSONFile: Gearbox's JSON conventions in one place.
// Pretty-printed, sorted keys, atomic writes; readers check `schemaVersion` before decoding
// so that a newer or corrupt file fails with one clear line, not a decoding stack.

import Foundation

/// A file format with a schema version. Every Gearbox JSON file has one.
public protocol VersionedFile: Codable {
    /// The schema version this build writes and reads.
    static var currentSchemaVersion: Int { get }
}

private struct SchemaProbe: Decodable { let schemaVersion: Int? }

public enum JSONFile {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Encodes `value` (pretty, sorted keys) and writes it atomically.
    public static func write<T: Encodable>(_ value: T, to path: String) throws {
        let data: Data
        do { data = try encoder().encode(value) } catch {
            throw FileFormatError.cannotWrite(path: path, reason: "encoding failed: \(error)")
        }
        try AtomicFile.write(data + Data("\n".utf8), to: path)
    }

    /// Reads and decodes a versioned file, rejecting unknown schema versions.
    public static func read<T: VersionedFile>(_ type: T.Type, from path: String) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FileFormatError.cannotRead(path: path, reason: "no such file or not readable")
        }
        return try decode(type, from: data, path: path)
    }

    /// Decodes a versioned file's bytes; `path` names it in errors.
    public static func decode<T: VersionedFile>(_ type: T.Type, from data: Data, path: String) throws -> T {
        let probe: SchemaProbe
        do { probe = try JSONDecoder().decode(SchemaProbe.self, from: data) } catch {
            throw FileFormatError.malformed(path: path, reason: "not valid JSON (\(shortReason(error)))")
        }
        guard let version = probe.schemaVersion else {
            throw FileFormatError.malformed(path: path, reason: "missing schemaVersion")
        }
        guard version == T.currentSchemaVersion else {
            throw FileFormatError.unsupportedSchema(path: path, found: version, supported: T.currentSchemaVersion)
        }
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw FileFormatError.malformed(path: path, reason: shortReason(error))
        }
    }

    /// One line out of a DecodingError: what was wrong and where.
    public static func shortReason(_ error: Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        func at(_ path: [CodingKey]) -> String {
            path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch decoding {
        case let .keyNotFound(key, ctx): return "missing key '\(key.stringValue)' at \(at(ctx.codingPath))"
        case let .typeMismatch(_, ctx): return "wrong type at \(at(ctx.codingPath)): \(ctx.debugDescription)"
        case let .valueNotFound(_, ctx): return "null value at \(at(ctx.codingPath))"
        case let .dataCorrupted(ctx): return "corrupt data at \(at(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
