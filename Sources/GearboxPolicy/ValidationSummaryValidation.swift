// GearboxPolicy/ValidationSummaryValidation: the rules a `summary.json` read back by
// `gearbox report` must keep (rates are fractions, times and counts non-negative and finite).

import GearboxCore

extension ValidationSummary: ValidatedFile {
    public func validate(_ file: FileValidator) throws {
        try file.at("durationMs").check(durationMs, in: 0...FrequencyTrace.maximumDurationMs)
        for (name, result) in policies.sorted(by: { $0.key < $1.key }) {
            let key = file.at("policies").at(entry: name)
            let fraction = "allowed: a fraction in 0...1"
            try key.at("violationRate").check(result.violationRate, in: 0...1, fraction)
            if let accuracy = result.meanAccuracy { try key.at("meanAccuracy").check(accuracy, in: 0...1, fraction) }
            try key.at("switches").checkCount(result.switches)
            try key.at("inferences").checkCount(result.inferences)
            try key.at("switchTimeNs").check(result.switchTimeNs, in: 0...Double.greatestFiniteMagnitude)
            try key.at("p50Ns").check(result.p50Ns, in: 0...FileLimits.maximumLatencyNs)
            try key.at("p99Ns").check(result.p99Ns, in: 0...FileLimits.maximumLatencyNs)
            if let regret = result.regretVsOracle { try key.at("regretVsOracle").check(regret, in: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) }
            if let joules = result.energyPerInferenceJ { try key.at("energyPerInferenceJ").check(joules, in: 0...1e6) }
            if let cv = result.latencyCVAcrossFrequencies { try key.at("latencyCVAcrossFrequencies").check(cv, in: 0...Double.greatestFiniteMagnitude) }
            for (segment, rate) in (result.segmentViolationRates ?? [:]).sorted(by: { $0.key < $1.key }) {
                try key.at("segmentViolationRates").at(entry: segment).check(rate, in: 0...1, fraction)
            }
        }
    }
}
