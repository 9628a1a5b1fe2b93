import Testing

@Test func profilerModuleBuilds() { #expect(Bool(true)) }
