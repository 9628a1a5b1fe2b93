import Testing
@testable import GearboxPolicy

@Suite struct TraceGeneratorTests {
    let levels = SyntheticPortfolio.frequenciesKHz

    func generate(_ spec: String, durationMs: Double = 10_000) throws -> FrequencyTrace {
        try TraceSpec(parsing: spec).generate(levelsKHz: levels, durationMs: durationMs)
    }

    @Test func stepGoesFromTheTopToTheBottomHalfway() throws {
        let t = try generate("step")
        #expect(t.segments().map(\.kHz) == [1_800_000, 600_000])
        #expect(t.segments()[1].startMs == 5000)
        #expect(t.source == .simulated)
        let custom = try generate("step:from=1GHz,to=800MHz,at=2s")
        #expect(custom.segments() == [.init(startMs: 0, endMs: 2000, kHz: 1_000_000), .init(startMs: 2000, endMs: 10_000, kHz: 800_000)])
    }

    @Test func squareAlternatesEveryHalfPeriod() throws {
        let t = try generate("square:period=2s")
        let segments = t.segments()
        #expect(segments.count == 10)
        #expect(segments.allSatisfy { $0.endMs - $0.startMs == 1000 })
        #expect(segments[0].kHz == 1_800_000 && segments[1].kHz == 600_000)
    }

    @Test func rampAndSawtoothMoveOffTheGrid() throws {
        let ramp = try generate("ramp")
        let values = ramp.samples.map { $0.kHz[0] }
        #expect(values.first == 1_800_000)
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 > $1 })
        #expect(values.contains { !levels.contains($0) })
        let saw = try generate("sawtooth:period=2s")
        #expect(saw.kHz(atMs: 0) == 1_800_000 && saw.kHz(atMs: 2000) == 1_800_000)
        #expect(saw.kHz(atMs: 1900) < 700_000)
    }

    @Test func randomWalkIsReproducibleFromItsSeedAndStaysOnTheGrid() throws {
        let a = try generate("random-walk:seed=7"), b = try generate("random-walk:seed=7"), c = try generate("random-walk:seed=8")
        #expect(a == b)
        #expect(a.samples != c.samples)
        #expect(a.samples.allSatisfy { levels.contains($0.kHz[0]) })
        #expect(Set(a.samples.map { $0.kHz[0] }).count >= 3)
        // Moves at most one level per interval.
        for (x, y) in zip(a.samples, a.samples.dropFirst()) {
            let i = levels.firstIndex(of: x.kHz[0]) ?? 0, j = levels.firstIndex(of: y.kHz[0]) ?? 0
            #expect(abs(i - j) == 1)
        }
    }

    @Test func governorLikeRacesToTheTopUnderLoadAndDropsWhenIdle() throws {
        let t = try generate("governor-like:seed=3", durationMs: 30_000)
        let visited = Set(t.samples.map { $0.kHz[0] })
        #expect(visited.contains(1_800_000))
        #expect(visited.contains { $0 < 1_000_000 })
        #expect(visited.isSubset(of: Set(levels)))
        #expect(t == (try generate("governor-like:seed=3", durationMs: 30_000)))
    }

    @Test(arguments: [
        ("sine", "unknown generator"),
        ("square:width=2", "square has no parameter 'width' (it takes period, high, low, duty)"),
        ("square:period", "not key=value"),
        ("square:period=fast", "not a duration"),
        ("step:to=warp", "not a frequency"),
        ("random-walk:seed=-1", "non-negative integer"),
        ("square:duty=2", "must be a number"),
    ])
    func badSpecsSayWhatIsWrongInOneLine(spec: String, phrase: String) {
        do {
            _ = try TraceSpec(parsing: spec).generate(levelsKHz: levels, durationMs: 1000)
            Issue.record("expected an error for \(spec)")
        } catch {
            #expect("\(error)".contains(phrase), "\(error)")
            #expect(!"\(error)".contains("\n"))
        }
    }

    @Test func specDescriptionParsesBack() throws {
        let spec = try TraceSpec(parsing: "square:period=2s,duty=0.3")
        #expect(spec.description == "square:duty=0.3,period=2s")
        #expect(try TraceSpec(parsing: spec.description) == spec)
    }

    @Test func traceArgumentTellsFilesFromGenerators() throws {
        #expect(TraceArgument.isFile("traces/board.csv"))
        #expect(TraceArgument.isFile("rec.csv"))
        #expect(!TraceArgument.isFile("square:period=2s"))
        #expect(try TraceArgument.load("step", levelsKHz: levels, durationMs: 1000).segments().count == 2)
    }
}
