import Foundation
import GearboxTestSupport
import Testing
@testable import GearboxCore

/// A small format with rules, standing in for Gearbox's files.
private struct Checked: VersionedFile, ValidatedFile, Equatable {
    static let currentSchemaVersion = 1
    var schemaVersion = 1
    var id: String
    var kHz: [Int]
    var latency: [String: Double]

    func validate(_ file: FileValidator) throws {
        try file.at("id").checkSafeName(id)
        for (index, value) in kHz.enumerated() { try file.at("kHz").at(index).checkKHz(value) }
        for (key, value) in latency.sorted(by: { $0.key < $1.key }) { try file.at("latency").at(entry: key).checkLatencyNs(value) }
    }
}

@Suite struct FileValidatorTests {
    let scratch = ScratchDirectory("validator")
    var path: String { scratch.file("checked.json") }

    private func write(_ json: String) throws { try AtomicFile.write(json, to: path) }

    @Test func keyPathsNameArraysAndDictionaryEntries() {
        let key = FileValidator(path: "f.json").at("variants").at(3).at("latency").at(entry: "250000").at("p99Ns")
        #expect(key.keyPath == #"variants[3].latency["250000"].p99Ns"#)
        #expect(key.invalid("1e+30", allowed: "x") == .invalidValue(path: "f.json", keyPath: key.keyPath, value: "1e+30", allowed: "x"))
    }

    @Test func readingAValidatedFileRunsItsRules() throws {
        try write(#"{"schemaVersion": 1, "id": "ok", "kHz": [1000, -5], "latency": {}}"#)
        #expect(throws: FileFormatError.invalidValue(path: path, keyPath: "kHz[1]", value: "-5", allowed: "allowed: a frequency in kHz, 1...100000000")) {
            try JSONFile.read(Checked.self, from: path)
        }
    }

