// Tests for GearboxProfiler/CellMonitor: a board model's live tree in a scratch folder, stepped
// by a virtual clock that a fake inference advances, read through the hardware layer's sensor
// readers exactly as a sweep reads a real board.

import Foundation
import GearboxCore
import GearboxHardware
import GearboxTestSupport
import Testing

@testable import GearboxProfiler

/// A board stepped in lock-step with a virtual clock: every `run` is one inference of
/// `latencyNs` during which the board advances by as much, and its tree is rendered.
private final class SteppedBoard {
    var board: BoardSimulation
    let tree: BoardTree
    let clock = VirtualLatencyClock()
    let root: SysfsRoot

    init(model: BoardModel, in scratch: ScratchDirectory, ambientCelsius: Double? = nil) throws {
        board = BoardSimulation(model: model, ambientCelsius: ambientCelsius)
        tree = BoardTree(root: scratch.path)
        try tree.renderAll(board)
        root = .dump(directory: scratch.path)
    }

    func write(policy: Int, _ file: String, _ value: String) { board.write(policy: policy, file: file, value: value) }

    func run(ns: UInt64) throws {
        clock.advance(byNs: ns)
        board.advance(byNs: Int64(ns))
        try tree.render(board)
    }
}

private func boardModel(_ name: String) throws -> BoardModel {
    try BoardCatalog(directory: SharedFixtures.packageRoot + "/Devices/boards").load(name)
}

