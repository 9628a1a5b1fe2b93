import Testing

@Test func trainingModuleBuilds() { #expect(Bool(true)) }
