// Tests for GearboxHardware/BoardSimulation and BoardTree: the board models played as
// deterministic twins, stepped by hand (no clock), and their live sysfs tree in a scratch folder.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxTestSupport
import Testing

private func load(_ name: String) throws -> BoardModel { try BoardFiles.catalog.load(name) }

private func read(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
}

private func write(_ value: String, to path: String) throws {
    try value.write(toFile: path, atomically: false, encoding: .utf8)
}

@Suite struct BoardSimulationTests {
    @Test func aSetspeedWriteTakesEffectOnlyAfterTheTransitionLatency() throws {
        var board = BoardSimulation(model: try load("st-u8500"))
        #expect(board.policies.count == 1)
        #expect(board.policies[0].appliedKHz == 800000)
        #expect(board.write(policy: 0, file: "scaling_setspeed", value: "400000") != .accepted, "ondemand takes no setspeed")
        #expect(board.write(policy: 0, file: "scaling_governor", value: "userspace") == .accepted)
        #expect(board.write(policy: 0, file: "scaling_setspeed", value: "400000") == .accepted)
        board.advance(byNs: 19_999)
        #expect(board.policies[0].appliedKHz == 800000)
        board.advance(byNs: 1)
        #expect(board.policies[0].appliedKHz == 400000)
    }

    @Test func theTreeShowsTheOldFrequencyUntilTheLatencyHasPassed() throws {
        let scratch = ScratchDirectory("board-tree")
        var board = BoardSimulation(model: try load("st-u8500"))
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let policy = tree.policyDirectory(cpu: 0)
        #expect(try read(policy + "/scaling_available_frequencies") == "400000 800000")
        #expect(try read(policy + "/scaling_governor") == "ondemand")
        #expect(try read(policy + "/scaling_setspeed") == "<unsupported>")

        try write("userspace", to: policy + "/scaling_governor")
        tree.collectWrites(into: &board)
        try tree.render(board)
        #expect(try read(policy + "/scaling_setspeed") == "800000")
        try write("400000\n", to: policy + "/scaling_setspeed")
        let writes = tree.collectWrites(into: &board)
        #expect(writes.map(\.file) == ["scaling_setspeed"])
        board.advance(byNs: 10_000)
        try tree.render(board)
        #expect(try read(policy + "/scaling_cur_freq") == "800000")
        board.advance(byNs: 10_000)
        try tree.render(board)
        #expect(try read(policy + "/scaling_cur_freq") == "400000")
        #expect(try read(policy + "/cpuinfo_cur_freq") == "400000")
    }

    @Test func aDriverWithoutUserspaceIsPinnedThroughMinEqualsMax() throws {
        let scratch = ScratchDirectory("board-tree")
        var board = BoardSimulation(model: try load("intel-i7-1370p"))
        #expect(board.policies.count == 20)
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let policy = tree.policyDirectory(cpu: 0)
        #expect(!FileManager.default.fileExists(atPath: policy + "/scaling_available_frequencies"))
        #expect(try read(policy + "/scaling_setspeed") == "<unsupported>")
        #expect(board.write(policy: 0, file: "scaling_governor", value: "userspace") != .accepted)
        #expect(board.write(policy: 0, file: "scaling_setspeed", value: "1900000") != .accepted)

        try write("1900000", to: policy + "/scaling_min_freq")
        try write("1900000", to: policy + "/scaling_max_freq")
        tree.collectWrites(into: &board)
        board.advance(byNs: 29_999)
        #expect(board.policies[0].appliedKHz != 1900000)
        board.advance(byNs: 1)
        #expect(board.policies[0].appliedKHz == 1900000)
        #expect(board.policies[1].appliedKHz != 1900000, "CPU 1 has its own policy")
        try tree.render(board)
        #expect(try read(policy + "/scaling_cur_freq") == "1900000")
        #expect(try read(policy + "/scaling_min_freq") == "1900000")
        #expect(try read(policy + "/scaling_max_freq") == "1900000")

        // Requests round to the driver's 100 MHz steps and stay within the hardware range.
        board.write(policy: 0, file: "scaling_max_freq", value: "1950000")
        board.write(policy: 0, file: "scaling_min_freq", value: "1950000")
        board.advance(byNs: 30_000)
        #expect(board.policies[0].appliedKHz == 2000000)
        board.write(policy: 0, file: "scaling_max_freq", value: "9000000")
        #expect(board.policies[0].requestedMaxKHz == 5000000)
    }

    @Test func aTripCapsTheFrequencyAndReleasesItWithHysteresis() throws {
        let model = try load("st-u8500")
        var board = BoardSimulation(model: model, ambientCelsius: 85)
        board.write(policy: 0, file: "scaling_governor", value: "performance")
        let trip = model.thermal.trips[0]
        // Heat up at 85 °C ambient: the passive trip engages and caps the domain at 400 MHz.
        var seconds = 0
        while !board.tripActive[0] && seconds < 600 { board.advance(byNs: 1_000_000_000); seconds += 1 }
        #expect(board.tripActive[0])
        #expect(board.celsius >= trip.celsius)
        board.advance(byNs: model.domains[0].transitionLatencyNs.wholeNanoseconds)
        #expect(board.policies[0].appliedKHz == 400000)
        #expect(board.effectiveMaxKHz(board.policies[0]) == 400000)
        #expect(board.policies[0].requestedMaxKHz == 800000, "the cap does not change what was written")

        // Cool down: the cap holds between the trip and trip − hysteresis, and releases below.
        board.ambientCelsius = 25
        var sawHeldInHysteresis = false
        while board.tripActive[0] && seconds < 2000 {
            board.advance(byNs: 100_000_000)
            seconds += 1
            if board.celsius < trip.celsius && board.celsius >= trip.celsius - trip.hysteresisCelsius {
                #expect(board.tripActive[0])
                #expect(board.policies[0].appliedKHz == 400000)
                sawHeldInHysteresis = true
            }
        }
        #expect(sawHeldInHysteresis)
        #expect(!board.tripActive[0])
        #expect(board.celsius < trip.celsius - trip.hysteresisCelsius)
        board.advance(byNs: model.domains[0].transitionLatencyNs.wholeNanoseconds)
        #expect(board.policies[0].appliedKHz == 800000)
    }

