// Tests for the headline ratios PortfolioWriter puts in build.json: which figure each method's
// ratio takes (the best structured speedup, ubp against bsr at the same tag, the mask range), and
// that a missing partner leaves a ratio out instead of inventing it.

import Testing
@testable import GearboxTraining

@Suite struct PortfolioWriterTests {
    static func facts(_ name: String, format: String, accuracy: Double? = nil, _ figures: [String: Double]) -> PortfolioBuildReport.VariantFacts {
        .init(name: name, format: format, sparsity: 0, params: 0, macs: 0, accuracy: accuracy, trainerAccuracy: 0,
              maxLogitDifference: nil, figures: figures, notes: [])
    }

    @Test func dnnShifterTakesTheBestStructuredSpeedupOverRoundsAgainstBothKernels() {
        let facts = [
            Self.facts("structured-1", format: "dense", ["speedupVs:imp-1": 1.2, "speedupVsDenseKernels:imp-1": 1.5]),
            Self.facts("structured-2", format: "dense", ["speedupVs:imp-2": 1.4, "speedupVsDenseKernels:imp-2": 1.3]),
        ]
        let ratios = MethodRatios.latencyRatios(candidates: [], facts: facts, method: .dnnshifter)
        #expect(ratios.map(\.measured) == [1.5, 1.4])
        #expect(ratios.first?.paper == 1.67)
    }

    @Test func aMethodWithoutMeasuredSpeedupsSaysSoWithNil() {
        let ratios = MethodRatios.latencyRatios(candidates: [], facts: [Self.facts("dense", format: "dense", [:])], method: .reconvene)
        #expect(ratios.count == 2 && ratios.allSatisfy { $0.measured == nil })
    }

    @Test func ubpIsComparedWithBSRAtTheSameTagAndSkippedWithoutIt() throws {
        let facts = [
            Self.facts("ubp-4x4-0.80", format: "ubp", accuracy: 0.80, ["p50Ns": 1_100, "speedupVs:bsr-4x4-0.80": 0.8]),
            Self.facts("bsr-4x4-0.80", format: "bsr", accuracy: 0.78, ["p50Ns": 1_000]),
            Self.facts("csr-4x4-0.80", format: "csr", accuracy: 0.81, ["p50Ns": 2_200]),
            Self.facts("ubp-8x8-0.80", format: "ubp", accuracy: 0.79, ["p50Ns": 900]),
        ]
        let ratios = MethodRatios.latencyRatios(candidates: [], facts: facts, method: .ubp)
        #expect(ratios.count == 2)
        let accuracy = try #require(ratios.first)
        #expect(abs((accuracy.measured ?? 0) - 2) < 1e-9)
        // Paired timing wins over the ratio of medians when there is one.
        #expect(abs((ratios[1].measured ?? 0) - 1.25) < 1e-9)
        #expect(ratios[1].note.contains("ubp / csr = 0.50"))
    }

    @Test func allInOneReportsSlowestOverFastestMask() {
        let facts = [
            Self.facts("masked-0.50", format: "masked", ["p50Ns": 500]),
            Self.facts("masked-1.00", format: "masked", ["p50Ns": 1_500]),
            Self.facts("masked-0.75", format: "masked", ["p50Ns": 1_000]),
        ]
        #expect(MethodRatios.latencyRatios(candidates: [], facts: facts, method: .allinone).first?.measured == 3)
        #expect(MethodRatios.latencyRatios(candidates: [], facts: [], method: .allinone).isEmpty)
    }
}
