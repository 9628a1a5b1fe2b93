// GearboxPolicy/EnergyEstimate: the power a variant draws at a frequency, for a validation's
// energy figures: from the lookup table's measured cells (energy per inference over the cell's
// mean latency), or simulated from a board model's power model (static + C·V(f)²·f·u). Each
// timeline row's energy is that power times the row's latency, so slow-downs and switches cost
// energy too.

import GearboxCore
import GearboxHardware
import GearboxRuntime

/// Where a validation's energy figures come from, and the power they imply.
public struct EnergyEstimate: Sendable {
    enum Basis: Sendable {
        case table(EnergyPredictor)
        case board(BoardModel, domain: Int)
    }

    let basis: Basis
    let latency: LatencyPredictor
    /// The label of the figures: the table cells' (`real`, `emulated`), or `simulated`.
    public let source: MeasurementSource
    /// One line saying where the figures come from, for the summary's notes.
    public let note: String

    /// From the table's `energyPerInferenceJ` cells; nil when the table has none.
    public init?(table: LookupTable) {
        let energy = EnergyPredictor(table: table)
        guard energy.hasEnergy, let label = energy.sources.first else { return nil }
        basis = .table(energy)
        latency = LatencyPredictor(table: table)
        source = label
        note = "energy: \(label), the table's energyPerInferenceJ per cell (linear in frequency between cells), as power over the cell's mean latency times each row's latency"
    }

    /// Simulated from `board`'s power model for DVFS domain `domain` (clamped to the board's).
    public init(board: BoardModel, domain: Int, table: LookupTable) {
        let index = min(max(0, domain), board.domains.count - 1)
        basis = .board(board, domain: index)
        latency = LatencyPredictor(table: table)
        source = .simulated
        let d = board.domains[index]
        note = "energy: simulated from board model \(board.name) (a model, not a measurement): static \(board.power.staticWatts) W + C·V(f)²·f·u of domain \(d.name) at utilisation \(d.utilisation), times each row's latency"
    }

    /// The power while table variant `variant` runs at `kHz`, in W; nil when unknown.
    public func watts(variant: Int, kHz: Int) -> Double? {
        switch basis {
        case let .table(energy):
            guard let joules = energy.joules(variant: variant, kHz: kHz),
                  let meanNs = latency.predict(variant: variant, kHz: kHz)?.distribution.meanNs, meanNs > .zero else { return nil }
            return joules / meanNs.seconds
        case let .board(model, domain):
            return model.power.staticWatts
                + model.dynamicWatts(domain: domain, kHz: kHz, utilisation: model.domains[domain].utilisation)
        }
    }

    /// Energy per inference of table variant `variant` at `kHz` at its predicted mean latency, in J.
    public func joules(variant: Int, kHz: Int) -> Double? {
        switch basis {
        case let .table(energy): return energy.joules(variant: variant, kHz: kHz)
        case .board:
            guard let w = watts(variant: variant, kHz: kHz),
                  let meanNs = latency.predict(variant: variant, kHz: kHz)?.distribution.meanNs else { return nil }
            return w * meanNs.seconds
        }
    }

    /// `run` with each row's `energyJ` filled in: power at the row's frequency times its latency
    /// (including the switch before it) times its inferences. `tableIndex` maps variant names to
    /// table indices.
    func annotate(_ run: PolicyRun, tableIndex: [String: Int]) -> PolicyRun {
        var result = run
        for i in result.rows.indices {
            let row = result.rows[i]
            guard let v = tableIndex[row.variant], let w = watts(variant: v, kHz: row.kHz), row.latencyNs.isFinite else { continue }
            result.rows[i].energyJ = w * row.latencyNs / 1e9 * Double(row.inferences)
        }
        return result
    }
}

extension PolicyRun {
    /// Mean energy per inference over the rows that have an energy figure, in J.
    var energyPerInferenceJ: Double? {
        var joules = 0.0, inferences = 0
        for row in rows { if let e = row.energyJ { joules += e; inferences += row.inferences } }
        return inferences > 0 ? joules / Double(inferences) : nil
    }
}
