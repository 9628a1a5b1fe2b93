// GearboxTraining/NumPyFile: reads NumPy's `.npy` arrays and `.npz` archives (zip files whose
// members are stored or deflated `.npy` files), so users can bring evaluation data as NumPy
// writes it. Little-endian float32 (`<f4`), int64 (`<i8`) and uint8 (`|u1`) in C order; every
// size is checked, so a truncated or corrupt file is an error naming the file, never a crash.

import CZlib
import Foundation

/// One array from a `.npy` file or `.npz` member.
public struct NumPyArray: Equatable, Sendable {
    /// The element types Gearbox reads.
    public enum Values: Equatable, Sendable {
        case float32([Float])
        case int64([Int64])
        case uint8([UInt8])
    }

    public var shape: [Int]
    public var values: Values

    public var count: Int { shape.reduce(1, *) }

    /// The dtype as NumPy writes it.
    public var dtype: String {
        switch values {
        case .float32: return "<f4"
        case .int64: return "<i8"
        case .uint8: return "|u1"
        }
    }

    /// Values as Float (integers converted).
    public var floats: [Float] {
        switch values {
        case let .float32(v): return v
        case let .int64(v): return v.map { Float($0) }
        case let .uint8(v): return v.map { Float($0) }
        }
    }

    /// Values as Int64, or nil for float data.
    public var integers: [Int64]? {
        switch values {
        case .float32: return nil
        case let .int64(v): return v
        case let .uint8(v): return v.map { Int64($0) }
        }
    }

    /// Parses `.npy` bytes; `path` names the file (and member) in errors.
    public static func parse(npy data: Data, path: String) throws -> NumPyArray {
        func bad(_ reason: String) -> TrainingError { .badDataset(path: path, reason: reason) }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw bad("not a .npy array (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated .npy header") }
            headerLength = (8...11).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }
            headerStart = 12
        default: throw bad(".npy format version \(major) is not supported (1–3 are)")
        }
        guard bytes.count >= headerStart + headerLength else { throw bad("truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = field("descr", in: header), let order = field("fortran_order", in: header),
              let shapeText = field("shape", in: header) else {
            throw bad("malformed .npy header \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard order == "False" else { throw bad("Fortran-order arrays are not supported (save with np.ascontiguousarray)") }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try dims.map { text -> Int in
            guard let d = Int(text), d >= 0 else { throw bad("bad dimension '\(text)' in shape \(shapeText)") }
            return d
        }
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= 1 << 31 else { throw bad("shape \(shape) is too large") }
            count = product
        }
        let dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        let size: Int
        switch dtype {
        case "<f4": size = 4
        case "<i8": size = 8
        case "|u1", "<u1", "u1": size = 1
        default: throw bad("dtype \(dtype) is not supported (use float32 <f4, int64 <i8 or uint8 |u1)")
        }
        let start = headerStart + headerLength
        guard bytes.count - start >= count * size else {
            throw bad("truncated: shape \(shape) of \(dtype) needs \(count * size) bytes of data, the file has \(bytes.count - start)")
        }
        let values: Values = bytes.withUnsafeBytes { raw in
            switch size {
            case 4: return .float32((0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + $0 * 4, as: UInt32.self))) })
            case 8: return .int64((0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: start + $0 * 8, as: Int64.self)) })
            default: return .uint8(Array(bytes[start..<(start + count)]))
            }
        }
        return NumPyArray(shape: shape, values: values)
    }

    /// The text of `'key': value` in a .npy header dict (value up to the next top-level comma).
    private static func field(_ key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)':") else { return nil }
        var depth = 0
        var value = ""
        for character in header[range.upperBound...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if (character == "," && depth == 0) || character == "}" { break }
            value.append(character)
        }
        return value.trimmingCharacters(in: .whitespaces)
    }
}

