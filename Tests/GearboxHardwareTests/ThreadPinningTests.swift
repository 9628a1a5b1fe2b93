// Tests for GearboxHardware/ThreadPinning: binding a dedicated OS thread and reading back
// where it runs. Each test binds a fresh Thread, never a Swift-concurrency worker.

import Foundation
import GearboxTestSupport
import GearboxHardware
import Testing

/// Runs `body` on a new OS thread and returns its result (so bindings never leak into the
/// test runner's shared threads).
private func onFreshThread<T>(_ body: @escaping () throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var outcome: Result<T, Error>?
    let thread = Thread {
        outcome = Result { try body() }
        done.signal()
    }
    thread.start()
    done.wait()
    guard let outcome else { throw HardwareError.bindingFailed(cpus: "?", reason: "test thread produced nothing") }
    return try outcome.get()
}

@Suite struct ThreadPinningTests {
    @Test func pinsToEachOfTheFirstTwoPUsAndReadsTheLocationBack() throws {
        let topology = try Topology.load()
        for cpu in topology.pus.prefix(2) {
            let binding = try onFreshThread { try ThreadPinning.bindCurrentThread(toPU: cpu, in: topology) }
            #expect(binding.cpus == [cpu])
            #expect(binding.lastCPU == cpu)
            // Still there after some work.
            let later = try onFreshThread { () -> CPUSet in
                try ThreadPinning.bindCurrentThread(toPU: cpu, in: topology)
                var sum = 0
                for value in 0..<200_000 { sum &+= value }
                precondition(sum != 1)
                return try ThreadPinning.lastCPULocation(in: topology)
            }
            #expect(later == [cpu])
        }
    }

    @Test func pinsToACoreAndToACPUKind() throws {
        let topology = try Topology.load()
        let core = try onFreshThread { try ThreadPinning.bindCurrentThread(toCore: 0, in: topology) }
        #expect(core.cpus == topology.cores[0].cpus)
        #expect(topology.cores[0].cpus.contains(cpu: core.lastCPU))
        if !topology.kinds.isEmpty {
            let kind = try onFreshThread { try ThreadPinning.bindCurrentThread(toCPUKind: 0, in: topology) }
            #expect(kind.cpus == topology.kinds[0].cpus)
        }
    }

    @Test func unbindingRestoresEveryPU() throws {
        let topology = try Topology.load()
        let binding = try onFreshThread { () -> ThreadBinding in
            try ThreadPinning.bindCurrentThread(toPU: topology.pus[0], in: topology)
            return try ThreadPinning.unbindCurrentThread(in: topology)
        }
        #expect(binding.cpus == topology.pus)
    }

    @Test func anEmptySetIsATypedError() {
        #expect(throws: HardwareError.emptyCPUSet(context: "bindCurrentThread(to:)")) {
            try onFreshThread { try ThreadPinning.bindCurrentThread(to: .empty) }
        }
    }

    @Test func aCPUOutsideTheTopologyIsATypedError() throws {
        let topology = try Topology.load()
        #expect(throws: HardwareError.notInTopology(requested: "CPU set 4095", available: topology.pus.listString)) {
            try onFreshThread { try ThreadPinning.bindCurrentThread(toPU: 4095, in: topology) }
        }
        do {
            _ = try onFreshThread { try ThreadPinning.bindCurrentThread(toCore: 10_000, in: topology) }
            Issue.record("bound to a core that does not exist")
        } catch let error as HardwareError {
            #expect(error.description.contains("core 10000"))
        }
    }

    @Test(.requiresSysfsDumps) func aDumpTopologyCannotBind() throws {
        let root = try SysfsFixtures.root(SysfsFixtures.armBoard)
        let topology = try Topology.load(root: root)
        do {
            _ = try onFreshThread { try ThreadPinning.bindCurrentThread(toPU: 0, in: topology) }
            Issue.record("bound a thread through a dump topology")
        } catch let error as HardwareError {
            guard case .bindingUnsupported = error else { Issue.record("wrong error \(error)"); return }
            #expect(error.description.contains(root.directory ?? "?"))
        }
    }
}
