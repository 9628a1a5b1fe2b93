import Testing

@Test func engineModuleBuilds() { #expect(Bool(true)) }
