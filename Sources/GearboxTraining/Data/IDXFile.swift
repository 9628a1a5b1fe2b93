// GearboxTraining/IDXFile: reads the IDX format of (Fashion-)MNIST: a big-endian magic number
// (0x00 0x00, a type code, the number of dimensions), one big-endian UInt32 per dimension, then
// the values. Only unsigned bytes (type 0x08) are supported; that is all MNIST-style sets use.

import Foundation

/// An IDX array of unsigned bytes, e.g. 60000×28×28 images or 60000 labels.
public struct IDXFile: Equatable, Sendable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// Values in row-major order; `values.count` is the product of `shape`.
    public var values: [UInt8]

    public init(shape: [Int], values: [UInt8]) {
        self.shape = shape
        self.values = values
    }

    /// Reads an IDX file, gunzipping it first when it is gzip-compressed (`.gz` or magic bytes).
    public static func read(path: String) throws -> IDXFile {
        let raw: Data
        do { raw = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainingError.unreadable(path: path, reason: "no such file or not readable")
        }
        let bytes = Gzip.isGzip(raw) ? try Gzip.inflate(raw, path: path) : raw
        return try parse(bytes, path: path)
    }

    /// Parses IDX bytes (already inflated); `path` only names the source in errors.
    public static func parse(_ data: Data, path: String) throws -> IDXFile {
        let bytes = [UInt8](data)
        guard bytes.count >= 4 else {
            throw TrainingError.badIDX(path: path, reason: "truncated header (\(bytes.count) bytes)")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            let magic = bytes[0..<4].map { String(format: "%02x", $0) }.joined()
            throw TrainingError.badIDX(path: path, reason: "wrong magic number 0x\(magic) (expected 0x0000TTDD)")
        }
        guard bytes[2] == 0x08 else {
            throw TrainingError.badIDX(
                path: path, reason: String(format: "unsupported value type 0x%02x (only unsigned bytes, 0x08)", bytes[2]))
        }
        let rank = Int(bytes[3])
        guard rank >= 1 else { throw TrainingError.badIDX(path: path, reason: "zero dimensions") }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw TrainingError.badIDX(path: path, reason: "truncated header (\(bytes.count) of \(headerSize) bytes)")
        }
        var shape: [Int] = []
        var count = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let size = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            shape.append(size)
            count = count.multipliedReportingOverflow(by: size).overflow ? Int.max : count * size
        }
        let available = bytes.count - headerSize
        guard available >= count else {
            throw TrainingError.badIDX(
                path: path, reason: "truncated: shape \(shape) needs \(count) bytes of data, found \(available)")
        }
        guard available == count else {
            throw TrainingError.badIDX(
                path: path, reason: "\(available - count) unexpected trailing bytes after shape \(shape)")
        }
        return IDXFile(shape: shape, values: Array(bytes[headerSize...]))
    }

    /// Encodes as IDX bytes (uncompressed); used by tests and fixtures.
    public func encoded() -> Data {
        var out: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for size in shape {
            out += [UInt8(truncatingIfNeeded: size >> 24), UInt8(truncatingIfNeeded: size >> 16),
                    UInt8(truncatingIfNeeded: size >> 8), UInt8(truncatingIfNeeded: size)]
        }
        return Data(out + values)
    }
}
