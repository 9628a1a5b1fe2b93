// GearboxProfiler/HostContention: how much of a sweep ran while something outside the measured
// thread slowed the inferences themselves. Under emulated DVFS every window records the upper
// quartile of its inferences that held no throttle gap (`CellSampling.windowQuartilesNs`), and
// throttling stops a thread but never slows an inference: at any step, a variant's windows
// should show the quartile of its fastest ones. Windows more than `tolerance` above that
// reference ran slowed, on this VM by other tenants of the host (sparse kernels 1.3–1.6× in
// bursts of 0.3 s to minutes); at the lowest steps the cache refill after each throttle gap
// adds to it. The figure changes no measurement: it says, per sweep, how quiet the machine was,
// and so how far a rerun can be expected to agree.

import GearboxCore
import GearboxPortfolio

/// The share of a sweep's windows that ran slowed, overall and per weight format.
public struct HostContention: Codable, Equatable, Sendable {
    /// One sample window's gap-free upper-quartile inference time.
    public struct Window: Equatable, Sendable {
        public var cell: String
        public var variant: String
        public var quartileNs: Nanoseconds
        public init(cell: String, variant: String, quartileNs: Nanoseconds) {
            self.cell = cell; self.variant = variant; self.quartileNs = quartileNs
        }
    }

    /// Windows and cells of one group (all, or one weight format).
    public struct Share: Codable, Equatable, Sendable {
        public var name: String
        public var windows: Int
        /// Windows whose quartile was more than `tolerance` above their variant's reference.
        public var slowWindows: Int
        public var cells: Int
        /// Cells with more than half their windows slowed: no rule inside such a cell can tell
        /// the slowed inferences from the cell's own.
        public var mostlySlowCells: Int

        public var fraction: Double { windows > 0 ? Double(slowWindows) / Double(windows) : 0 }
    }

    public var tolerance: Double
    public var total: Share
    public var byFormat: [Share]

    /// - Parameters:
    ///   - windows: every window of the sweep that recorded a quartile.
    ///   - formatOf: a variant's weight format (for the breakdown).
    ///   - tolerance: how far above the reference a window counts as slowed.
    public init(windows: [Window], formatOf: (String) -> String, tolerance: Double = 0.20) {
        self.tolerance = tolerance
        // Reference: the variant's lowest tenth, so that one unusually fast window does not set it.
        var quartiles: [String: [Nanoseconds]] = [:]
        for window in windows { quartiles[window.variant, default: []].append(window.quartileNs) }
        let reference = quartiles.mapValues { values -> Nanoseconds in
            let sorted = values.sorted()
            return sorted[sorted.count / 10]
        }
        struct Tally { var windows = 0, slow = 0 }
        var cells: [String: (variant: String, tally: Tally)] = [:]
        for window in windows {
            let slow = window.quartileNs > (reference[window.variant] ?? .zero) * (1 + tolerance)
            var entry = cells[window.cell] ?? (window.variant, Tally())
            entry.tally.windows += 1
            if slow { entry.tally.slow += 1 }
            cells[window.cell] = entry
        }
        func share(_ name: String, _ members: [(variant: String, tally: Tally)]) -> Share {
            Share(name: name, windows: members.map(\.tally.windows).reduce(0, +), slowWindows: members.map(\.tally.slow).reduce(0, +),
                  cells: members.count, mostlySlowCells: members.filter { $0.tally.slow * 2 > $0.tally.windows }.count)
        }
        let all = Array(cells.values)
        total = share("all", all)
        let formats = PortfolioManifest.Format.sortedNames(all.map { formatOf($0.variant) })
        byFormat = formats.map { format in share(format, all.filter { formatOf($0.variant) == format }) }
    }

    /// The contention of the sweep recorded in `store`; nil when no window recorded a quartile
    /// (sweeps that are not emulated sample single inferences).
    public static func read(from store: SampleStore, formatOf: (String) -> String, tolerance: Double = 0.20) throws -> HostContention? {
        let windows = try store.windowQuartiles()
        return windows.isEmpty ? nil : HostContention(windows: windows, formatOf: formatOf, tolerance: tolerance)
    }

    /// One line: "21% of 1213 windows ran more than 20% slower than their variant's fastest
    /// tenth; 30 of 119 cells mostly".
    public var summary: String {
        let percent = Int((total.fraction * 100).rounded())
        return "\(percent)% of \(total.windows) windows ran more than \(Int((tolerance * 100).rounded()))% slower than their variant's fastest tenth; \(total.mostlySlowCells) of \(total.cells) cells mostly"
    }
}
