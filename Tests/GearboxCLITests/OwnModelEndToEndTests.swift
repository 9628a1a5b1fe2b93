// Issue #18's "done means", end to end through the binary: a ResNet-18 and a MobileNetV2 the
// portfolio code has never seen (generated with seeded weights, at a small resolution so the
// test runs in seconds) become portfolios with every kind of variant that `portfolio check`
// passes and `profile` measures, and whose structured variants onnxruntime runs with the
// original's output shape.

import Foundation
import GearboxEngine
import GearboxTestSupport
import Testing

@Suite(.requiresBinary) struct OwnModelEndToEndTests {
    static let everyKind = [
        "--structured", "0.5,0.75", "--unstructured", "0.8", "--blocks", "4x4:0.8", "--ubp", "4x4:0.8", "--masked", "0.5,1",
    ]
    static let structured = ["dense", "structured-0.50", "structured-0.75"]

    /// ResNet-18's layout (four stages of two basic blocks, projection shortcuts) and MobileNetV2's
    /// (inverted residuals, depthwise convolutions), narrowed and at 32×32.
    static let models: [(name: String, builder: ONNXModelBuilder)] = [
        ("resnet18", SyntheticModels.resNet(seed: 11, imageSize: 32, widths: [16, 32, 64, 128], blocksPerStage: 2, classes: 10)),
        ("mobilenetv2", SyntheticModels.mobileNetV2(
            seed: 12, imageSize: 32, stem: 16, blocks: [(1, 8, 1, 1), (6, 12, 2, 2), (6, 16, 3, 2), (6, 32, 2, 2)], head: 64,
            classes: 10)),
    ]

    @Test(arguments: models.indices)
    func aModelBecomesACheckedPortfolioThatProfileMeasures(index: Int) throws {
        let (name, builder) = Self.models[index]
        let scratch = ScratchDirectory("own-model-\(name)")
        let model = scratch.file("\(name).onnx")
        try builder.write(to: model)
        let directory = scratch.file("portfolio")

        let created = try GearboxBinary.run(["portfolio", "new", name, "--from", model, "--out", directory] + Self.everyKind)
        #expect(created.status == 0, "stderr: \(created.stderr)")
        let check = try GearboxBinary.run(["portfolio", "check", directory])
        #expect(check.status == 0, "stderr: \(check.stderr)")

        let lut = scratch.file("\(name).lut.json")
        let profiled = try GearboxBinary.run(simulatedProfileArguments(out: lut, portfolio: directory))
        #expect(profiled.status == 0, "stderr: \(profiled.stderr)")
        let table = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: lut))) as? [String: Any])
        let variants = try #require(table["variants"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(Set(variants) == [
            "dense", "structured-0.50", "structured-0.75", "csr-0.80", "bsr-4x4-0.80", "ubp-4x4-0.80", "masked-0.50", "masked-1.00",
        ])
    }

    @Test(.enabled(if: HostFacts.hasONNXRuntime, "needs python3 with onnxruntime (make test puts one on PATH)"),
          arguments: models.indices)
    func structuredVariantsRunInONNXRuntimeWithTheOriginalsOutputShape(index: Int) throws {
        let (name, builder) = Self.models[index]
        let scratch = ScratchDirectory("own-model-ort-\(name)")
        let model = scratch.file("\(name).onnx")
        try builder.write(to: model)
        let directory = scratch.file("portfolio")
        let created = try GearboxBinary.run(["portfolio", "new", name, "--from", model, "--out", directory, "--structured", "0.5,0.75"])
        #expect(created.status == 0, "stderr: \(created.stderr)")
        #expect(try ONNXRuntimeCheck.outputShapesAgree(Self.structured.map { directory + "/\($0).onnx" }))
    }
}
