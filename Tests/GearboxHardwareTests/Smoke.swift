import Testing

@Test func hardwareModuleBuilds() { #expect(Bool(true)) }
