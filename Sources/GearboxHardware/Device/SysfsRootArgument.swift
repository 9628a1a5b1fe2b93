// GearboxHardware/SysfsRootArgument: turns what a user passed to `--sysfs-root` into a
// `SysfsRoot`: nothing → the live machine; a directory holding `sys/` → that dump; a `.tar.bz2`
// dump → extracted into a private temporary folder that `cleanUp()` removes.

import Foundation

/// A `--sysfs-root` argument, resolved.
public struct SysfsRootArgument: Sendable {
    public let root: SysfsRoot
    /// The temporary folder an archive was extracted into, if any.
    public let extractedInto: String?

    /// Resolves `argument` (nil or empty: the live machine).
    /// - Parameter allowArchive: false for commands whose changes must outlive the process
    ///   (an extracted archive is a throw-away copy).
    /// - Throws: `HardwareError.sysfsRoot` / `.sysfsArchive` naming the path.
    public static func resolve(_ argument: String?, allowArchive: Bool = true) throws -> SysfsRootArgument {
        guard let argument, !argument.isEmpty else { return SysfsRootArgument(root: .live, extractedInto: nil) }
        if argument.hasSuffix(".tar.bz2") || argument.hasSuffix(".tbz2") {
            guard allowArchive else {
                throw HardwareError.sysfsRoot(path: argument, reason: "an archive would be extracted to a temporary copy and its changes lost; extract it and pass the folder")
            }
            let scratch = NSTemporaryDirectory() + "gearbox-sysfs-\(getpid())-\(UUID().uuidString.prefix(8))"
            do {
                return SysfsRootArgument(root: try SysfsRoot.extract(archive: argument, into: scratch), extractedInto: scratch)
            } catch {
                try? FileManager.default.removeItem(atPath: scratch)
                throw error
            }
        }
        return SysfsRootArgument(root: try SysfsRoot.dump(at: argument), extractedInto: nil)
    }

    /// Removes the extracted copy, if any.
    public func cleanUp() {
        if let extractedInto { try? FileManager.default.removeItem(atPath: extractedInto) }
    }
}