    @Test(arguments: [
        (#""id": "../../evil""#, "id"), (#""id": ".hidden""#, "id"), (#""id": """#, "id"), (#""id": "a/b""#, "id"),
        (#""kHz": [0]"#, "kHz[0]"), (#""kHz": [1000000000000000000]"#, "kHz[0]"),
        (#""latency": {"250000": 1e30}"#, #"latency["250000"]"#), (#""latency": {"250000": 0}"#, #"latency["250000"]"#),
        (#""latency": {"250000": -1}"#, #"latency["250000"]"#),
    ])
    func eachBrokenRuleNamesItsKey(field: String, keyPath: String) throws {
        var fields = [#""id": "ok""#, #""kHz": [1000]"#, #""latency": {"1000": 5}"#]
        let name = field.split(separator: ":")[0]
        fields.removeAll { $0.hasPrefix(name + ":") }
        try write("{\"schemaVersion\": 1, " + (fields + [field]).joined(separator: ", ") + "}")
        do {
            _ = try JSONFile.read(Checked.self, from: path)
            Issue.record("\(field) was accepted")
        } catch let FileFormatError.invalidValue(file, key, _, allowed) {
            #expect(file == path)
            #expect(key == keyPath)
            #expect(allowed.hasPrefix("allowed:"))
        }
    }

    @Test func aStringSchemaVersionIsNamedAsSuchNotAsInvalidJSON() throws {
        try write(#"{"schemaVersion": "1", "id": "ok", "kHz": [], "latency": {}}"#)
        do {
            _ = try JSONFile.read(Checked.self, from: path)
            Issue.record("accepted")
        } catch let error as FileFormatError {
            guard case let .invalidValue(_, key, value, _) = error else { Issue.record("\(error)"); return }
            #expect(key == "schemaVersion")
            #expect(value.contains("string"))
            #expect(!error.description.contains("not valid JSON"))
        }
    }

    @Test func wrongTypesTruncationAndRandomBytesAreMalformedNeverACrash() throws {
        for json in [#"{"schemaVersion": 1, "id": 5, "kHz": [], "latency": {}}"#, #"{"schemaVersion": 1, "id": "ok", "kHz": [1.5], "latency": {}}"#,
                     #"[1, 2]"#, #"{"schemaVersion": 1, "id": "ok", "kHz": [1e300], "latency": {}}"#] {
            try write(json)
            #expect(throws: FileFormatError.self, "\(json)") { try JSONFile.read(Checked.self, from: path) }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let bytes = Data((0..<Int.random(in: 1...200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            try AtomicFile.write(bytes, to: path)
            #expect(throws: FileFormatError.self) { try JSONFile.read(Checked.self, from: path) }
        }
    }

    @Test func aFileOverTheSizeBudgetIsRefusedBeforeItIsRead() throws {
        try AtomicFile.write(Data(repeating: 0x20, count: 2048), to: path)
        #expect(throws: FileFormatError.invalidValue(path: path, keyPath: "file size", value: "2048 bytes", allowed: "allowed: at most 1024 bytes")) {
            try InputFile.read(path, maximumBytes: 1024)
        }
        #expect(throws: FileFormatError.cannotRead(path: scratch.path, reason: "a directory, not a file")) {
            try InputFile.read(scratch.path, maximumBytes: 1024)
        }
    }

    @Test func checkedIntegerConversionThrowsInsteadOfTrapping() throws {
        let key = FileValidator(path: "f").at("x")
        #expect(try key.integer(2.6) == 3)
        for value in [1e30, -1e30, .infinity, .nan] {
            #expect(throws: FileFormatError.self) { try key.integer(value) }
        }
    }

    @Test func orderedValuesNameTheFirstThatDecreases() {
        let key = FileValidator(path: "f").at("cell")
        #expect(throws: FileFormatError.invalidValue(path: "f", keyPath: "cell.p99Ns", value: "5", allowed: "must be ≥ p90Ns (7)")) {
            try key.checkNonDecreasing([("p50Ns", 3), ("p90Ns", 7), ("p999Ns", nil), ("p99Ns", 5)])
        }
        #expect(throws: FileFormatError.invalidValue(path: "f", keyPath: "names[2]", value: "'a'", allowed: "names must be unique (names[0] has it too)")) {
            try FileValidator(path: "f").at("names").checkUniqueNames(["a", "b", "a"])
        }
    }
}

@Suite struct ContainedPathTests {
    let scratch = ScratchDirectory("contained")

    @Test func pathsInsideTheRootResolve() throws {
        try FileManager.default.createDirectory(atPath: scratch.file("root/sub"), withIntermediateDirectories: true)
        try AtomicFile.write("x", to: scratch.file("root/sub/a.onnx"))
        try FileManager.default.createSymbolicLink(atPath: scratch.file("root/link.onnx"), withDestinationPath: "sub/a.onnx")
        let key = FileValidator(path: "m.json").at("file")
        #expect(try ContainedPath.resolve("sub/a.onnx", inside: scratch.file("root"), key: key) == scratch.file("root/sub/a.onnx"))
        #expect(try ContainedPath.resolve("link.onnx", inside: scratch.file("root"), key: key) == scratch.file("root/link.onnx"))
        #expect(try ContainedPath.resolve("missing.onnx", inside: scratch.file("root"), key: key) == scratch.file("root/missing.onnx"))
    }

    @Test(arguments: ["/etc/passwd", "../../../etc/passwd", "../outside/x.onnx", "sub/../../x", "", "escape.onnx"])
    func pathsLeavingTheRootAreRefused(relative: String) throws {
        try FileManager.default.createDirectory(atPath: scratch.file("root/sub"), withIntermediateDirectories: true)
        try AtomicFile.write("secret", to: scratch.file("outside.onnx"))
        try FileManager.default.createSymbolicLink(atPath: scratch.file("root/escape.onnx"), withDestinationPath: scratch.file("outside.onnx"))
        let key = FileValidator(path: "m.json").at("variants").at(0).at("file")
        do {
            _ = try ContainedPath.resolve(relative, inside: scratch.file("root"), key: key)
            Issue.record("'\(relative)' resolved")
        } catch let FileFormatError.invalidValue(path, keyPath, _, _) {
            #expect(path == "m.json")
            #expect(keyPath == "variants[0].file")
        }
    }
}

@Test(arguments: ["amd-epyc-2c2t", "fixture_vm.2", "a-b"])
func safeNamesPass(name: String) { #expect(SafeName.problem(name) == nil) }

@Test(arguments: ["", ".", "..", "../../evil", ".hidden", "a/b", "a b", "a\u{0}b", "é", String(repeating: "a", count: 201)])
func unsafeNamesAreRefused(name: String) { #expect(SafeName.problem(name) != nil) }
