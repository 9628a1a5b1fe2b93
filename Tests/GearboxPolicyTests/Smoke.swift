import Testing

@Test func policyModuleBuilds() { #expect(Bool(true)) }
