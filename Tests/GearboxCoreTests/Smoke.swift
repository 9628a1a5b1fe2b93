import Testing

@Test func coreModuleBuilds() { #expect(Bool(true)) }
