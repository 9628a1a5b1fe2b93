import Testing

@Test func portfolioModuleBuilds() { #expect(Bool(true)) }
