import Testing

@Test func reportModuleBuilds() { #expect(Bool(true)) }
