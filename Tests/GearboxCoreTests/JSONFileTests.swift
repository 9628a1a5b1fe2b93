import Foundation
import GearboxTestSupport
import Testing
@testable import GearboxCore

private struct Sample: VersionedFile, Equatable {
    static let currentSchemaVersion = 2
    var schemaVersion = 2
    var name: String
    var values: [Int]
}

@Suite struct JSONFileTests {
    let scratch = ScratchDirectory("json")
    var path: String { scratch.file("sample.json") }

    @Test func roundTripsWithSortedPrettyKeys() throws {
        let value = Sample(name: "b", values: [1, 2])
        try JSONFile.write(value, to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\n  \"name\""))
        #expect(text.range(of: "\"name\"")!.lowerBound < text.range(of: "\"schemaVersion\"")!.lowerBound)
        #expect(try JSONFile.read(Sample.self, from: path) == value)
    }

    @Test func rejectsUnknownSchemaVersion() throws {
        try AtomicFile.write(#"{"schemaVersion": 9, "name": "x", "values": []}"#, to: path)
        #expect(throws: FileFormatError.unsupportedSchema(path: path, found: 9, supported: 2)) {
            try JSONFile.read(Sample.self, from: path)
        }
    }

    @Test func truncatedFileIsAOneLineMalformedError() throws {
        let full = try JSONFile.encoder().encode(Sample(name: "x", values: [1, 2, 3]))
        for cut in stride(from: 1, to: full.count - 1, by: 7) {
            try AtomicFile.write(full.prefix(cut), to: path)
            do {
                _ = try JSONFile.read(Sample.self, from: path)
                Issue.record("truncation at \(cut) decoded")
            } catch let error as FileFormatError {
                #expect(!error.description.contains("\n"))
                #expect(error.description.contains(path))
            }
        }
    }

    @Test func missingKeyNamesTheKey() throws {
        try AtomicFile.write(#"{"schemaVersion": 2, "name": "x"}"#, to: path)
        #expect {
            try JSONFile.read(Sample.self, from: path)
        } throws: { error in
            "\(error)".contains("missing key 'values'")
        }
    }

    @Test func missingFileIsCannotRead() {
        #expect(throws: FileFormatError.self) { try JSONFile.read(Sample.self, from: path + ".absent") }
    }
}
