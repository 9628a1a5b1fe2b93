// GearboxReport/Report/ReportWriter: writes a report directory atomically: index.html,
// report.md and the figures Markdown links to, all through one GearboxCore AtomicFile batch: a
// failure (a full disk) leaves the old report as it was and nothing half-written.

import Foundation
import GearboxCore

/// What `ReportWriter` wrote.
public struct WrittenReport: Codable, Sendable, Equatable {
    public var directory: String
    public var html: String
    public var markdown: String
    public var figures: [String]
    public var sections: [String]
    public var notes: [String]
}

/// Writes a `ReportDocument` to a directory.
public enum ReportWriter {
    /// Writes `index.html`, `report.md` and `figures/*.svg` under `directory` (created if missing).
    public static func write(_ document: ReportDocument, to directory: String) throws -> WrittenReport {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        var figurePaths: [String] = []
        var files: [(path: String, data: Data)] = []
        for section in document.sections {
            for block in section.blocks {
                let figures: [ReportFigure]
                switch block {
                case let .figure(figure): figures = [figure]
                case let .figureRow(row): figures = row
                default: figures = []
                }
                for figure in figures {
                    for (index, chart) in figure.standaloneCharts.enumerated() {
                        let path = base + "/" + MarkdownRenderer.figurePath(figure, chart: index)
                        files.append((path, Data(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + chart.xml() + "\n").utf8)))
                        figurePaths.append(path)
                    }
                }
            }
        }
        let markdown = base + "/report.md"
        files.append((markdown, Data(MarkdownRenderer.render(document).utf8)))
        // The page last: its presence means the report is complete.
        let html = base + "/index.html"
        files.append((html, Data(HTMLRenderer.render(document).utf8)))
        try AtomicFile.write(files)
        let notes = document.sections.flatMap { section in
            section.blocks.compactMap { block -> String? in
                if case let .note(text) = block { return "\(section.id): \(text)" }
                return nil
            }
        }
        return WrittenReport(directory: base, html: html, markdown: markdown, figures: figurePaths,
                             sections: document.sections.map(\.id), notes: notes)
    }
}
