// GearboxStore/StoreError: what can go wrong reaching or using the results store, and which exit
// status each failure ends a command with.

import GearboxCore

public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// `--store` is not a URL the store understands.
    case badLocation(String, reason: String)
    /// The database could not be opened or reached.
    case unreachable(String, reason: String)
    /// A statement failed inside the database.
    case database(String, reason: String)
    /// The database was written by a newer Gearbox (its schema version is above ours).
    case newerSchema(String, found: Int, supported: Int)
    /// A file given to `store push` is none of the kinds the store keeps.
    case unknownFile(path: String)
    /// A `store fail` field is empty.
    case emptyField(String)

    public var description: String {
        switch self {
        case let .badLocation(text, reason):
            return "--store '\(text)': \(reason); use \(StoreLocation.accepted)"
        case let .unreachable(location, reason):
            return "store \(location): cannot open: \(reason)"
        case let .database(location, reason):
            return "store \(location): \(reason)"
        case let .newerSchema(location, found, supported):
            return "store \(location): schema version \(found) is newer than this Gearbox's \(supported); upgrade gearbox"
        case let .unknownFile(path):
            return "\(path): not a lookup table, validation summary or device file (expected a .lut.json, a validate summary.json a Devices/<id>.json or a portfolio folder)"
        case let .emptyField(name):
            return "--\(name) is empty; give the \(name) in words"
        }
    }
}

extension StoreError: ClassifiedError {
    public var exitStatus: ExitStatus {
        switch self {
        case .badLocation, .unknownFile, .emptyField, .newerSchema: return .inputError
        case .unreachable, .database: return .failure
        }
    }
}
