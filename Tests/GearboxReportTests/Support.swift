// GearboxReportTests/Support: fixture paths and an XML well-formedness check shared by the
// report tests.

import Foundation
import GearboxTestSupport
#if canImport(FoundationXML)
import FoundationXML
#endif

enum Fixtures {
    /// Tests/GearboxReportTests/Fixtures (made by Fixtures/make-fixtures.py).
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    /// The package root (for scripts/).
    static let packageRoot = SharedFixtures.packageRoot

    static func path(_ name: String) -> String { directory + "/" + name }
}

/// Parses `text` as XML; returns nil when well-formed, else the parser's error.
func xmlError(_ text: String) -> String? {
    let parser = XMLParser(data: Data(text.utf8))
    if parser.parse() { return nil }
    return parser.parserError.map { "\($0)" } ?? "unknown XML error"
}
