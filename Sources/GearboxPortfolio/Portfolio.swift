// GearboxPortfolio/Portfolio: a portfolio directory opened and checked: the manifest decoded,
// every variant's file present and matching its SHA-256, and (given a backend) loadable in its
// declared format. Errors name the variant and the file.

import Crypto
import Foundation
import GearboxCore

/// A portfolio directory whose manifest has been read and whose files have been checked.
public struct Portfolio: Sendable {
    /// The directory holding `portfolio.json`.
    public let directory: String
    public let manifest: PortfolioManifest

    /// The manifest's file name inside a portfolio directory.
    public static let manifestFileName = "portfolio.json"

    public var name: String { manifest.name }
    public var variants: [PortfolioManifest.Variant] { manifest.variants }
    public var manifestPath: String { directory + "/" + Self.manifestFileName }

    /// The path of a variant's file: the manifest stores it relative to the directory, and
    /// ``open(directory:verifyHashes:checkLoadingWith:)`` checks that it stays inside.
    public func path(of variant: PortfolioManifest.Variant) -> String {
        directory + "/" + variant.file
    }

    /// The variant called `name`, if the manifest has one.
    public func variant(named name: String) -> PortfolioManifest.Variant? {
        manifest.variants.first { $0.name == name }
    }

    public init(directory: String, manifest: PortfolioManifest) {
        self.directory = directory
        self.manifest = manifest
    }

    /// The manifest's rules (``PortfolioManifest/validate(_:)``) and every variant file inside
    /// the directory, symlinks resolved: what `open` checks before it hashes, for a manifest about
    /// to be written.
    public func checkConsistency() throws {
        try manifest.validate(FileValidator(path: manifestPath))
        for index in manifest.variants.indices { _ = try containedFile(ofVariantAt: index) }
    }

    /// A variant's file resolved inside the directory: no absolute path, no `..`, no symlink
    /// leading out.
    private func containedFile(ofVariantAt index: Int) throws -> String {
        let key = FileValidator(path: manifestPath).at("variants").at(index).at("file")
        return try ContainedPath.resolve(manifest.variants[index].file, inside: directory, key: key)
    }

    /// The one rule for a variant's file, shared by `open` and `portfolio check`: it resolves
    /// inside the directory (symlinks included), is readable, and (with `verifyHash`, where the
    /// manifest stores one) its SHA-256 matches. Returns the resolved path.
    ///
    /// - Throws: `FileFormatError.invalidValue` for a path that escapes, `PortfolioError.missingFile`
    ///   or `.hashMismatch`.
    public func checkedFile(ofVariantAt index: Int, verifyHash: Bool = true) throws -> String {
        let variant = manifest.variants[index]
        let path = try containedFile(ofVariantAt: index)
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw PortfolioError.missingFile(variant: variant.name, path: path)
        }
        if verifyHash, let expected = variant.sha256 {
            let actual: String
            do { actual = try FileDigest.sha256Hex(ofFileAt: path) } catch {
                throw PortfolioError.missingFile(variant: variant.name, path: path)
            }
            guard actual == expected.lowercased() else {
                throw PortfolioError.hashMismatch(variant: variant.name, path: path, expected: expected, actual: actual)
            }
        }
        return path
    }

    /// `Portfolios/x/` → `Portfolios/x` (a lone `/` stays), so paths built from it have one slash
    /// before the file name.
    public static func directoryPath(_ directory: String) -> String {
        directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
    }

    /// Opens `directory/portfolio.json` (validated as ``PortfolioManifest/validate(_:)`` says),
    /// checks every file resolves inside the directory (symlinks included), exists and (where the
    /// manifest stores one) its SHA-256 matches. With a `backend`, also loads every variant once
    /// to prove its format loads, then releases it.
    public static func open(
        directory: String, verifyHashes: Bool = true, checkLoadingWith backend: VariantBackend? = nil
    ) throws -> Portfolio {
        let dir = directoryPath(directory)
        let manifestPath = dir + "/" + manifestFileName
        let manifest: PortfolioManifest
        do { manifest = try JSONFile.read(PortfolioManifest.self, from: manifestPath) } catch let error as FileFormatError {
            switch error {
            case .cannotRead: throw PortfolioError.manifest(path: manifestPath, reason: "no such file or not readable")
            case let .malformed(_, reason): throw PortfolioError.manifest(path: manifestPath, reason: reason)
            case let .unsupportedSchema(_, found, supported):
                throw PortfolioError.manifest(path: manifestPath, reason: "schemaVersion \(found), this gearbox reads \(supported)")
            case let .cannotWrite(_, reason): throw PortfolioError.manifest(path: manifestPath, reason: reason)
            case .invalidValue: throw error
            }
        }
        let portfolio = Portfolio(directory: dir, manifest: manifest)
        for index in manifest.variants.indices {
            _ = try portfolio.checkedFile(ofVariantAt: index, verifyHash: verifyHashes)
        }
        if let backend {
            for variant in manifest.variants {
                _ = try backend.load(variant, from: portfolio)
            }
            backend.releaseAll()
        }
        return portfolio
    }
}

/// SHA-256 of files, streamed so that large weight files are not read whole.
public enum FileDigest {
    /// Lower-case hex SHA-256 of the file at `path`.
    public static func sha256Hex(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileFormatError.cannotRead(path: path, reason: "not readable")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Lower-case hex SHA-256 of `data`.
    public static func sha256Hex(of data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
