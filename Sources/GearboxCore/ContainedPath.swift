// GearboxCore/ContainedPath: a path a file names relative to its own folder (a portfolio's variant
// files) must stay inside that folder: not absolute, no `..`, and no symlink leading out. A
// manifest is input; without this check it could make Gearbox read any file on the machine.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Resolves relative paths inside a root directory, refusing any that leave it.
public enum ContainedPath {
    /// `root/relative`, after checking that `relative` is not empty, not absolute, has no `..`
    /// component and, when it exists, that its real path (symlinks resolved) lies inside `root`'s.
    /// A missing file passes (the caller reports it as missing).
    /// - Throws: `FileFormatError.invalidValue` at `key` (the file and key path that named it).
    public static func resolve(_ relative: String, inside root: String, key: FileValidator) throws -> String {
        try checkRelative(relative, key: key)
        let allowed = "allowed: a path relative to \(root) that stays inside it (no symlink leading out)"
        let joined = (root.hasSuffix("/") ? root : root + "/") + relative
        guard let realFile = realPath(joined) else { return joined }
        guard let realRoot = realPath(root) else { return joined }
        let prefix = realRoot.hasSuffix("/") ? realRoot : realRoot + "/"
        try key.require(realFile.hasPrefix(prefix), value: "'\(relative)' (resolves to \(realFile))", allowed: allowed)
        return joined
    }

    /// The checks that need no file system: `relative` is not empty, not absolute and has no `..`.
    public static func checkRelative(_ relative: String, key: FileValidator) throws {
        let allowed = "allowed: a path relative to the file's folder that stays inside it (no leading '/', no '..')"
        try key.require(!relative.isEmpty, value: "empty", allowed: allowed)
        try key.require(!relative.hasPrefix("/"), value: "'\(relative)'", allowed: allowed)
        try key.require(!relative.split(separator: "/").contains(".."), value: "'\(relative)'", allowed: allowed)
    }

    /// The canonical absolute path of an existing file (symlinks resolved), or nil.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