    @Test func theThermalZoneShowsTemperatureAndTrips() throws {
        let scratch = ScratchDirectory("board-tree")
        let board = BoardSimulation(model: try load("st-u8500"), ambientCelsius: 31.5)
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let zones = ThermalZones.read(root: .dump(directory: scratch.path))
        #expect(zones.map(\.type) == ["db8500_thermal"])
        #expect(zones.first?.milliCelsius == 31500)
        #expect(zones.first?.tripPoints?.count == 2)
    }

    @Test func energyIsPowerTimesTimeAtConstantPower() throws {
        var model = try load("intel-i7-1370p")
        model.thermal.trips = []
        var board = BoardSimulation(model: model)
        for index in board.policies.indices { board.write(policy: index, file: "scaling_governor", value: "performance") }
        board.advance(byNs: 1_000_000)
        let watts = board.watts()
        let start = board.energyMicrojoules(zone: 0)
        for _ in 0..<2000 { board.advance(byNs: 1_000_000) }
        let joules = Double(board.energyMicrojoules(zone: 0) - start) / 1e6
        #expect(watts > model.power.staticWatts)
        #expect(abs(joules - watts * 2) <= 0.02 * watts * 2)
        // The core zone excludes the static power.
        let core = board.watts(scope: model.sensors.powercap[1].scope)
        #expect(abs(core - (watts - model.power.staticWatts)) < 1e-9)
    }

    @Test func theHwmonRailReportsTheAveragePowerOverItsUpdateInterval() throws {
        let scratch = ScratchDirectory("board-tree")
        var model = try load("st-u8500")
        model.thermal.trips = []
        var board = BoardSimulation(model: model)
        board.write(policy: 0, file: "scaling_governor", value: "performance")
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        for _ in 0..<100 { board.advance(byNs: 1_000_000) }
        try tree.render(board)
        let watts = board.watts()
        let hwmon = tree.hwmonDirectory + "/hwmon0"
        #expect(try read(hwmon + "/name") == "ina3221")
        #expect(try read(hwmon + "/in1_input") == "3700")
        let milliamps = try #require(Double(try read(hwmon + "/curr1_input")))
        #expect(abs(milliamps - watts / 3.7 * 1000) <= 0.02 * watts / 3.7 * 1000)
        #expect(!FileManager.default.fileExists(atPath: hwmon + "/power1_input"), "the INA3221 has no power attribute")
    }

    @Test func theRAPLCounterWrapsAtItsMaximumRangeAndTheDeltaSurvives() throws {
        let scratch = ScratchDirectory("board-tree")
        var model = try load("intel-i7-1370p")
        model.thermal.trips = []
        var board = BoardSimulation(model: model)
        board.advance(byNs: 1_000_000)
        let range = UInt64(model.sensors.powercap[0].maxEnergyRangeMicrojoules)
        board.setEnergy(zone: 0, joules: Double(range - 1_000_000) / 1e6)
        let tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        let file = tree.powercapDirectory + "/intel-rapl:0/energy_uj"
        let before = try #require(UInt64(try read(file)))
        #expect(try read(tree.powercapDirectory + "/intel-rapl:0/max_energy_range_uj") == String(range))
        let watts = board.watts()
        for _ in 0..<1000 { board.advance(byNs: 1_000_000) }
        try tree.render(board)
        let after = try #require(UInt64(try read(file)))
        #expect(after < before, "the counter wrapped")
        let joules = Double(EnergyCounter.deltaMicrojoules(from: before, to: after, maxRange: range)) / 1e6
        #expect(abs(joules - watts) <= 0.02 * watts)
    }

    @Test func aSeedGivesTheHwmonReadingsRepeatableNoiseAndNoSeedNone() throws {
        var model = try load("st-u8500")
        model.thermal.trips = []
        func readings(seed: UInt64?) -> [Double] {
            var board = BoardSimulation(model: model)
            board.sensorNoise = seed.map { SensorNoise(seed: $0) }
            board.write(policy: 0, file: "scaling_governor", value: "performance")
            var values: [Double] = []
            for _ in 0..<50 {
                board.advance(byNs: 6_600_000)
                values.append(board.hwmonWatts[0][0])
            }
            return values
        }
        let quiet = readings(seed: nil)
        let truth = quiet.last ?? 0
        #expect(quiet.dropFirst().allSatisfy { abs($0 / truth - 1) < 1e-9 }, "without a seed the board is deterministic and noiseless")
        let noisy = readings(seed: 42)
        #expect(noisy == readings(seed: 42), "the same seed, the same noise")
        #expect(noisy != readings(seed: 43))
        let spread = noisy.dropFirst().map { abs($0 / truth - 1) }
        #expect(spread.contains { $0 > 0 } && spread.allSatisfy { $0 < 6 * SensorNoise.defaultRelativeSigma })
    }
}
