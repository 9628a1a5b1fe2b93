// Tests for `gearbox device probe`, run as a subprocess: the JSON keys the foundation issue fixes,
// the values for each sysfs fixture, the live machine, and one-line errors for bad input.

import Foundation
import GearboxTestSupport
import Testing

private func object(_ value: Any?) throws -> [String: Any] { try #require(value as? [String: Any]) }
private func array(_ value: Any?) throws -> [[String: Any]] { try #require(value as? [[String: Any]]) }

/// Probes `arguments` into a temp file and returns the decoded JSON object.
private func probe(_ extra: [String]) throws -> [String: Any] {
    let scratch = ScratchDirectory("probe")
    let output = scratch.file("device.json")
    let result = try GearboxBinary.run(["device", "probe", "--output", output] + extra)
    #expect(result.status == 0, "stderr: \(result.stderr)")
    let data = try #require(FileManager.default.contents(atPath: output))
    return try object(try JSONSerialization.jsonObject(with: data))
}

/// Checks that every key the issue fixes is there, with the right JSON type.
private func expectIssueKeys(_ json: [String: Any]) throws {
    #expect(json["schemaVersion"] as? Int == 1)
    for key in ["id", "hostname", "cpuModel"] { #expect(json[key] is String, "\(key)") }
    let topology = try object(json["topology"])
    for key in ["packages", "cores", "pus", "numaNodes"] { #expect(topology[key] is Int, "topology.\(key)") }
    for cache in try array(topology["caches"]) {
        for key in ["level", "sizeBytes", "lineBytes"] { #expect(cache[key] is Int) }
        #expect(cache["cpus"] is [Int])
    }
    for kind in try array(json["cpuKinds"]) {
        #expect(kind["cpus"] is [Int]); #expect(kind["efficiency"] is Int); #expect(kind["infos"] is [String: String])
    }
    let dvfs = try object(json["dvfs"])
    #expect(["real", "emulated", "none"].contains(dvfs["controller"] as? String ?? "?"))
    for domain in try array(dvfs["domains"]) {
        for key in ["driver", "governor"] { #expect(domain[key] is String) }
        for key in ["minKHz", "maxKHz"] { #expect(domain[key] is Int) }
        for key in ["cpus", "availableKHz", "gridKHz"] { #expect(domain[key] is [Int], "domain.\(key)") }
        #expect(domain["governors"] is [String])
    }
    for counter in try array(json["counters"]) {
        for key in ["name", "status", "reason"] { #expect(counter[key] is String) }
        #expect(["supported", "unsupported"].contains(counter["status"] as? String ?? "?"))
    }
    for zone in try array(json["thermalZones"]) { #expect(zone["type"] is String) }
    let timer = try object(json["timer"])
    #expect(timer["resolutionNs"] is Int)
    #expect(timer["readCostNs"] is Double || timer["readCostNs"] is Int)
}

@Suite(.requiresBinary) struct DeviceCommandTests {
    @Test(.requiresRoot, .requiresSysfsDumps) func probingTheArmBoardDumpWritesOneDomainWithTwoFrequencies() throws {
        let json = try probe(["--sysfs-root", try Fixtures.archive(Fixtures.armBoard)])
        try expectIssueKeys(json)
        #expect(try object(json["topology"])["pus"] as? Int == 2)
        let dvfs = try object(json["dvfs"])
        #expect(dvfs["controller"] as? String == "real")
        let domains = try array(dvfs["domains"])
        try #require(domains.count == 1)
        #expect(domains[0]["cpus"] as? [Int] == [0, 1])
        #expect(domains[0]["availableKHz"] as? [Int] == [400_000, 800_000])
        #expect((json["sysfsRoot"] as? String)?.hasSuffix("2arm-2c.tar.bz2") == true)
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func probingTheIntelHybridDumpGivesTwoKindsAndDerivedGrids() throws {
        let json = try probe(["--sysfs-root", try Fixtures.archive(Fixtures.intelHybrid), "--id", "intel-hybrid"])
        try expectIssueKeys(json)
        #expect(json["id"] as? String == "intel-hybrid")
        #expect(try object(json["topology"])["pus"] as? Int == 20)
        #expect(try array(json["cpuKinds"]).count == 2)
        let domains = try array(try object(json["dvfs"])["domains"])
        #expect(domains.count == 20)
        let eCores = domains.filter { ($0["cpus"] as? [Int])?.first ?? 0 >= 12 }
        let pCores = domains.filter { ($0["cpus"] as? [Int])?.first ?? 99 < 12 }
        #expect(eCores.count == 8 && pCores.count == 12)
        #expect(eCores.allSatisfy { $0["maxKHz"] as? Int == 3_900_000 })
        #expect(pCores.contains { $0["maxKHz"] as? Int == 5_000_000 })
        for domain in domains {
            #expect((domain["availableKHz"] as? [Int])?.isEmpty == true)
            #expect(((domain["gridKHz"] as? [Int])?.count ?? 0) == 8)
            #expect(domain["gridDerived"] as? Bool == true)
        }
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func probingTheFakeHeterogeneousDumpSucceeds() throws {
        let json = try probe(["--sysfs-root", try Fixtures.archive(Fixtures.fakeHeterogeneousNUMA)])
        try expectIssueKeys(json)
        #expect(try object(json["topology"])["pus"] as? Int == 24)
        #expect(try object(json["dvfs"])["controller"] as? String == "none")
    }

    @Test func probingThisMachinePrintsJSONAndWritesTheFile() throws {
        let scratch = ScratchDirectory("live")
        let output = scratch.file("device.json")
        let result = try GearboxBinary.run(["device", "probe", "--json", "--output", output])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let printed = try object(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)))
        try expectIssueKeys(printed)
        let written = try object(try JSONSerialization.jsonObject(with: try #require(FileManager.default.contents(atPath: output))))
        #expect(written["id"] as? String == printed["id"] as? String)
        // No number invented for an event that did not count.
        for counter in try array(printed["counters"]) where counter["status"] as? String == "unsupported" {
            #expect(!(counter["reason"] as? String ?? "").isEmpty)
        }
    }

    @Test(.requiresRoot, .requiresSysfsDumps) func aDumpWithAGarbledCpufreqFileFailsWithOneLineNamingIt() throws {
        let copy = try Fixtures.writableCopy(Fixtures.armBoard)
        defer { try? FileManager.default.removeItem(atPath: copy.cleanup) }
        let file = copy.root + "/sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq"
        try "slow\n".write(toFile: file, atomically: false, encoding: .utf8)
        let result = try GearboxBinary.run(["device", "probe", "--sysfs-root", copy.root, "--output", copy.cleanup + "/out.json"])
        #expect(result.status == 2)
        #expect(result.stderr.contains(file), "stderr: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: copy.cleanup + "/out.json"))
    }

    @Test func aMissingSysfsRootIsAnInputError() throws {
        let result = try GearboxBinary.run(["device", "probe", "--sysfs-root", "/nonexistent/dump"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("/nonexistent/dump"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test(.requiresRoot, .requiresSysfsDumps, .enabled(if: HostFacts.hasSetpriv, "needs setpriv (util-linux)")) func withoutRootASysfsDumpGivesAClearOneLineError() throws {
        let archive = try Fixtures.archive(Fixtures.armBoard)
        // Extract where nobody can read it, then run the binary as nobody.
        let scratch = NSTemporaryDirectory() + "gearbox-nobody-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-xjf", archive, "-C", scratch]
        try tar.run(); tar.waitUntilExit()
        let result = try GearboxBinary.run(
            ["device", "probe", "--sysfs-root", scratch + "/" + Fixtures.armBoard, "--output", scratch + "/out.json"],
            environment: ["HOME": scratch],
            prefix: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("run as root"), "stderr: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func helpShowsAnExample() throws {
        for command in [["device", "probe"], ["device"]] {
            let result = try GearboxBinary.run(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Example"), "\(command) --help has no example")
        }
    }
}
