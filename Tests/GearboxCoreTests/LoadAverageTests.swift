import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@Test(.enabled(if: HostFacts.hasProcLoadAverage, "needs /proc/loadavg"))
func loadAverageReadsThreeNonNegativeFiguresAndPrintsThemAsTheKernelDoes() throws {
    let load = try #require(LoadAverage.current())
    #expect(load.oneMinute >= 0 && load.fiveMinutes >= 0 && load.fifteenMinutes >= 0)
    #expect(LoadAverage(oneMinute: 0.5, fiveMinutes: 1, fifteenMinutes: 12.25).text == "0.50 1.00 12.25")
}
