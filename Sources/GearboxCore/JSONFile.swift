// GearboxCore/JSONFile: Gearbox's JSON conventions in one place.
// Pretty-printed, sorted keys, atomic writes; readers check `schemaVersion` before decoding
// so that a newer or corrupt file fails with one clear line, not a decoding stack.

import Foundation

/// A file format with a schema version. Every Gearbox JSON file has one.
public protocol VersionedFile: Codable {
    /// The schema version this build writes and reads.
    static var currentSchemaVersion: Int { get }
}

private struct SchemaProbe: Decodable { let schemaVersion: Int }

public enum JSONFile {
    /// Largest JSON file Gearbox reads: 256 MiB. Its files are tables and manifests of a few MB;
    /// a larger one is not one of them, and reading it whole would cost that much memory.
    public static let maximumFileBytes = 256 << 20

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

    /// Reads, decodes and (for a ``ValidatedFile``) validates a versioned file, rejecting
    /// unknown schema versions and files over ``maximumFileBytes``.
    public static func read<T: VersionedFile>(_ type: T.Type, from path: String) throws -> T {
        try decode(type, from: InputFile.read(path, maximumBytes: maximumFileBytes), path: path)
    }

    /// Decodes a versioned file's bytes and, for a ``ValidatedFile``, validates its values;
    /// `path` names it in errors.
    public static func decode<T: VersionedFile>(_ type: T.Type, from data: Data, path: String) throws -> T {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw FileFormatError.malformed(path: path, reason: "not valid JSON (\(shortReason(error)))")
        }
        guard let top = object as? [String: Any] else {
            throw FileFormatError.malformed(path: path, reason: "the top level is not a JSON object")
        }
        guard let found = top["schemaVersion"] else {
            throw FileFormatError.malformed(path: path, reason: "missing schemaVersion")
        }
        guard !(found is String), let version = try? JSONDecoder().decode(SchemaProbe.self, from: data).schemaVersion else {
            throw FileFormatError.invalidValue(
                path: path, keyPath: "schemaVersion", value: describe(found), allowed: "allowed: the integer \(T.currentSchemaVersion)")
        }
        guard version == T.currentSchemaVersion else {
            throw FileFormatError.unsupportedSchema(path: path, found: version, supported: T.currentSchemaVersion)
        }
        let value: T
        do { value = try JSONDecoder().decode(T.self, from: data) } catch { throw decodingFailure(error, path: path) }
        if let checked = value as? any ValidatedFile { try checked.validate(FileValidator(path: path)) }
        return value
    }

    /// A typed value (an enum) that decoded to a string the format does not allow is the same
    /// error as a validation failure, naming the key path and what is allowed; anything else the
    /// decoder refused is malformed.
    static func decodingFailure(_ error: Error, path: String) -> FileFormatError {
        guard case let DecodingError.dataCorrupted(context) = error, let disallowed = context.underlyingError as? DisallowedValue else {
            return .malformed(path: path, reason: shortReason(error))
        }
        let key = context.codingPath.reduce(FileValidator(path: path)) { key, next in
            next.intValue.map { key.at($0) } ?? key.at(next.stringValue)
        }
        return key.invalid(disallowed.value, allowed: disallowed.allowed)
    }

    /// A decoded JSON value as an error shows it: strings quoted, others as JSON writes them.
    static func describe(_ value: Any) -> String {
        if let text = value as? String { return "\"\(text)\" (a string)" }
        if value is NSNull { return "null" }
        if value is [Any] { return "an array" }
        if value is [String: Any] { return "an object" }
        return "\(value)"
    }

    /// One line out of a DecodingError: what was wrong and where.
    public static func shortReason(_ error: Error) -> String {
        guard let decoding = error as? DecodingError else {
            let nsError = error as NSError
            return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
        }
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

/// What a custom `init(from:)` throws (as a `DecodingError.dataCorrupted`'s underlying error)
/// for a value of the right type that the format does not allow; `JSONFile.decode` turns it into
/// `FileFormatError.invalidValue` with the file and key path.
public struct DisallowedValue: Error, Sendable {
    public let value: String
    public let allowed: String
    public init(value: String, allowed: String) { self.value = value; self.allowed = allowed }
}

extension RawRepresentable where Self: CaseIterable, RawValue == String {
    /// Decodes one of the cases by its raw value; any other string is a ``DisallowedValue``
    /// naming the allowed ones.
    public static func decodeCase(from decoder: Decoder) throws -> Self {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let allowed = "allowed: " + allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "'\(raw)'; \(allowed)",
                underlyingError: DisallowedValue(value: "'\(raw)'", allowed: allowed)))
        }
        return value
    }
}

/// Reading an input file whole, with a size budget checked before the bytes are.
public enum InputFile {
    /// The bytes of `path`, refusing a file larger than `maximumBytes` before reading it.
    /// - Throws: `FileFormatError.cannotRead` (missing, unreadable, a directory) or
    ///   `.invalidValue` at `file size` (too large).
    public static func read(_ path: String, maximumBytes: Int) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FileFormatError.cannotRead(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw FileFormatError.cannotRead(path: path, reason: "a directory, not a file") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maximumBytes else {
            throw FileFormatError.invalidValue(
                path: path, keyPath: "file size", value: "\(size) bytes", allowed: "allowed: at most \(maximumBytes) bytes")
        }
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FileFormatError.cannotRead(path: path, reason: "not readable")
        }
    }
}
