import Foundation
import GearboxTestSupport
import Testing
@testable import GearboxCore

@Suite struct AtomicFileTests {
    let scratch = ScratchDirectory("atomic")
    var directory: String { scratch.path }

    @Test func writeCreatesParentDirectoriesAndReplacesContent() throws {
        let path = directory + "/nested/deeper/file.txt"
        try AtomicFile.write("first", to: path)
        try AtomicFile.write("second", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
    }

    @Test func writeLeavesNoTemporaryFilesBehind() throws {
        let path = directory + "/clean.txt"
        try AtomicFile.write("x", to: path)
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(entries == ["clean.txt"])
    }

    @Test func writeIntoUnwritableLocationThrowsNamingThePath() {
        #expect {
            try AtomicFile.write("x", to: "/proc/gearbox-cannot-exist/file.txt")
        } throws: { error in
            guard let error = error as? FileFormatError, case .cannotWrite(let path, _) = error else { return false }
            return path == "/proc/gearbox-cannot-exist/file.txt"
        }
    }
}
