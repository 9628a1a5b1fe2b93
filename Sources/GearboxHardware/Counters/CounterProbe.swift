// GearboxHardware/CounterProbe: tries each counter on the calling thread over a short busy
// loop and records whether it counts, for the `counters` list of Devices/<id>.json.

import Foundation

/// Which performance counters work on this machine.
public enum CounterProbe {
    /// Opens, runs and reads each event in `names` on the calling thread, one at a time.
    ///
    /// An event is `supported` when it counted; otherwise `unsupported`, with the reason
    /// (libpfm's, the kernel's errno, or that it never got onto the PMU). A hardware event
    /// that counts zero over real work is reported as such in the reason, not hidden.
    public static func probe(
        names: [String] = PerformanceCounters.standardEventNames, scope: CountingScope = .user
    ) -> [DeviceDescription.Counter] {
        names.map { name in
            let group = CounterGroup(events: [name], scope: scope)
            defer { group.close() }
            let reading: CounterReading
            do {
                try group.start()
                spin()
                try group.stop()
                guard let first = try group.read().first else {
                    return DeviceDescription.Counter(name: name, status: "unsupported", reason: "no reading")
                }
                reading = first
            } catch {
                return DeviceDescription.Counter(name: name, status: "unsupported", reason: "\(error)")
            }
            switch reading.outcome {
            case let .counted(value):
                let encoding = group.encodings.first.flatMap { $0 }.map { " as \($0.qualifiedName)" } ?? ""
                return DeviceDescription.Counter(
                    name: name, status: "supported",
                    reason: "counted \(UInt64(value.scaledCount.rounded())) over a short busy loop\(encoding)")
            case let .notCounted(reason), let .unsupported(reason):
                return DeviceDescription.Counter(name: name, status: "unsupported", reason: reason)
            }
        }
    }

    /// About a millisecond of work over 16 freshly mapped pages, so the software events
    /// (task clock, page faults) have something to count.
    private static func spin() {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE))), pages = 16
        let mapped = mmap(nil, pages * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        var accumulator: UInt64 = 1
        for index in 0..<200_000 { accumulator = accumulator &* 6364136223846793005 &+ UInt64(index) }
        if let mapped, mapped != MAP_FAILED {
            for page in 0..<pages {
                mapped.storeBytes(of: UInt8(truncatingIfNeeded: accumulator), toByteOffset: page * pageSize, as: UInt8.self)
            }
            munmap(mapped, pages * pageSize)
        }
        Blackhole.consume(accumulator)
    }
}

/// Keeps a value alive so the optimiser cannot delete the work that produced it.
enum Blackhole {
    @inline(never) static func consume<T>(_ value: T) { withExtendedLifetime(value) {} }
}
