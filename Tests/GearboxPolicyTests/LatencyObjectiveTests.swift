import GearboxCore
import Testing
@testable import GearboxPolicy

@Suite struct LatencyObjectiveTests {
    @Test func parsesPercentileAndTarget() throws {
        let objective = try LatencyObjective(parsing: "p99<=8ms")
        #expect(objective.statistic == .percentile(99))
        #expect(objective.targetNs == 8_000_000)
        #expect(objective.quantile == 0.99)
    }

    @Test func acceptsSpacesFractionsAndOtherUnits() throws {
        #expect(try LatencyObjective(parsing: "p50 <= 2.5ms").targetNs == 2_500_000)
        #expect(try LatencyObjective(parsing: "p90<500us").targetNs == 500_000)
        #expect(try LatencyObjective(parsing: "mean<=1s").statistic == .mean)
        #expect(try LatencyObjective(parsing: "P99≤8ms").targetNs == 8_000_000)
    }

    @Test func readsP999AsNinetyNinePointNine() throws {
        #expect(try LatencyObjective(parsing: "p999<=20ms").statistic == .percentile(99.9))
        #expect(try LatencyObjective(parsing: "p99.9<=20ms").statistic == .percentile(99.9))
        #expect(try LatencyObjective(parsing: "p9999<=20ms").statistic == .percentile(99.99))
    }

    @Test func descriptionParsesBackToTheSameObjective() throws {
        for text in ["p99<=8ms", "p50<=2.5ms", "p99.9<=20ms", "mean<=750us", "p90<=1.25s"] {
            let objective = try LatencyObjective(parsing: text)
            #expect(objective.description == text)
            #expect(try LatencyObjective(parsing: objective.description) == objective)
        }
    }

    @Test(arguments: ["p99", "p99<=", "<=8ms", "p99<=8", "p99<=-1ms", "p100<=8ms", "q99<=8ms", "p99<=0ms", "p99<=fastms", ""])
    func rejectsMalformedObjectivesWithOneLineNamingTheText(_ text: String) {
        #expect(throws: PolicyError.self) { try LatencyObjective(parsing: text) }
        do { _ = try LatencyObjective(parsing: text) } catch {
            let message = "\(error)"
            #expect(!message.contains("\n"))
            #expect(message.contains("'\(text)'"))
            #expect(message.contains("p99<=8ms"))
        }
    }

    @Test func durationTextParsesUnitsAndRejectsBareNumbers() throws {
        #expect(DurationText.nanoseconds("60s") == 60e9)
        #expect(DurationText.nanoseconds("100ms") == 100e6)
        #expect(DurationText.nanoseconds("1m") == 60e9)
        #expect(DurationText.nanoseconds("2min") == 120e9)
        #expect(DurationText.nanoseconds("500us") == 500e3)
        #expect(DurationText.nanoseconds("60") == nil)
        #expect(DurationText.nanoseconds("-1s") == nil)
        #expect(throws: PolicyError.badDuration(setting: "--duration", text: "soon")) {
            try DurationText.milliseconds("soon", setting: "--duration")
        }
        #expect(DurationText.format(2_500_000) == "2.5ms")
    }
}
