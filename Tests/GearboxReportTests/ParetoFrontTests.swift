// Tests for Inputs/ParetoFront.

import Testing
@testable import GearboxReport

@Test func paretoFrontKeepsOnlyUndominatedPointsFastestFirst() {
    let points = [
        Point(x: 1.8, y: 91.4),  // 0 dense: most accurate
        Point(x: 0.95, y: 91.05),  // 1
        Point(x: 0.52, y: 89.9),  // 2
        Point(x: 1.10, y: 90.6),  // 3 dominated by 1 (slower, less accurate)
        Point(x: 0.78, y: 90.9),  // 4
        Point(x: 0.85, y: 90.1),  // 5 dominated by 4
        Point(x: 0.61, y: 89.6),  // 6 dominated by 2
        Point(x: 0.33, y: 87.0),  // 7 fastest
    ]
    #expect(ParetoFront.indices(of: points) == [7, 2, 4, 1, 0])
}

@Test func paretoFrontKeepsTiesAndDropsEqualLatencyWorseAccuracy() {
    let points = [Point(x: 1, y: 90), Point(x: 1, y: 90), Point(x: 1, y: 89), Point(x: 2, y: 90)]
    #expect(ParetoFront.indices(of: points) == [0, 1])
}

@Test func paretoFrontIgnoresNonFinitePointsAndHandlesEmpty() {
    #expect(ParetoFront.indices(of: []) == [])
    #expect(ParetoFront.indices(of: [Point(x: .nan, y: 99), Point(x: 2, y: 50)]) == [1])
    #expect(ParetoFront.indices(of: [Point(x: 3, y: 1)]) == [0])
}
