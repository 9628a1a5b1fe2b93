// GearboxRuntime/LookupTableValidation: the rules a decoded lookup table must keep, checked on
// every read (JSONFile calls `validate`), so that no command meets a negative frequency, a p99
// below its p50 or a latency too large to convert to an integer. Uses GearboxCore only.

import GearboxCore

extension LookupTable: ValidatedFile {
    /// How far (relatively) a higher percentile may sit below a lower one: twice the 0.1%
    /// quantisation of the 3-significant-digit histograms the percentiles come from.
    public static let percentileTolerance = 0.002

    /// Frequencies positive and unique, variant names non-empty and unique, latencies positive
    /// and at most ``FileLimits/maximumLatencyNs`` with p50 ≤ p90 ≤ p99 ≤ p99.9 ≤ max, counts
    /// and byte sizes non-negative and within ``FileLimits``.
    public func validate(_ file: FileValidator) throws {
        // Both name files: Devices/<device>.json, Reports/<device>-<portfolio>.
        try file.at("device").checkSafeName(device)
        try file.at("portfolio").checkSafeName(portfolio)
        let frequencies = file.at("frequenciesKHz")
        try frequencies.require(!frequenciesKHz.isEmpty, value: "empty", allowed: "allowed: at least one frequency in kHz")
        var seenKHz = Set<Int>()
        for (index, kHz) in frequenciesKHz.enumerated() {
            try frequencies.at(index).checkKHz(kHz)
            try frequencies.at(index).require(seenKHz.insert(kHz).inserted, value: String(kHz), allowed: "each frequency once")
        }
        if let threads { try file.at("threads").check(threads, in: 1...FileLimits.maximumThreads) }
        if let residentPortfolioBytes { try file.at("residentPortfolioBytes").checkBytes(residentPortfolioBytes) }
        let variantsKey = file.at("variants")
        try variantsKey.require(!variants.isEmpty, value: "empty", allowed: "allowed: at least one variant")
        try variantsKey.checkUniqueNames(variants.map(\.name), key: "name")
        for (index, variant) in variants.enumerated() {
            try variant.validate(variantsKey.at(index))
        }
        let names = Set(variants.map(\.name))
        let switchCosts = file.at("switchCostNs")
        for (from, row) in switchCostNs.sorted(by: { $0.key < $1.key }) {
            try switchCosts.at(entry: from).require(names.contains(from), value: "'\(from)'", allowed: "allowed: a variant name of this table")
            for (to, cost) in row.sorted(by: { $0.key < $1.key }) {
                let key = switchCosts.at(entry: from).at(entry: to)
                try key.require(names.contains(to), value: "'\(to)'", allowed: "allowed: a variant name of this table")
                try cost.validate(key)
            }
        }
        if let portfolioMemory { try portfolioMemory.validate(file.at("portfolioMemory")) }
        if let method { try method.validate(file.at("method")) }
    }
}

extension LookupTable.Variant {
    func validate(_ file: FileValidator) throws {
        if let accuracy { try file.at("accuracy").check(accuracy, in: 0...1, "allowed: a fraction in 0...1") }
        try file.at("params").checkCount(params)
        try file.at("macs").checkCount(macs)
        try file.at("memoryBytes").checkBytes(memoryBytes)
        if let memory {
            try memory.validate(file.at("memory"))
        }
        let cells = file.at("latency")
        for (key, cell) in latency.sorted(by: { $0.key < $1.key }) {
            let cellKey = cells.at(entry: key)
            guard let kHz = Int(key) else {
                throw cellKey.invalid("'\(key)'", allowed: "allowed: a frequency in kHz as a decimal integer key")
            }
            try cellKey.checkKHz(kHz)
            try cell.validate(cellKey)
        }
        for (key, cell) in counters.sorted(by: { $0.key < $1.key }) {
            let cellKey = file.at("counters").at(entry: key)
            guard let kHz = Int(key) else {
                throw cellKey.invalid("'\(key)'", allowed: "allowed: a frequency in kHz as a decimal integer key")
            }
            try cellKey.checkKHz(kHz)
            for (name, value) in cell.values { try cellKey.at("values").at(entry: name).check(value, in: -.greatestFiniteMagnitude...(.greatestFiniteMagnitude)) }
            for (name, value) in cell.derived { try cellKey.at("derived").at(entry: name).check(value, in: -.greatestFiniteMagnitude...(.greatestFiniteMagnitude)) }
        }
        if let model {
            let key = file.at("model")
            let any = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
            try key.at("aNs").check(model.aNs, in: any)
            try key.at("bNsKHz").check(model.bNsKHz, in: any)
            try key.at("r2").check(model.r2, in: any)
            try key.at("looMape").check(model.looMape, in: 0...Double.greatestFiniteMagnitude)
        }
    }
}

