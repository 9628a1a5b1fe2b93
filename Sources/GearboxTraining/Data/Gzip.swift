// GearboxTraining/Gzip: inflates gzip files with zlib. Foundation cannot inflate on Linux, so
// this is the only place the training module touches zlib's C API.

import CZlib
import Foundation

enum Gzip {
    /// True when `data` starts with the gzip magic bytes 1f 8b.
    static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// Inflates a whole gzip stream (`inflateInit2` with automatic gzip header detection).
    /// `path` only names the file in errors. A stream cut short is an error, never a partial result.
    static func inflate(_ data: Data, path: String) throws -> Data {
        var stream = z_stream()
        var status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw TrainingError.badGzip(path: path, reason: "zlib init failed (\(status))") }
        defer { inflateEnd(&stream) }

        var output = Data()
        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            guard let base = input.bindMemory(to: Bytef.self).baseAddress else {
                throw TrainingError.badGzip(path: path, reason: "empty file")
            }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = uInt(input.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunkSize)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return chunkSize - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_OK, Z_STREAM_END: break
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw TrainingError.badGzip(path: path, reason: "truncated after \(output.count) bytes of output")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw TrainingError.badGzip(path: path, reason: message)
                }
                if status == Z_OK && stream.avail_in == 0 && produced < chunkSize {
                    throw TrainingError.badGzip(path: path, reason: "truncated after \(output.count) bytes of output")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
