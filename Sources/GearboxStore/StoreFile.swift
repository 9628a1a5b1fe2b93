// GearboxStore/StoreFile: which kind of result a file given to `gearbox store push` is, told by
// its keys (or a portfolio folder by its manifest), read with that format's own checks.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxPolicy
import GearboxPortfolio
import GearboxRuntime

public enum StoreFile {
    case lookupTable(LookupTable)
    case validation(ValidationSummaryRecord)
    case device(DeviceRecord)
    case portfolio(name: String, contentHash: String)

    /// Reads `path` as whichever kind its contents are.
    /// - Throws: the format's own one-line error, or `StoreError.unknownFile`.
    public static func read(_ path: String) throws -> StoreFile {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let manifest = (path as NSString).appendingPathComponent(Portfolio.manifestFileName)
            guard FileManager.default.fileExists(atPath: manifest) else { throw StoreError.unknownFile(path: path) }
            return try portfolio(manifestAt: manifest)
        }
        if (path as NSString).lastPathComponent == Portfolio.manifestFileName { return try portfolio(manifestAt: path) }
        let data = try InputFile.read(path, maximumBytes: JSONFile.maximumFileBytes)
        guard let top = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw FileFormatError.malformed(path: path, reason: "not a JSON object")
        }
        if top["variants"] != nil, top["frequenciesKHz"] != nil {
            return .lookupTable(try JSONFile.decode(LookupTable.self, from: data, path: path))
        }
        if top["policies"] != nil, top["trace"] != nil {
            return .validation(try ValidationSummaryRecord(JSONFile.decode(ValidationSummary.self, from: data, path: path)))
        }
        if top["dvfs"] != nil, top["topology"] != nil {
            let description = try JSONFile.decode(DeviceDescription.self, from: data, path: path)
            return .device(DeviceRecord(description, probeJSON: String(decoding: data, as: UTF8.self)))
        }
        throw StoreError.unknownFile(path: path)
    }

    private static func portfolio(manifestAt path: String) throws -> StoreFile {
        let manifest = try JSONFile.read(PortfolioManifest.self, from: path)
        return .portfolio(name: manifest.name, contentHash: try FileDigest.sha256Hex(ofFileAt: path))
    }

    /// Stores it.
    public func push(into store: ResultsStore) throws -> PushOutcome {
        switch self {
        case let .lookupTable(table): return try store.push(table)
        case let .validation(summary): return try store.push(validation: summary)
        case let .device(device): return try store.push(device: device)
        case let .portfolio(name, hash): return try store.push(portfolio: name, contentHash: hash)
        }
    }
}
