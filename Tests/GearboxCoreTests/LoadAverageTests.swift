import Foundation
import GearboxCore
import Testing

@Test func loadAverageReadsThreeNonNegativeFiguresAndPrintsThemAsTheKernelDoes() throws {
    guard FileManager.default.fileExists(atPath: "/proc/loadavg") else {
        print("skipped: no /proc/loadavg on this system"); return
    }
    let load = try #require(LoadAverage.current())
    #expect(load.oneMinute >= 0 && load.fiveMinutes >= 0 && load.fifteenMinutes >= 0)
    #expect(LoadAverage(oneMinute: 0.5, fiveMinutes: 1, fifteenMinutes: 12.25).text == "0.50 1.00 12.25")
}
