// Tests for GearboxHardware/BoardModel: the shipped board files load and validate, and a file
// that breaks a rule (an unsourced figure, a userspace driver without the userspace governor)
// fails with the key that is wrong.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxTestSupport
import Testing

enum BoardFiles {
    static var directory: String { SharedFixtures.packageRoot + "/Devices/boards" }
    static var catalog: BoardCatalog { BoardCatalog(directory: directory) }
}

@Suite struct BoardModelTests {
    @Test func theShippedBoardsLoadAndValidate() throws {
        #expect(BoardFiles.catalog.names() == ["intel-i7-1370p", "st-u8500"])
        let arm = try BoardFiles.catalog.load("st-u8500")
        #expect(arm.domains.count == 1)
        #expect(arm.domains[0].operatingPoints.map(\.kHz) == [400000, 800000])
        #expect(arm.domains[0].semantics == .userspace)
        #expect(arm.domains[0].transitionLatencyNs == 20000)
        #expect(arm.sensors.hwmon.count == 1)
        let intel = try BoardFiles.catalog.load("intel-i7-1370p")
        #expect(intel.domains.map(\.semantics) == [.pinned, .pinned])
        #expect(intel.domains.map(\.cpus.count) == [12, 8])
        #expect(!intel.domains.contains { $0.governors.contains("userspace") })
        #expect(intel.sensors.powercap.map(\.name) == ["package-0", "core"])
    }

    @Test func everyFigureOfTheShippedBoardsSaysWhereItComesFrom() throws {
        for name in BoardFiles.catalog.names() {
            let model = try BoardFiles.catalog.load(name)
            for key in BoardModel.sourcedKeys {
                let source = try #require(model.sources[key], "\(name): \(key)")
                #expect(["datasheet", "measured", "assumption"].contains { source.hasPrefix($0 + ":") }, "\(name): \(key)")
            }
        }
    }

    @Test func anUnsourcedFigureIsAnInputErrorNamingTheKey() throws {
        let scratch = ScratchDirectory("board-model")
        let path = scratch.file("st-u8500.board.json")
        try JSONDocument(contentsOf: BoardFiles.catalog.path(of: "st-u8500"))
            .setting(["sources", "power.staticWatts"], to: nil).write(to: path)
        #expect {
            _ = try JSONFile.read(BoardModel.self, from: path)
        } throws: { error in
            guard case let .invalidValue(_, keyPath, _, _)? = error as? FileFormatError else { return false }
            return keyPath == "sources[\"power.staticWatts\"]"
        }
    }

    @Test func aSourceThatDoesNotSayItsKindIsRejected() throws {
        let scratch = ScratchDirectory("board-model")
        let path = scratch.file("st-u8500.board.json")
        try JSONDocument(contentsOf: BoardFiles.catalog.path(of: "st-u8500"))
            .setting(["sources", "power.staticWatts"], to: "0.15 W").write(to: path)
        #expect(throws: FileFormatError.self) { _ = try JSONFile.read(BoardModel.self, from: path) }
    }

    @Test func aUserspaceDriverWithoutTheUserspaceGovernorIsRejected() throws {
        let scratch = ScratchDirectory("board-model")
        let path = scratch.file("st-u8500.board.json")
        try JSONDocument(contentsOf: BoardFiles.catalog.path(of: "st-u8500"))
            .setting(["domains", 0, "governors"], to: ["ondemand", "performance"])
            .setting(["domains", 0, "initialGovernor"], to: "ondemand").write(to: path)
        #expect {
            _ = try JSONFile.read(BoardModel.self, from: path)
        } throws: { error in
            guard case let .invalidValue(_, keyPath, _, _)? = error as? FileFormatError else { return false }
            return keyPath == "domains[0].governors"
        }
    }

    @Test func anUnknownBoardNamesTheKnownOnes() throws {
        #expect(throws: BoardError.unknownBoard(name: "nope", directory: BoardFiles.directory, known: ["intel-i7-1370p", "st-u8500"])) {
            _ = try BoardFiles.catalog.load("nope")
        }
        #expect(BoardError.unknownBoard(name: "x", directory: "d", known: []).exitStatus == .inputError)
    }

    @Test func voltageInterpolatesBetweenOperatingPoints() throws {
        let intel = try BoardFiles.catalog.load("intel-i7-1370p")
        #expect(abs(intel.volts(domain: 0, kHz: 1900000) - 0.8) < 1e-12)
        #expect(abs(intel.volts(domain: 0, kHz: 2700000) - 0.9) < 1e-9)
        #expect(abs(intel.volts(domain: 0, kHz: 100000) - 0.65) < 1e-12)
    }
}

@Suite struct BoardCPUMapTests {
    @Test func boardCPUsTheHostLacksLandOnHostCPUsModuloTheirCount() throws {
        let map = try #require(BoardCPUMap.fromEnvironment([BoardCPUMap.environmentKey: "0-1"]))
        #expect(map.hostCPUs(for: [12]) == [0])
        #expect(map.hostCPUs(for: [12, 13]) == [0, 1])
        #expect(map.hostCPUs(for: CPUSet(12...19)) == [0, 1])
        #expect(BoardCPUMap.fromEnvironment([:]) == nil, "outside a board nothing is mapped")
        #expect(BoardCPUMap.fromEnvironment([BoardCPUMap.environmentKey: "nonsense"]) == nil)
    }

    @Test func onlyABoardWithCPUsTheHostLacksNeedsMapping() throws {
        let intel = try BoardFiles.catalog.load("intel-i7-1370p")
        let arm = try BoardFiles.catalog.load("st-u8500")
        #expect(BoardCPUMap.isNeeded(for: intel, host: [0, 1]))
        #expect(!BoardCPUMap.isNeeded(for: arm, host: [0, 1]))
    }
}
