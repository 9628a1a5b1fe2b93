// GearboxReport/Report/ReportDocument: the report as data (sections of paragraphs, notes, tables
// and figures). The HTML and Markdown renderers both walk this one value, so the two files
// always carry the same tables.

/// A table cell: text plus an optional emphasis the HTML renderer styles.
public struct TableCell: Sendable, Equatable, ExpressibleByStringLiteral {
    public enum Emphasis: String, Sendable, Equatable { case none, good, bad, muted, strong }
    public var text: String
    public var emphasis: Emphasis
    /// A colour swatch before the text (a variant's colour), HTML only.
    public var swatch: Color?
    public init(_ text: String, emphasis: Emphasis = .none, swatch: Color? = nil) {
        self.text = text; self.emphasis = emphasis; self.swatch = swatch
    }
    public init(stringLiteral value: String) { self.init(value) }
}

/// A table with a caption; the first column is the row's name.
public struct ReportTable: Sendable, Equatable {
    public var caption: String
    public var header: [String]
    public var rows: [[TableCell]]
    /// Columns (by index) holding numbers, right-aligned.
    public var numericColumns: Set<Int>
    /// Long detail tables start folded in HTML (`<details>`); Markdown shows them in full.
    public var collapsed: Bool
    public init(caption: String, header: [String], rows: [[TableCell]], numericColumns: Set<Int> = [], collapsed: Bool = false) {
        self.caption = caption; self.header = header; self.rows = rows; self.numericColumns = numericColumns
        self.collapsed = collapsed
    }
}

/// A chart with its caption; `source` and `provenance` say where its numbers came from.
public struct ReportFigure: Sendable, Equatable {
    public var id: String
    public var title: String
    /// One or more `<svg>` charts for the page, stacked (e.g. the variant chosen above the
    /// latency it gave); the page prints source and provenance beside them.
    public var charts: [Node]
    /// The same charts for standalone `.svg` files, with source and provenance drawn inside.
    public var standaloneCharts: [Node]
    /// How the numbers were obtained: "emulated · cgroup CPU throttling; some cells predicted".
    public var source: String
    /// "device vm-2c · 2026-11-20 10:00 UTC · commit 1a2b3c4d5e · gearbox 0.1.0"
    public var provenance: String
    /// Explanatory sentence under the chart.
    public var caption: String?

    /// A figure of one or more charts; the charts' own footnotes are replaced by source and provenance.
    public init(id: String, title: String, charts: [any SVGChart], source: String, provenance: String, caption: String? = nil) {
        self.id = Markup.identifier(id); self.title = title; self.source = source
        self.provenance = provenance; self.caption = caption
        self.charts = charts.map { chart in
            var bare = chart
            bare.footnote = nil
            return bare.svg()
        }
        self.standaloneCharts = charts.map { chart in
            var labelled = chart
            labelled.footnote = "Source: \(source) · \(provenance)"
            return labelled.svg()
        }
    }

    public init(id: String, title: String, chart: any SVGChart, source: String, provenance: String, caption: String? = nil) {
        self.init(id: id, title: title, charts: [chart], source: source, provenance: provenance, caption: caption)
    }
}

/// A label and its value ("Cores", "2").
public struct Fact: Sendable, Equatable {
    public var label: String
    public var value: String
    public init(_ label: String, _ value: String) { self.label = label; self.value = value }
}

/// One piece of a section.
public enum ReportBlock: Sendable, Equatable {
    case paragraph(String)
    /// A highlighted remark: a degraded input, a missing feature, an honest caveat.
    case note(String)
    /// Label–value pairs shown as a compact grid ("Cores: 2").
    case facts([Fact])
    case table(ReportTable)
    case figure(ReportFigure)
    /// Figures shown side by side in HTML (one per frequency, cold/warm).
    case figureRow([ReportFigure])
    /// A titled list of plain remarks (e.g. the validator's notes).
    case bullets(title: String, items: [String])
}

/// A titled part of the report with a stable `id` (the browser test checks each is present).
public struct ReportSection: Sendable, Equatable {
    public var id: String
    public var title: String
    public var blocks: [ReportBlock]
    public init(id: String, title: String, blocks: [ReportBlock]) {
        self.id = Markup.identifier(id); self.title = title; self.blocks = blocks
    }
}

/// The whole report.
public struct ReportDocument: Sendable, Equatable {
    public var title: String
    public var subtitle: String
    /// The controller kind shown as a badge: real / emulated / simulated.
    public var controllerBadge: String
    /// Short label–value pairs in the page header (device, portfolio, date, commit).
    public var headline: [Fact]
    /// The inputs' provenance notes, shown under the header (e.g. "synthetic test fixture").
    public var provenanceNotes: [String]
    public var sections: [ReportSection]

    public init(
        title: String, subtitle: String, controllerBadge: String, headline: [Fact], provenanceNotes: [String] = [],
        sections: [ReportSection]
    ) {
        self.title = title; self.subtitle = subtitle; self.controllerBadge = controllerBadge
        self.headline = headline; self.provenanceNotes = provenanceNotes; self.sections = sections
    }

    /// The ids every report has, in page order.
    public static let sectionIDs = ["device", "latency", "pareto", "switch-cost", "memory", "counters", "timeline", "policies"]
    /// The ids a report has only when the inputs carry the figures: `energy` (after `pareto`) when
    /// the table's cells or the validation have energy, `temperature` (after `timeline`) when the
    /// timeline or the cells have temperatures.
    public static let optionalSectionIDs = ["energy", "temperature"]
}
