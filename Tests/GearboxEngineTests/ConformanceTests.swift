// The ONNX backend conformance suite (libonnx-testdata, run by GearboxBenchmarks) as a test: zero failures required.

import GearboxTestSupport
import Testing
@testable import GearboxBenchmarks
@testable import GearboxEngine

@Suite struct ConformanceTests {
    @Test(.requiresONNXTestData) func officialOnnxTestsPass() throws {
        let report = try Conformance.run()
        for failure in report.results where failure.status == .failed {
            Issue.record("\(failure.suite)/\(failure.name): \(failure.reason ?? "")")
        }
        #expect(report.failed == 0)
        // The listed operators' tests must run, not be skipped.
        let passedNames = Set(report.results.filter { $0.status == .passed }.map { "\($0.suite)/\($0.name)" })
        for required in ["node/test_conv_with_autopad_same", "node/test_gemm_all_attributes", "node/test_averagepool_2d_ceil",
                         "node/test_batchnorm_example", "node/test_softmax_axis_0", "node/test_constant_pad",
                         "pytorch-converted/test_Conv2d_depthwise_with_multiplier", "pytorch-converted/test_Linear"] {
            #expect(passedNames.contains(required), "\(required) did not pass")
        }
        print("conformance: \(report.summaryLine)")
    }

    @Test(.requiresONNXTestData) func filterSelectsTests() throws {
        let report = try Conformance.run(ConformanceOptions(filter: "node/test_relu$"))
        #expect(report.results.map(\.name) == ["test_relu"])
        #expect(report.summaryLine == "1 passed, 0 failed, 0 skipped")
    }

    @Test func badFilterIsAnError() {
        #expect(throws: EngineError.self) { _ = try Conformance.run(ConformanceOptions(filter: "(")) }
    }
}
