// GearboxCore/AtomicFile: the one way Gearbox writes a result file.
// A temp file in the same directory, fsync, rename: a crash leaves the old file or the new
// one, never half of either.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Errors from reading and writing Gearbox's files; each renders as one line naming the file and the fix.
public enum FileFormatError: Error, Equatable, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    case malformed(path: String, reason: String)
    case unsupportedSchema(path: String, found: Int, supported: Int)
    /// A value that decoded but breaks the format's rules: `keyPath` like
    /// `variants[3].latency["250000"].p99Ns`, `allowed` says what would be accepted.
    case invalidValue(path: String, keyPath: String, value: String, allowed: String)

    public var description: String {
        switch self {
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason) (check the directory exists and is writable)"
        case let .cannotRead(path, reason):
            return "cannot read \(path): \(reason) (check the path and permissions)"
        case let .malformed(path, reason):
            return "\(path) is malformed: \(reason) (regenerate it with the gearbox command that wrote it)"
        case let .unsupportedSchema(path, found, supported):
            return "\(path) has schemaVersion \(found), this gearbox reads \(supported) (regenerate it or upgrade gearbox)"
        case let .invalidValue(path, keyPath, value, allowed):
            return "\(path): \(keyPath) is \(value); \(allowed)"
        }
    }
}

public enum AtomicFile {
    /// Writes `data` to `path` atomically: temp file beside it, fsync, rename, fsync of the directory.
    /// Creates missing parent directories.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw FileFormatError.cannotWrite(path: path, reason: "cannot create directory \(directory)")
        }
        let temp = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileFormatError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        var ok = true
        data.withUnsafeBytes { raw in
            guard let bytes = raw.baseAddress else { return }  // empty: nothing to write
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, bytes + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                offset += n
            }
        }
        let savedErrno = errno
        if ok && fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok else {
            unlink(temp)
            throw FileFormatError.cannotWrite(path: path, reason: String(cString: strerror(savedErrno)))
        }
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw FileFormatError.cannotWrite(path: path, reason: reason)
        }
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Writes UTF-8 text atomically.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}