/// Samples `latencyNs` inferences with the monitor around the sampling phase, as a sweep does.
private func monitoredCell(_ stepped: SteppedBoard, monitor: CellMonitor, setKHz: Int, latencyNs: UInt64) throws -> (CellSampling, CellObservation) {
    var observation: CellObservation?
    // Two latencies in turn: the median's CI never closes, so the cell runs its full 0.5 s.
    var slow = false
    let policy = SamplingPolicy(warmupBatchTargetNs: 5_000_000, warmupMaxBatches: 3, warmupMaxNs: 20_000_000,
                                targetRelativeCI: 0.0001, minSamples: 20, maxSamples: 100_000, maxNs: 500_000_000)
    let sampling = try Sampler(clock: stepped.clock, policy: policy).measure(
        {
            slow.toggle()
            try stepped.run(ns: slow ? latencyNs + latencyNs / 10 : latencyNs)
        },
        beforeSampling: { monitor.start(setKHz: setKHz) },
        afterSampling: { observation = monitor.stop() },
        betweenSamples: { monitor.poll() })
    return (sampling, try #require(observation))
}

@Suite struct CellMonitorTests {
    @Test func atConstantPowerEnergyPerInferenceIsPowerTimesMeanLatency() throws {
        let scratch = ScratchDirectory("cell-monitor")
        var model = try boardModel("st-u8500")
        model.thermal.trips = []
        let stepped = try SteppedBoard(model: model, in: scratch)
        stepped.write(policy: 0, "scaling_governor", "performance")
        // Past the chip's first update interval, so that it reports the board's power.
        try stepped.run(ns: 20_000_000)
        let watts = stepped.board.watts()
        let source = try #require(EnergySource.find(root: stepped.root))
        #expect(source.sensor.name == "ina3221/curr1")
        #expect(source.updateIntervalNs == 6_000_000, "the tree's update_interval (ms)")
        #expect(source.intervalFromSensor)
        let monitor = CellMonitor(energy: source, thermal: ZoneThermalSensor(root: stepped.root), clock: stepped.clock)
        let (sampling, observation) = try monitoredCell(stepped, monitor: monitor, setKHz: 800_000, latencyNs: 2_300_000)
        let joules = try #require(observation.energyJ)
        let meanNs = Double(sampling.samplesNs.reduce(0, +)) / Double(sampling.samplesNs.count)
        let perInference = joules / Double(sampling.sampledInferences)
        #expect(abs(perInference - watts * meanNs / 1e9) <= 0.02 * watts * meanNs / 1e9,
                "\(perInference) J vs \(watts) W × \(meanNs) ns")
        let power = try #require(observation.powerW)
        #expect(abs(power - watts) <= 0.02 * watts)
        // What the sweep stores: mean power × mean latency.
        #expect(abs(power * meanNs / 1e9 - watts * meanNs / 1e9) <= 0.02 * watts * meanNs / 1e9)
        #expect(observation.readings > 10)
        #expect(source.summary.contains("updates every 6 ms (update_interval)"))
    }

    @Test func aRAPLCounterWrappingInTheMiddleOfACellIsCountedOnce() throws {
        let scratch = ScratchDirectory("cell-monitor")
        var model = try boardModel("intel-i7-1370p")
        model.thermal.trips = []
        let stepped = try SteppedBoard(model: model, in: scratch)
        for index in stepped.board.policies.indices { stepped.write(policy: index, "scaling_governor", "performance") }
        try stepped.run(ns: 1_000_000)
        let watts = stepped.board.watts()
        // 0.25 s of this board's power before the wrap: the 0.5 s cell crosses it.
        let range = Double(model.sensors.powercap[0].maxEnergyRangeMicrojoules)
        stepped.board.setEnergy(zone: 0, joules: range / 1e6 - watts * 0.25)
        try stepped.run(ns: 1_000_000)
        let source = try #require(EnergySource.find(root: stepped.root))
        #expect(source.sensor.name == "intel-rapl:0")
        #expect(!source.intervalFromSensor, "powercap has no update_interval; 1 ms is assumed and said")
        #expect(source.summary.contains("wraps at max_energy_range_uj"))
        let before = try #require(PowerSensors.reading(of: source.sensor))
        let monitor = CellMonitor(energy: source, thermal: FixedThermalSensor(), clock: stepped.clock)
        let (_, observation) = try monitoredCell(stepped, monitor: monitor, setKHz: 1_900_000, latencyNs: 1_700_000)
        let after = try #require(PowerSensors.reading(of: source.sensor))
        guard case let .microjoules(first) = before, case let .microjoules(last) = after else {
            Issue.record("not an energy counter"); return
        }
        #expect(last < first, "the counter wrapped during the cell")
        let joules = try #require(observation.energyJ)
        let expected = watts * observation.durationNs.seconds
        #expect(abs(joules - expected) <= 0.02 * expected, "\(joules) J vs \(expected) J")
    }

    @Test func aDeliveredFrequencyBelowTheSetOneMarksTheCellThrottled() throws {
        let clock = VirtualLatencyClock()
        var delivered = 800_000
        let monitor = CellMonitor(energy: nil, thermal: FixedThermalSensor(), delivered: { delivered }, clock: clock)
        monitor.start(setKHz: 800_000)
        clock.pass(ns: 10_000_000)
        monitor.poll()
        #expect(monitor.stop().throttleReason == nil)
        monitor.start(setKHz: 800_000)
        delivered = 400_000
        clock.pass(ns: 10_000_000)
        monitor.poll()
        delivered = 800_000
        let observation = monitor.stop()
        #expect(observation.lowestDeliveredKHz == 400_000)
        #expect(observation.throttleReason?.contains("delivered 400000 kHz of the 800000 kHz set") == true)
        #expect(observation.energyJ == nil, "no sensor, no energy")
    }

    @Test func aTripCrossedDuringTheCellMarksItThrottledButOneAlreadyAboveDoesNot() throws {
        let clock = VirtualLatencyClock()
        let thermal = FixedThermalSensor(readings: ["zone0": 84_000], trips: [85_000])
        let monitor = CellMonitor(energy: nil, thermal: thermal, clock: clock)
        monitor.start(setKHz: 400_000)
        thermal.readings["zone0"] = 86_000
        clock.pass(ns: 10_000_000)
        monitor.poll()
        let crossed = monitor.stop()
        #expect(crossed.tripsCrossedMilliCelsius == [85_000])
        #expect(crossed.startCelsius == 84 && crossed.endCelsius == 86)
        #expect(crossed.throttled)
        monitor.start(setKHz: 400_000)
        clock.pass(ns: 10_000_000)
        monitor.poll()
        #expect(!monitor.stop().throttled, "started above the trip: nothing crossed, the frequency held")
    }

    @Test func energyCountersArePreferredToPowerReadings() {
        let rail = DeviceDescription.PowerSensor(name: "ina3221/curr1", kind: "hwmon", path: "/x/curr1_input", unit: "mA", scope: "vdd")
        let core = DeviceDescription.PowerSensor(name: "intel-rapl:0:0", kind: "powercap", path: "/x/energy_uj", unit: "uJ", scope: "core")
        let package = DeviceDescription.PowerSensor(name: "intel-rapl:0", kind: "powercap", path: "/y/energy_uj", unit: "uJ", scope: "package-0")
        #expect(EnergySource.choose(from: [rail, core, package])?.sensor == package)
        #expect(EnergySource.choose(from: [rail, core])?.sensor == core)
        #expect(EnergySource.choose(from: [rail])?.sensor == rail)
        #expect(EnergySource.choose(from: []) == nil)
    }
}
