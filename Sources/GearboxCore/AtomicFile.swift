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
    /// Creates missing parent directories; a failed write removes the ones it created.
    public static func write(_ data: Data, to path: String) throws {
        try write([(path: path, data: data)])
    }

    /// Writes UTF-8 text atomically.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Writes several files as one: every file is first written and fsynced under a temporary
    /// name, and only when all of them are on disk are they renamed into place. A failure (a full
    /// disk) leaves every old file as it was, and no temporary file or folder it created.
    public static func write(_ files: [(path: String, data: Data)]) throws {
        var created: [String] = []
        var staged: [(temp: String, path: String)] = []
        var committed = false
        defer {
            if !committed {
                for file in staged { unlink(file.temp) }
                CreatedDirectories.removeEmpty(created)
            }
        }
        for (path, data) in files {
            let url = URL(fileURLWithPath: path)
            let directory = url.deletingLastPathComponent().path
            do {
                created += try CreatedDirectories.create(directory)
            } catch {
                throw FileFormatError.cannotWrite(path: path, reason: "cannot create directory \(directory)")
            }
            let temp = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())"
            try stage(data, temp: temp, for: path)
            staged.append((temp, path))
        }
        var directories: [String] = []
        for file in staged {
            guard rename(file.temp, file.path) == 0 else {
                throw FileFormatError.cannotWrite(path: file.path, reason: String(cString: strerror(errno)))
            }
            let directory = URL(fileURLWithPath: file.path).deletingLastPathComponent().path
            if !directories.contains(directory) { directories.append(directory) }
        }
        committed = true
        for directory in directories {
            let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dfd >= 0 { fsync(dfd); close(dfd) }
        }
    }

    /// Writes and fsyncs `data` into `temp`; removes it again on failure.
    private static func stage(_ data: Data, temp: String, for path: String) throws {
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileFormatError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            guard let bytes = raw.baseAddress else { return }  // empty: nothing to write
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, bytes + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else {
            unlink(temp)
            throw FileFormatError.cannotWrite(path: path, reason: String(cString: strerror(failure)))
        }
    }
}

/// The folders a write had to create, so that a failed run can take them away again and leave
/// no empty folder behind.
public enum CreatedDirectories {
    /// Creates `directory` and its missing parents; returns the ones it created, outermost first.
    public static func create(_ directory: String) throws -> [String] {
        var missing: [String] = []
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while !FileManager.default.fileExists(atPath: url.path), url.path != "/" {
            missing.insert(url.path, at: 0)
            url.deleteLastPathComponent()
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return missing
    }

    /// Removes the folders of `created` that are empty, innermost first.
    public static func removeEmpty(_ created: [String]) {
        for directory in created.reversed() {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory), entries.isEmpty else { return }
            rmdir(directory)
        }
    }
}
