// GearboxTestSupport/FileTreeSnapshot: a byte-exact picture of a directory tree, shared by the
// hardware tests and the CLI tests to prove that a DVFS command left a sysfs dump (or restored
// it) exactly as it was. Test-only: no product depends on this target.

import Foundation

/// Every regular file under `directory` with its bytes, and every symlink with its target, keyed
/// by path relative to `directory`. Two snapshots compare equal exactly when no file's content or
/// link target changed, appeared or vanished.
public func snapshotTree(_ directory: String) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let files = FileManager.default
    guard let walker = files.enumerator(atPath: directory) else { return result }
    while let relative = walker.nextObject() as? String {
        let path = directory + "/" + relative
        let attributes = try files.attributesOfItem(atPath: path)
        switch attributes[.type] as? FileAttributeType {
        case .typeSymbolicLink?: result[relative] = Data(try files.destinationOfSymbolicLink(atPath: path).utf8)
        case .typeRegular?: result[relative] = files.contents(atPath: path) ?? Data()
        default: continue
        }
    }
    return result
}
