// GearboxReport/Report/MarkdownRenderer: the report as Markdown with the same tables as the HTML
// page; figures are referenced as the SVG files written beside it.

/// Renders a `ReportDocument` as GitHub-flavoured Markdown.
public enum MarkdownRenderer {
    /// The relative path of a figure's `index`-th chart file.
    public static func figurePath(_ figure: ReportFigure, chart index: Int) -> String {
        figure.charts.count == 1 ? "figures/\(figure.id).svg" : "figures/\(figure.id)-\(index + 1).svg"
    }

    /// The whole report as Markdown: the same sections, facts, notes and tables as the HTML
    /// page, with figures linked as `figures/<id>.svg` (written by `ReportWriter`).
    public static func render(_ document: ReportDocument) -> String {
        var lines: [String] = []
        lines.append("# " + escape(document.title))
        lines.append("")
        lines.append(escape(document.subtitle))
        lines.append("")
        lines.append("**Frequency control: \(escape(document.controllerBadge.uppercased()))** — " + escape(HTMLRenderer.badgeExplanation(document.controllerBadge)))
        lines.append("")
        lines.append(document.headline.map { "**\(escape($0.label)):** \(escape($0.value))" }.joined(separator: " · "))
        lines.append("")
        for note in document.provenanceNotes {
            lines.append("> " + escape(note))
            lines.append("")
        }
        lines.append(document.sections.map { "[\(escape($0.title))](#\($0.id))" }.joined(separator: " · "))
        for section in document.sections {
            lines.append("")
            lines.append("<a id=\"\(section.id)\"></a>")
            lines.append("")
            lines.append("## " + escape(section.title))
            for block in section.blocks {
                lines.append("")
                lines += render(block)
            }
        }
        lines.append("")
        lines.append("---")
        lines.append("")
        lines.append("*Written by gearbox report; open index.html for the charts with hover details.*")
        return lines.joined(separator: "\n") + "\n"
    }

    static func render(_ block: ReportBlock) -> [String] {
        switch block {
        case let .paragraph(text):
            return [escape(text)]
        case let .note(text):
            return ["> **Note:** " + escape(text)]
        case let .facts(facts):
            return facts.map { "- **\(escape($0.label)):** \(escape($0.value))" }
        case let .table(table):
            return tableLines(table)
        case let .figure(figure):
            return figureLines(figure)
        case let .figureRow(figures):
            return figures.flatMap { figureLines($0) + [""] }.dropLast()
        case let .bullets(title, items):
            return ["**\(escape(title))**", ""] + items.map { "- " + escape($0) }
        }
    }

    static func figureLines(_ figure: ReportFigure) -> [String] {
        var lines = ["**Figure: \(escape(figure.title))**", ""]
        for index in figure.charts.indices {
            lines.append("![\(escape(figure.title))](\(figurePath(figure, chart: index)))")
        }
        if let caption = figure.caption, !caption.isEmpty { lines += ["", escape(caption)] }
        lines += ["", "*Source: \(escape(figure.source)) · \(escape(figure.provenance))*"]
        return lines
    }

    static func tableLines(_ table: ReportTable) -> [String] {
        var lines = ["*\(escape(table.caption))*", ""]
        lines.append("| " + table.header.map(cell).joined(separator: " | ") + " |")
        lines.append("|" + table.header.indices.map { table.numericColumns.contains($0) ? " ---: " : " --- " }.joined(separator: "|") + "|")
        for row in table.rows {
            let texts = table.header.indices.map { index in row.indices.contains(index) ? row[index].text : "" }
            lines.append("| " + texts.map(cell).joined(separator: " | ") + " |")
        }
        return lines
    }

    static func cell(_ text: String) -> String {
        let flattened = escape(text).replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        return flattened.isEmpty ? " " : flattened
    }

    /// Escapes Markdown syntax and raw HTML so names read literally (and can't inject markup).
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\\", "`", "*", "_", "[", "]", "|", "#", "!": out += "\\" + String(scalar)
            default:
                if Markup.isAllowedInXML(scalar) { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
