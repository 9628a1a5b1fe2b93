// GearboxProfiler/SweepCheckpointValidation: the rules a sweep checkpoint read back by --resume
// must keep, so that an edited or corrupt checkpoint cannot carry impossible cells into a table.
// (Its configuration must also equal the new run's, which ProfileSweep checks.)

import GearboxCore

extension SweepCheckpoint: ValidatedFile {
    /// Frequencies positive, cells' latencies positive, ordered and within
    /// ``FileLimits/maximumLatencyNs``, counts and byte sizes non-negative.
    public func validate(_ file: FileValidator) throws {
        for (index, kHz) in frequencyOrderKHz.enumerated() { try file.at("frequencyOrderKHz").at(index).checkKHz(kHz) }
        try file.at("resumes").checkCount(resumes)
        for (index, cell) in cells.enumerated() {
            let key = file.at("cells").at(index)
            try key.at("kHz").checkKHz(cell.kHz)
            try key.at("variant").checkNonEmpty(cell.variant)
            try key.at("threads").check(cell.threads, in: 1...FileLimits.maximumThreads)
            try key.at("attempt").check(cell.attempt, in: 0...1)
            try key.at("speedRatio").checkPositive(cell.speedRatio, atMost: 1000)
            if let inferences = cell.inferencesPerSample { try key.at("inferencesPerSample").check(inferences, in: 1...FileLimits.maximumCount) }
            let latency = key.at("latency")
            let l = cell.latency
            for (name, value) in [("p50Ns", l.p50Ns), ("p90Ns", l.p90Ns), ("p99Ns", l.p99Ns), ("p999Ns", l.p999Ns), ("meanNs", l.meanNs)] {
                try latency.at(name).checkLatencyNs(value)
            }
            try latency.checkNonDecreasing(
                [("p50Ns", l.p50Ns.value), ("p90Ns", l.p90Ns.value), ("p99Ns", l.p99Ns.value), ("p999Ns", l.p999Ns.value)],
                relativeTolerance: LookupTable.percentileTolerance)
            try latency.at("stddevNs").check(l.stddevNs, in: 0...FileLimits.maximumLatencyNs)
            try latency.at("ciHalfWidthNs").check(l.ciHalfWidthNs, in: 0...FileLimits.maximumLatencyNs)
            try latency.at("samples").check(l.samples, in: 1...FileLimits.maximumCount)
        }
        for (index, record) in (switchCosts ?? []).enumerated() {
            let key = file.at("switchCosts").at(index)
            for (name, value) in [("coldNs", record.coldNs), ("warmNs", record.warmNs), ("maskSwitchNs", record.maskSwitchNs)] {
                if let value { try key.at(name).check(value, in: 0...FileLimits.maximumLatencyNs) }
            }
        }
        if let memory {
            let key = file.at("memory")
            try key.at("allResidentEngineBytes").checkBytes(memory.allResidentEngineBytes)
            try key.at("sumSeparateEngineBytes").checkBytes(memory.sumSeparateEngineBytes)
            for (index, variant) in memory.variants.enumerated() {
                try key.at("variants").at(index).at("engineBytes").checkBytes(variant.engineBytes)
                try key.at("variants").at(index).at("weightBytes").checkBytes(variant.weightBytes)
            }
        }
    }
}
