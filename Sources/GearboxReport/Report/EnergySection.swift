// GearboxReport/Report/EnergySection: the energy and temperature sections, present only when the
// inputs have the figures: energy per inference against frequency per variant (the table's
// cells) and per policy (the validation's summary), and the die temperature over the validation's
// trace (timeline.csv's temperature_c) or, without one, at the table's cells.

import GearboxCore
import GearboxPolicy
import GearboxProfiler

extension ReportBuilder {
    /// The table's variants with energy cells: (name, [(kHz, J)]).
    var energyCells: [(name: String, cells: [(kHz: Int, joules: Double)])] {
        lut.variants.compactMap { variant in
            let cells = variant.cellsByFrequency.compactMap { entry in entry.cell.energyPerInferenceJ.map { (kHz: entry.kHz, joules: $0) } }
            return cells.isEmpty ? nil : (variant.name, cells)
        }
    }

    func energySection() -> ReportSection? {
        let variants = energyCells
        let policies = inputs.validation.map { validation in
            Self.orderedPolicies(Array(validation.summary.policies.keys)).compactMap { name in
                validation.summary.policies[name]?.energyPerInferenceJ.map { (name: name, joules: $0) }
            }
        } ?? []
        guard !variants.isEmpty || !policies.isEmpty else { return nil }
        var blocks: [ReportBlock] = []
        if !variants.isEmpty {
            let sources = Set(lut.variants.flatMap { $0.latency.values.filter { $0.energyPerInferenceJ != nil }.map(\.source) })
            let source = MeasurementSource.allCases.filter { sources.contains($0) }.map { Self.sourceLabel($0) }.joined(separator: "; ")
            var marks: [Mark] = [], legend: [LegendEntry] = []
            for (name, cells) in variants {
                let color = color(ofVariant: name)
                let points = cells.map { Point(x: Self.mhz($0.kHz), y: $0.joules * 1e3) }
                marks.append(.line(points: points, color: color, width: 2.2))
                marks.append(.points(points: points, color: color, tooltips: cells.map {
                    "\(name) at \(Formatting.frequency(kHz: $0.kHz)): \(Formatting.significant($0.joules * 1e3)) mJ per inference"
                }))
                legend.append(LegendEntry(name, color: color, symbol: .line(.solid)))
            }
            let chart = XYChart(
                id: "energy-vs-frequency", title: "Energy per inference against frequency, per variant",
                x: Axis("Frequency (MHz)"), y: Axis("Energy per inference (mJ)", includesZero: true),
                marks: marks, legend: legend, width: 1000, height: 380)
            blocks.append(.figure(ReportFigure(
                id: "energy-vs-frequency", title: chart.title, chart: chart, source: source, provenance: provenanceLabel,
                caption: "Each cell's energy per inference from the board's energy or power sensor over the cell (see the table's method.energySensor); "
                    + "where static power dominates, a lower frequency can cost more energy per inference.")))
            let frequencies = Array(Set(variants.flatMap { $0.cells.map(\.kHz) })).sorted()
            blocks.append(.table(ReportTable(
                caption: "Energy per inference in mJ per frequency",
                header: ["Variant"] + frequencies.map { Formatting.frequency(kHz: $0) },
                rows: variants.map { name, cells in
                    [variantCell(name)] + frequencies.map { kHz in
                        cells.first { $0.kHz == kHz }.map { TableCell(Formatting.significant($0.joules * 1e3)) } ?? TableCell("–", emphasis: .muted)
                    }
                },
                numericColumns: Set(1...max(1, frequencies.count)))))
        }
        if let validation = inputs.validation, !policies.isEmpty {
            let label = validation.summary.energySource.map { Self.sourceLabel($0) } ?? "unlabelled"
            let chart = BarChart(
                id: "policy-energy", title: "Energy per inference per policy", categories: policies.map(\.name),
                series: [BarSeries(name: "energy per inference (mJ)", color: Palette.series(0), values: policies.map { $0.joules * 1e3 })],
                format: .number, axisTitle: "mJ per inference (\(label))", width: 1000)
            blocks.append(.figure(ReportFigure(
                id: "policy-energy", title: chart.title, chart: chart, source: "energy: " + label,
                provenance: ProvenanceLine.text(validation.summary.provenance),
                caption: validation.summary.notes.first { $0.hasPrefix("energy:") })))
        }
        return ReportSection(id: "energy", title: "Energy", blocks: blocks)
    }

    func temperatureSection() -> ReportSection? {
        let rows = inputs.validation?.timeline.map { timeline in
            timeline.policies.first.map { timeline.rows(of: $0).filter { $0.temperatureC != nil } } ?? []
        } ?? []
        let cells = lut.variants.flatMap { variant in
            variant.cellsByFrequency.compactMap { entry in entry.cell.temperatureEndC.map { (variant.name, entry.kHz, $0, entry.cell.throttled == true) } }
        }
        guard !rows.isEmpty || !cells.isEmpty else { return nil }
        var blocks: [ReportBlock] = []
        if let validation = inputs.validation, !rows.isEmpty {
            // Every policy replays the same trace, so one policy's rows carry the trace's temperature.
            let stride = max(1, rows.count / timelineBuckets)
            let sampled = Swift.stride(from: 0, to: rows.count, by: stride).map { rows[$0] }
            let points = sampled.compactMap { row in row.temperatureC.map { Point(x: row.timeMs / 1000, y: $0) } }
            let chart = XYChart(
                id: "temperature-over-trace", title: "Die temperature over the validation's trace",
                x: Axis("Time (s)"), y: Axis("Temperature (°C)"),
                marks: [.line(points: points, color: Palette.frequency, width: 2)], width: 1000, height: 300)
            blocks.append(.figure(ReportFigure(
                id: "temperature-over-trace", title: chart.title, chart: chart,
                source: validation.summary.notes.first { $0.hasPrefix("temperature_c") } ?? "the trace's temp_c",
                provenance: ProvenanceLine.text(validation.summary.provenance),
                caption: "The hottest thermal zone as the trace recorded it (a board twin's RC model when the trace is simulated).")))
        }
        if !cells.isEmpty {
            blocks.append(.table(ReportTable(
                caption: "Die temperature at the end of each profiled cell (°C; throttled cells marked)",
                header: ["Variant", "Frequency", "End °C", "Throttled"],
                rows: cells.map { name, kHz, celsius, throttled in
                    [variantCell(name), TableCell(Formatting.frequency(kHz: kHz)), TableCell(Formatting.fixed(celsius, decimals: 1)),
                     TableCell(throttled ? "yes" : "no", emphasis: throttled ? .bad : .none)]
                },
                numericColumns: [2])))
        }
        return ReportSection(id: "temperature", title: "Temperature", blocks: blocks)
    }
}
