// The simulated controller loads and runs every variant once before it simulates: an empty,
// random or truncated ONNX file whose SHA-256 the manifest matches is an input error (exit 2)
// naming the variant and the file, not a complete table.

import Foundation
import GearboxTestSupport
import Testing

@Suite(.enabled(if: GearboxBinary.path != nil, "no built gearbox binary under .build (run `swift build`)"))
struct SimulatedLoadingTests {
    enum Damage: String, CaseIterable { case empty, random, truncated }

    /// A copy of the shipped default portfolio whose second variant's file is damaged, with the
    /// manifest's hash updated to match the damage. Returns the variant's name and file.
    static func damagedPortfolio(_ damage: Damage, in directory: String) throws -> (variant: String, file: String) {
        try FileManager.default.copyItem(atPath: GearboxBinary.repositoryRoot + "/Portfolios/default", toPath: directory)
        let manifestPath = directory + "/portfolio.json"
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as? [String: Any])
        var variants = try #require(manifest["variants"] as? [[String: Any]])
        let name = try #require(variants[1]["name"] as? String)
        let file = directory + "/" + (try #require(variants[1]["file"] as? String))
        let original = try Data(contentsOf: URL(fileURLWithPath: file))
        let damaged: Data
        switch damage {
        case .empty: damaged = Data()
        case .random:
            var generator = SystemRandomNumberGenerator()
            damaged = Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) })
        case .truncated: damaged = original.prefix(original.count / 2)
        }
        try damaged.write(to: URL(fileURLWithPath: file))
        variants[1]["sha256"] = try sha256(of: file)
        manifest["variants"] = variants
        try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: manifestPath))
        return (name, file)
    }

    static func sha256(of path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }

    @Test(arguments: Damage.allCases)
    func aDamagedVariantWithAMatchingHashIsAnInputErrorNamingIt(_ damage: Damage) throws {
        let scratch = ScratchDirectory("simulated-loading")
        let (variant, file) = try Self.damagedPortfolio(damage, in: scratch.file("portfolio"))
        let result = try GearboxBinary.run(simulatedProfileArguments(out: scratch.file("out/table.lut.json"), portfolio: scratch.file("portfolio")))
        #expect(result.status == 2, "\(damage): \(result.stderr)")
        #expect(result.stderr.hasPrefix("gearbox: ") && result.stderr.contains("'\(variant)'") && result.stderr.contains(file),
                "\(damage): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out")))
    }
}