extension LookupTable.LatencyCell {
    func validate(_ file: FileValidator) throws {
        try file.at("p50Ns").checkLatencyNs(p50Ns)
        try file.at("p90Ns").checkLatencyNs(p90Ns)
        try file.at("p99Ns").checkLatencyNs(p99Ns)
        if let p999Ns { try file.at("p999Ns").checkLatencyNs(p999Ns) }
        if let maxNs { try file.at("maxNs").checkLatencyNs(maxNs) }
        // Percentiles come from an HdrHistogram with 3 significant digits (bucket tops, up to 0.1%
        // high) while maxNs is exact, so p99.9 may sit just above the maximum.
        try file.checkNonDecreasing(
            [("p50Ns", p50Ns.value), ("p90Ns", p90Ns.value), ("p99Ns", p99Ns.value), ("p999Ns", p999Ns?.value), ("maxNs", maxNs?.value)],
            relativeTolerance: LookupTable.percentileTolerance)
        try file.at("meanNs").checkLatencyNs(meanNs)
        try file.at("stddevNs").check(stddevNs, in: 0...FileLimits.maximumLatencyNs)
        try file.at("ciHalfWidthNs").check(ciHalfWidthNs, in: 0...FileLimits.maximumLatencyNs)
        try file.at("samples").checkCount(samples)
        if let cv { try file.at("cv").check(cv, in: 0...Double.greatestFiniteMagnitude) }
        if let speedRatio { try file.at("speedRatio").checkPositive(speedRatio, atMost: 1000) }
        if let inferencesPerSample { try file.at("inferencesPerSample").check(inferencesPerSample, in: 1...FileLimits.maximumCount) }
        if let interferedWindows { try file.at("interferedWindows").checkCount(interferedWindows) }
    }
}

extension LookupTable.Memory {
    func validate(_ file: FileValidator) throws {
        try file.at("engineBytes").checkBytes(engineBytes)
        // RSS deltas may be negative (the allocator returned memory); only their size is bounded.
        let signed = -FileLimits.maximumBytes...FileLimits.maximumBytes
        if let rssDeltaBytes { try file.at("rssDeltaBytes").check(rssDeltaBytes, in: signed) }
        if let peakRSSDeltaBytes { try file.at("peakRSSDeltaBytes").check(peakRSSDeltaBytes, in: signed) }
    }
}

extension LookupTable.SwitchCost {
    func validate(_ file: FileValidator) throws {
        let allowed = "allowed: a time in ns, 0...\(FileValidator.text(FileLimits.maximumLatencyNs))"
        if let cold { try file.at("cold").check(cold, in: 0...FileLimits.maximumLatencyNs, allowed) }
        if let warm { try file.at("warm").check(warm, in: 0...FileLimits.maximumLatencyNs, allowed) }
        if let maskSwitch { try file.at("maskSwitch").check(maskSwitch, in: 0...FileLimits.maximumLatencyNs, allowed) }
    }
}

extension LookupTable.PortfolioMemory {
    func validate(_ file: FileValidator) throws {
        try file.at("allResidentEngineBytes").checkBytes(allResidentEngineBytes)
        try file.at("sumSeparateEngineBytes").checkBytes(sumSeparateEngineBytes)
        let signed = -FileLimits.maximumBytes...FileLimits.maximumBytes
        if let allResidentRSSDeltaBytes { try file.at("allResidentRSSDeltaBytes").check(allResidentRSSDeltaBytes, in: signed) }
        if let sumSeparateRSSDeltaBytes { try file.at("sumSeparateRSSDeltaBytes").check(sumSeparateRSSDeltaBytes, in: signed) }
    }
}

extension LookupTable.Method {
    func validate(_ file: FileValidator) throws {
        try file.at("clockResolutionNs").check(clockResolutionNs, in: 0...FileLimits.maximumLatencyNs)
        try file.at("clockReadCostNs").check(clockReadCostNs, in: 0...FileLimits.maximumLatencyNs)
        try file.at("noisyCV").check(noisyCV, in: 0...Double.greatestFiniteMagnitude)
        try file.at("noisyCells").checkCount(noisyCells)
        try file.at("retriedCells").checkCount(retriedCells)
        try file.at("resumes").checkCount(resumes)
        for (rule, count) in stopRuleCounts { try file.at("stopRuleCounts").at(entry: rule).checkCount(count) }
        for (index, kHz) in frequencyOrderKHz.enumerated() { try file.at("frequencyOrderKHz").at(index).checkKHz(kHz) }
        for (index, kHz) in predictedKHz.enumerated() { try file.at("predictedKHz").at(index).checkKHz(kHz) }
    }
}
