// GearboxStore/StoreListingText: `gearbox store list` as text — one section per table.

public enum StoreListingText {
    public static func render(_ listing: StoreListing) -> String {
        var lines = ["store \(listing.store) (\(listing.backend), schema version \(listing.schemaVersion))"]
        lines.append("devices (\(listing.devices.count))")
        for device in listing.devices {
            let extra = [device.board.map { "board \($0)" }, device.cpuModel, device.kernel.map { "kernel \($0)" },
                         device.firmware.map { "firmware \($0)" }].compactMap { $0 }
            lines.append("  \(device.id): \(device.kind)" + (extra.isEmpty ? "" : ", " + extra.joined(separator: ", ")))
        }
        lines.append("portfolios (\(listing.portfolios.count))")
        for portfolio in listing.portfolios {
            lines.append("  \(portfolio.name): " + (portfolio.contentHash.map { "sha256 \($0.prefix(12))" } ?? "content hash not pushed"))
        }
        lines.append("runs (\(listing.runs.count))")
        for run in listing.runs {
            let energy = run.energyCells > 0 ? ", \(run.energyCells) with energy" : ""
            lines.append("  \(run.id.prefix(12)) \(run.device) \(run.portfolio): \(run.cells) cells\(energy), \(run.controller), "
                + "\(run.date), gearbox \(run.gearboxVersion) \(run.gitCommit.prefix(10))")
        }
        lines.append("validations (\(listing.validations.count))")
        for validation in listing.validations {
            lines.append("  \(validation.id.prefix(12)) \(validation.device) \(validation.objective) on \(validation.trace), "
                + "\(validation.controller), \(validation.date)")
        }
        lines.append("failures (\(listing.failures.count))")
        for failure in listing.failures {
            lines.append("  \(failure.date) \(failure.board) at \(failure.step): \(failure.reason)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
