// Tests for the models `gearbox bench engine --models` chooses from: names resolve (or the
// unknown one is named), and the generators have the sizes the benchmark table quotes.

import GearboxBenchmarks
import Testing
@testable import GearboxEngine

@Suite struct EngineBenchmarkModelTests {
    @Test func defaultNamesResolveAndAnUnknownNameIsReported() throws {
        let names = EngineBenchmarkModel.catalogue().map(\.name)
        #expect(Set(names).count == names.count, "names are unique")
        let chosen = try EngineBenchmarkModel.select(EngineBenchmarkModel.defaultNames).get()
        #expect(chosen.map(\.name) == EngineBenchmarkModel.defaultNames)
        guard case let .failure(unknown) = EngineBenchmarkModel.select(["resnet18-224", "mobilenet"]) else {
            Issue.record("an unknown name was accepted")
            return
        }
        #expect(unknown.name == "mobilenet")
        #expect(unknown.description.contains("mobilenetv2-1.0-224"), "the message lists the known names")
    }

    @Test func bigModelsRunFewerTimesButAtLeastTen() throws {
        let resnet = try #require(EngineBenchmarkModel.catalogue().first { $0.name == "resnet18-224" })
        #expect(resnet.runs(of: 200) == 20)
        #expect(resnet.runs(of: 30) == 10)
        let cnn = try #require(EngineBenchmarkModel.catalogue().first { $0.name == "fashion-mnist-cnn" })
        #expect(cnn.runs(of: 30) == 30)
    }

    @Test func cifarResNet8HasAbout12MillionMACs() throws {
        let model = try load(SyntheticModels.cifarResNet())
        #expect((12_000_000...13_000_000).contains(model.statistics.macs), "\(model.statistics.macs)")
        let half = try load(SyntheticModels.cifarResNet(widths: [8, 16, 32]))
        #expect(half.statistics.macs < model.statistics.macs / 3)
        #expect(try runRandom(try load(SyntheticModels.mlp())).shape == [1, 10])
    }
}
