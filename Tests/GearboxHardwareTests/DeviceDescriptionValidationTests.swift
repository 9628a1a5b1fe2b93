import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@testable import GearboxHardware

/// Hostile device descriptions: the repository's device file broken one rule at a time.
@Suite struct DeviceDescriptionValidationTests {
    static let fixture: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/Devices/amd-epyc-2c2t.json"
    }()

    let scratch = ScratchDirectory("device-validation")
    var path: String { scratch.file("hostile.json") }

    typealias Mutation = (path: [JSONPathComponent], value: Any?, keyPath: String)
    static let domain: [JSONPathComponent] = ["dvfs", "domains", 0]

    static let mutations: [Mutation] = [
        (["id"], "../../evil", "id"),
        (["id"], "", "id"),
        (["id"], ".hidden", "id"),
        (["dvfs", "controller"], "turbo", "dvfs.controller"),
        (["dvfs", "domains"], [Any](), "dvfs.domains"),
        (domain + ["gridKHz", 0], -250000, "dvfs.domains[0].gridKHz[0]"),
        (domain + ["gridKHz", 0], 0, "dvfs.domains[0].gridKHz[0]"),
        (domain + ["gridKHz", 0], 1_000_000_000_000_000_000, "dvfs.domains[0].gridKHz[0]"),
        (domain + ["gridKHz", 1], 250000, "dvfs.domains[0].gridKHz[1]"),
        (domain + ["gridKHz"], [Int](), "dvfs.domains[0].gridKHz"),
        (domain + ["minKHz"], 3_000_000, "dvfs.domains[0].minKHz"),
        (domain + ["maxKHz"], -1, "dvfs.domains[0].maxKHz"),
        (domain + ["cpus"], [99, -1], "dvfs.domains[0].cpus[0]"),
        (domain + ["cpus"], [0, -1], "dvfs.domains[0].cpus[1]"),
        (domain + ["cpus"], [Int](), "dvfs.domains[0].cpus"),
        (domain + ["availableKHz"], [0], "dvfs.domains[0].availableKHz[0]"),
        (["topology", "pus"], 0, "topology.pus"),
        (["topology", "caches", 0, "sizeBytes"], -1, "topology.caches[0].sizeBytes"),
        (["cpuKinds", 0, "cpus", 0], -3, "cpuKinds[0].cpus[0]"),
        (["timer", "readCostNs"], -1, "timer.readCostNs"),
    ]

    @Test func theFixtureItselfIsValid() throws {
        _ = try JSONFile.read(DeviceDescription.self, from: Self.fixture)
    }

    @Test(arguments: mutations.indices)
    func eachBrokenRuleIsAnInvalidValueNamingItsKey(index: Int) throws {
        let mutation = Self.mutations[index]
        try JSONDocument(contentsOf: Self.fixture).setting(mutation.path, to: mutation.value).write(to: path)
        do {
            _ = try JSONFile.read(DeviceDescription.self, from: path)
            Issue.record("\(mutation.keyPath) = \(String(describing: mutation.value)) was accepted")
        } catch let FileFormatError.invalidValue(file, keyPath, _, _) {
            #expect(file == path)
            #expect(keyPath == mutation.keyPath)
        }
    }

    @Test func anUnknownControllerNamesTheAllowedOnes() throws {
        try JSONDocument(contentsOf: Self.fixture).setting(["dvfs", "controller"], to: "turbo").write(to: path)
        do {
            _ = try JSONFile.read(DeviceDescription.self, from: path)
            Issue.record("accepted")
        } catch let error as FileFormatError {
            #expect(error.description.contains(path))
            #expect(error.description.contains("real, emulated, none"))
        }
    }

    @Test func truncationWrongTypesAndRandomBytesAreMalformedNotCrashes() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture))
        var samples = stride(from: 0, to: data.count - 2, by: max(1, data.count / 8)).map { Data(data.prefix($0)) }
        samples.append(try JSONDocument(contentsOf: Self.fixture).setting(["dvfs", "domains", 0, "gridKHz"], to: "all").data())
        samples.append(try JSONDocument(contentsOf: Self.fixture).setting(["topology", "pus"], to: 1e30).data())
        samples.append(try JSONDocument(contentsOf: Self.fixture).setting(["id"], to: nil).data())
        var generator = SystemRandomNumberGenerator()
        samples.append(Data((0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        for sample in samples {
            #expect(throws: FileFormatError.self) { try JSONFile.decode(DeviceDescription.self, from: sample, path: "d.json") }
        }
    }

    @Test func noDomainsIsFineWhenThereIsNoController() throws {
        try JSONDocument(contentsOf: Self.fixture).setting(["dvfs", "controller"], to: "none").setting(["dvfs", "domains"], to: [Any]())
            .write(to: path)
        _ = try JSONFile.read(DeviceDescription.self, from: path)
    }
}

@Suite struct EmulatedCalibrationValidationTests {
    static let valid = """
        {"schemaVersion": 1, "maxKHz": 2000000, "periodUs": 20000, "calibrationWorkNs": 64000000,
         "correctQuota": false, "boostWeight": true, "calibrations": [
           {"requestedKHz": 500000, "requestedRatio": 0.25, "measuredRatio": 0.26, "periodUs": 20000, "quotaUs": 5000,
            "corrections": 0, "workNs": 64000000}],
         "provenance": {"deviceID": "d", "controller": "emulated", "gearboxVersion": "0", "gitCommit": "x", "compiler": "Swift",
                        "date": "2026-01-01T00:00:00Z", "hostname": "h", "governors": [], "limitsKHz": [], "milliCelsius": {}, "notes": []}}
        """

    @Test(arguments: [
        (["maxKHz"], -1, "maxKHz"), (["periodUs"], 0, "periodUs"),
        (["calibrations", 0, "requestedKHz"], 0, "calibrations[0].requestedKHz"),
        (["calibrations", 0, "measuredRatio"], -1, "calibrations[0].measuredRatio"),
        (["calibrations", 0, "quotaUs"], -7, "calibrations[0].quotaUs"),
    ] as [([JSONPathComponent], Int, String)])
    func brokenCalibrationsAreNamed(keys: [JSONPathComponent], value: Int, keyPath: String) throws {
        #expect(throws: Never.self) { try JSONFile.decode(EmulatedCalibrationFile.self, from: Data(Self.valid.utf8), path: "c.json") }
        let data = try JSONDocument(data: Data(Self.valid.utf8)).setting(keys, to: value).data()
        do {
            _ = try JSONFile.decode(EmulatedCalibrationFile.self, from: data, path: "c.json")
            Issue.record("\(keyPath) = \(value) accepted")
        } catch let FileFormatError.invalidValue(file, key, _, _) {
            #expect(file == "c.json")
            #expect(key == keyPath)
        }
    }
}