/// A `.npz` archive: named arrays.
public enum NumPyArchive {
    /// Reads a `.npy` file, or every member of a `.npz` archive (names without `.npy`).
    public static func read(path: String) throws -> [String: NumPyArray] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainingError.unreadable(path: path, reason: "no such file or not readable")
        }
        if data.starts(with: [0x93] + Array("NUMPY".utf8)) {
            return ["": try NumPyArray.parse(npy: data, path: path)]
        }
        return try parse(npz: data, path: path)
    }

    /// Parses `.npz` bytes by walking the zip's local file headers (stored and deflated members).
    public static func parse(npz data: Data, path: String) throws -> [String: NumPyArray] {
        func bad(_ reason: String) -> TrainingError { .badDataset(path: path, reason: reason) }
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        guard bytes.count >= 4, u32(0) == 0x0403_4b50 else { throw bad("not a .npz archive (no zip header) nor a .npy array") }
        var arrays: [String: NumPyArray] = [:]
        var offset = 0
        while offset + 4 <= bytes.count, u32(offset) == 0x0403_4b50 {
            guard offset + 30 <= bytes.count else { throw bad("truncated zip member header at byte \(offset)") }
            let flags = u16(offset + 6), method = u16(offset + 8)
            var compressed = u32(offset + 18), uncompressed = u32(offset + 22)
            let nameLength = u16(offset + 26), extraLength = u16(offset + 28)
            guard offset + 30 + nameLength + extraLength <= bytes.count else { throw bad("truncated zip member header at byte \(offset)") }
            let name = String(decoding: bytes[(offset + 30)..<(offset + 30 + nameLength)], as: UTF8.self)
            let extra = Array(bytes[(offset + 30 + nameLength)..<(offset + 30 + nameLength + extraLength)])
            // ZIP64 (NumPy writes it for large members): sizes in the extra field.
            if compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF {
                var e = 0
                while e + 4 <= extra.count {
                    let id = Int(extra[e]) | Int(extra[e + 1]) << 8, size = Int(extra[e + 2]) | Int(extra[e + 3]) << 8
                    if id == 1, e + 4 + 16 <= extra.count {
                        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(extra[at + $1]) << (8 * $1) } }
                        uncompressed = u64(e + 4); compressed = u64(e + 12)
                    }
                    e += 4 + size
                }
            }
            guard flags & 0x08 == 0 else { throw bad("member \(name) has its sizes after the data (streamed zip), which is not supported") }
            let start = offset + 30 + nameLength + extraLength
            guard compressed >= 0, start + compressed <= bytes.count else {
                throw bad("truncated: member \(name) needs \(compressed) bytes, the file has \(bytes.count - start)")
            }
            let payload = Data(bytes[start..<(start + compressed)])
            let member: Data
            switch method {
            case 0: member = payload
            case 8: member = try inflateRaw(payload, expected: uncompressed, path: "\(path):\(name)")
            default: throw bad("member \(name) uses zip compression method \(method) (stored and deflated are supported)")
            }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            arrays[key] = try NumPyArray.parse(npy: member, path: "\(path):\(name)")
            offset = start + compressed
        }
        guard !arrays.isEmpty else { throw bad("the archive has no members") }
        // A complete zip ends with its central directory; without it the file was cut short.
        let signature: [UInt8] = [0x50, 0x4b, 0x05, 0x06]
        let tail = max(offset, bytes.count - 22 - 0xFFFF)
        guard bytes.count >= 22, (tail...(bytes.count - 22)).contains(where: { Array(bytes[$0..<($0 + 4)]) == signature }) else {
            throw bad("truncated: the zip's central directory is missing")
        }
        return arrays
    }

    /// Inflates a raw deflate stream (zip members have no zlib or gzip header).
    static func inflateRaw(_ data: Data, expected: Int, path: String) throws -> Data {
        guard expected >= 0, expected <= 1 << 33 else { throw TrainingError.badDataset(path: path, reason: "member size \(expected) is not plausible") }
        var stream = z_stream()
        var status = inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw TrainingError.badDataset(path: path, reason: "zlib init failed (\(status))") }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: max(expected, 1))
        var input = [UInt8](data)
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                status = CZlib.inflate(&stream, Z_FINISH)
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        guard status == Z_STREAM_END, produced == expected else {
            let reason = status == Z_STREAM_END ? "inflated to \(produced) bytes, the archive says \(expected)"
                : status == Z_BUF_ERROR ? "truncated deflate stream (\(produced) of \(expected) bytes)"
                : (stream.msg.map { String(cString: $0) } ?? "zlib error \(status)")
            throw TrainingError.badDataset(path: path, reason: reason)
        }
        return Data(output[0..<produced])
    }
}
