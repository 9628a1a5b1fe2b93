// Tests for the IDX reader and the gzip inflater: valid files, wrong magic numbers, truncated
// headers, data and gzip streams, and the installed Fashion-MNIST files.

import Foundation
import GearboxTestSupport
import Testing
@testable import GearboxTraining

/// gzip-compresses with the system's gzip so the test does not rely on our own encoder.
private func gzipped(_ data: Data) throws -> Data {
    let scratch = ScratchDirectory("idx-gzip")
    let raw = scratch.file("raw")
    try data.write(to: URL(fileURLWithPath: raw))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-n", "-f", raw]
    try process.run()
    process.waitUntilExit()
    return try Data(contentsOf: URL(fileURLWithPath: raw + ".gz"))
}

@Test func parsesAThreeDimensionalIDXArray() throws {
    let file = IDXFile(shape: [2, 2, 3], values: Array(0..<12))
    let parsed = try IDXFile.parse(file.encoded(), path: "x.idx")
    #expect(parsed == file)
}

@Test func rejectsAWrongMagicNumber() {
    var bytes = [UInt8](IDXFile(shape: [3], values: [1, 2, 3]).encoded())
    bytes[0] = 0x1f
    #expect(throws: TrainingError.badIDX(path: "bad.idx", reason: "wrong magic number 0x1f000801 (expected 0x0000TTDD)")) {
        try IDXFile.parse(Data(bytes), path: "bad.idx")
    }
}

@Test func rejectsAnUnsupportedValueType() {
    var bytes = [UInt8](IDXFile(shape: [3], values: [1, 2, 3]).encoded())
    bytes[2] = 0x0d  // float
    #expect(throws: TrainingError.self) { try IDXFile.parse(Data(bytes), path: "f.idx") }
}

@Test func rejectsATruncatedHeaderAndTruncatedData() {
    let full = IDXFile(shape: [4, 5], values: Array(repeating: 7, count: 20)).encoded()
    for cut in [0, 3, 6, 11] {
        #expect(throws: TrainingError.self) { try IDXFile.parse(full.prefix(cut), path: "t.idx") }
    }
    do {
        _ = try IDXFile.parse(full.prefix(full.count - 1), path: "t.idx")
        Issue.record("a file one byte short must not parse")
    } catch let error as TrainingError {
        #expect(error.description.contains("truncated"))
        #expect(error.description.contains("t.idx"))
        #expect(!error.description.contains("\n"))
    } catch { Issue.record("unexpected error \(error)") }
}

@Test func rejectsTrailingBytes() {
    let bytes = IDXFile(shape: [2], values: [1, 2]).encoded() + Data([9])
    #expect(throws: TrainingError.self) { try IDXFile.parse(bytes, path: "t.idx") }
}

@Test func readsAGzipFileAndRejectsATruncatedOne() throws {
    let file = IDXFile(shape: [50, 7, 7], values: (0..<2450).map { UInt8($0 % 251) })
    let gz = try gzipped(file.encoded())
    let scratch = ScratchDirectory("idx")
    let path = scratch.file("ok.idx.gz")
    try gz.write(to: URL(fileURLWithPath: path))
    #expect(try IDXFile.read(path: path) == file)

    let cutPath = scratch.file("cut.idx.gz")
    try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: cutPath))
    do {
        _ = try IDXFile.read(path: cutPath)
        Issue.record("a truncated gzip stream must not parse")
    } catch let error as TrainingError {
        #expect(error.description.contains("cut.idx.gz"))
        #expect(!error.description.contains("\n"))
    }
}

@Test func aMissingFileIsAOneLineError() {
    #expect(throws: TrainingError.unreadable(path: "/nonexistent/x.gz", reason: "no such file or not readable")) {
        try IDXFile.read(path: "/nonexistent/x.gz")
    }
}

@Test func labelsMustMatchImages() {
    let images = IDXFile(shape: [3, 2, 2], values: Array(repeating: 0, count: 12))
    let labels = IDXFile(shape: [2], values: [0, 1])
    #expect(throws: TrainingError.self) {
        try FashionMNIST.dataset(images: images, labels: labels, imagesPath: "i", labelsPath: "l")
    }
    let badLabel = IDXFile(shape: [3], values: [0, 1, 10])
    #expect(throws: TrainingError.self) {
        try FashionMNIST.dataset(images: images, labels: badLabel, imagesPath: "i", labelsPath: "l")
    }
}

@Test(.enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte.gz"),
               "needs dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"))
func readsTheInstalledFashionMNISTTestSplit() throws {
    let test = try FashionMNIST.load(split: .test)
    #expect(test.count == 10_000)
    #expect(test.height == 28 && test.width == 28)
    #expect(Set(test.labels).count == 10)
    #expect(test.images.count == 10_000 * 784)
}
