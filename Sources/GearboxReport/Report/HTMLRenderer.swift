// GearboxReport/Report/HTMLRenderer: the report as one self-contained HTML page: inline CSS,
// inline SVG, no script, no network, so it reads the same opened from disk or from a mail.

/// Renders a `ReportDocument` as a standalone HTML5 page.
public enum HTMLRenderer {
    /// The whole page.
    public static func render(_ document: ReportDocument) -> String {
        let page = Node.el("html", [("lang", "en")], [
            .el("head", [], [
                .el("meta", [("charset", "utf-8")]),
                .el("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")]),
                .el("meta", [("name", "generator"), ("content", "gearbox report")]),
                .el("title", text: document.title),
                .el("style", [], [.trusted(stylesheet)]),
            ]),
            .el("body", [], [header(document), tableOfContents(document),
                             .el("main", [("class", "wrap")], document.sections.map(section)),
                             footer(document)]),
        ])
        return "<!DOCTYPE html>\n" + page.html() + "\n"
    }

    static func header(_ document: ReportDocument) -> Node {
        let badge = Markup.identifier(document.controllerBadge)
        return .el("header", [("class", "page-header")], [
            .el("div", [("class", "wrap")], [
                .el("div", [("class", "eyebrow")], text: "Gearbox report"),
                .el("h1", text: document.title),
                .el("p", [("class", "subtitle")], text: document.subtitle),
                .el("div", [("class", "badges")], [
                    .el("span", [("class", "badge badge-\(badge)"), ("title", "How frequency was controlled while measuring")],
                        text: document.controllerBadge),
                    .el("span", [("class", "badge-explain")], text: badgeExplanation(document.controllerBadge)),
                ]),
                .el("dl", [("class", "headline")], document.headline.map { fact in
                    .el("div", [], [.el("dt", text: fact.label), .el("dd", text: fact.value)])
                }),
            ] + provenanceNotes(document.provenanceNotes)),
        ])
    }

    /// Up to two notes are shown; more fold into a `<details>` so the header stays short.
    static func provenanceNotes(_ notes: [String]) -> [Node] {
        guard !notes.isEmpty else { return [] }
        let list = Node.el("ul", [("class", "provenance-notes")], notes.map { .el("li", text: $0) })
        if notes.count <= 2 { return [list] }
        return [.el("details", [("class", "provenance-details")], [.el("summary", text: "Provenance notes (\(notes.count))"), list])]
    }

    static func badgeExplanation(_ controller: String) -> String {
        switch controller {
        case "real": return "Real DVFS: the CPU really ran at each frequency (cpufreq)."
        case "emulated": return "Emulated DVFS: no cpufreq here; lower frequencies were stood in for by cgroup CPU throttling."
        case "simulated": return "Simulated: computed on a virtual clock from a model; no real time passed."
        default: return "Frequency control: \(controller)."
        }
    }

    static func tableOfContents(_ document: ReportDocument) -> Node {
        .el("nav", [("class", "toc"), ("aria-label", "Sections")], [
            .el("div", [("class", "wrap")], document.sections.map { section in
                .el("a", [("href", "#" + section.id)], text: section.title)
            }),
        ])
    }

    static func footer(_ document: ReportDocument) -> Node {
        .el("footer", [("class", "wrap page-footer")], [
            .el("p", text: "Written by gearbox report. Self-contained: inline SVG and CSS, no script, no network. Hover a point or cell for its exact values. Labels: real = measured under cpufreq DVFS; emulated = measured under cgroup CPU throttling; simulated = virtual clock; predicted = fitted model, not measured."),
        ])
    }

    static func section(_ section: ReportSection) -> Node {
        .el("section", [("id", section.id), ("class", "card")],
            [.el("h2", [], [.el("a", [("href", "#" + section.id), ("class", "anchor")], text: section.title)])] + section.blocks.map(block))
    }

    static func block(_ block: ReportBlock) -> Node {
        switch block {
        case let .paragraph(text):
            return .el("p", text: text)
        case let .note(text):
            return .el("p", [("class", "note")], text: text)
        case let .facts(facts):
            return .el("dl", [("class", "facts")], facts.map { fact in
                .el("div", [], [.el("dt", text: fact.label), .el("dd", text: fact.value)])
            })
        case let .table(table):
            let rendered = tableNode(table)
            guard table.collapsed else { return rendered }
            return .el("details", [], [.el("summary", text: table.caption + " (\(table.rows.count) rows)"), rendered])
        case let .figure(figure):
            return figureNode(figure)
        case let .figureRow(figures):
            return .el("div", [("class", "figure-row")], figures.map(figureNode))
        case let .bullets(title, items):
            return .el("div", [("class", "bullets")], [.el("p", [("class", "bullets-title")], text: title),
                                                       .el("ul", [], items.map { .el("li", text: $0) })])
        }
    }

    static func figureNode(_ figure: ReportFigure) -> Node {
        var children: [Node] = [
            .el("figcaption", [("class", "figure-title")], text: figure.title),
            .el("div", [("class", "chart-box")], figure.charts),
        ]
        if let caption = figure.caption, !caption.isEmpty { children.append(.el("p", [("class", "figure-caption")], text: caption)) }
        children.append(.el("p", [("class", "figure-source")], [
            .text("Source: "),
            .el("span", [("class", "source-chip")], text: figure.source),
            .text(" " + figure.provenance),
        ]))
        return .el("figure", [("id", "fig-" + figure.id)], children)
    }

    static func tableNode(_ table: ReportTable) -> Node {
        func cellClass(_ column: Int, _ cell: TableCell?) -> [(String, String)] {
            var classes: [String] = []
            if table.numericColumns.contains(column) { classes.append("num") }
            if let cell, cell.emphasis != .none { classes.append(cell.emphasis.rawValue) }
            return classes.isEmpty ? [] : [("class", classes.joined(separator: " "))]
        }
        let head = Node.el("thead", [], [.el("tr", [], table.header.enumerated().map { column, title in
            .el("th", [("scope", "col")] + cellClass(column, nil), text: title)
        })])
        let body = Node.el("tbody", [], table.rows.map { row in
            .el("tr", [], row.enumerated().map { column, cell in
                var content: [Node] = []
                if let swatch = cell.swatch {
                    content.append(.el("span", [("class", "swatch"), ("style", "background:\(swatch.hex)")]))
                }
                content.append(.text(cell.text))
                return .el(column == 0 ? "th" : "td", (column == 0 ? [("scope", "row")] : []) + cellClass(column, cell), content)
            })
        })
        return .el("div", [("class", "table-wrap")], [.el("table", [], [.el("caption", text: table.caption), head, body])])
    }

    /// The page's CSS. Colours match `Palette`; no web fonts, no external references.
    static let stylesheet = """
        :root{--ink:#1f2937;--muted:#5b6778;--line:#e3e7ed;--bg:#f4f6f9;--card:#fff;--accent:#2f4b7c;
        --good:#1d7a46;--bad:#c81e1e;--real:#1d7a46;--emulated:#b45309;--simulated:#6d28d9;--predicted:#475569}
        *{box-sizing:border-box}
        html{-webkit-text-size-adjust:100%}
        body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
        .wrap{max-width:1120px;margin:0 auto;padding:0 24px}
        .page-header{background:linear-gradient(135deg,#1e3a5f,#2f4b7c 60%,#3d6a8f);color:#fff;padding:30px 0 24px}
        .eyebrow{text-transform:uppercase;letter-spacing:.12em;font-size:12px;opacity:.8;font-weight:600}
        h1{font-size:28px;line-height:1.25;margin:6px 0 4px;font-weight:700;overflow-wrap:anywhere}
        .subtitle{margin:0 0 14px;opacity:.9}
        .badges{display:flex;align-items:center;gap:12px;flex-wrap:wrap;margin-bottom:16px}
        .badge{display:inline-block;padding:3px 12px;border-radius:999px;font-weight:700;font-size:13px;
        text-transform:uppercase;letter-spacing:.06em;background:#fff;border:2px solid currentColor}
        .badge-real{color:var(--real)}.badge-emulated{color:var(--emulated)}.badge-simulated{color:var(--simulated)}
        .badge-explain{font-size:14px;opacity:.95}
        .headline{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}
        .headline div{min-width:0}
        .headline dt{font-size:11px;text-transform:uppercase;letter-spacing:.08em;opacity:.75}
        .headline dd{margin:0;font-weight:600;overflow-wrap:anywhere}
        .provenance-notes{margin:14px 0 0;padding:0;list-style:none;font-size:13.5px;opacity:.92}
        .provenance-notes li::before{content:"Provenance note: ";font-weight:600}
        .provenance-details{margin-top:12px}
        .provenance-details summary{color:#fff;font-weight:600;font-size:13.5px}
        .provenance-details .provenance-notes{margin-top:6px}
        .provenance-details .provenance-notes li::before{content:"· "}
        .toc{position:sticky;top:0;z-index:2;background:rgba(255,255,255,.96);border-bottom:1px solid var(--line)}
        .toc .wrap{display:flex;gap:4px;flex-wrap:wrap;padding-top:8px;padding-bottom:8px}
        .toc a{color:var(--accent);text-decoration:none;font-size:14px;font-weight:600;padding:3px 10px;border-radius:6px}
        .toc a:hover{background:#e8eef6}
        main{padding-top:22px;padding-bottom:8px}
        .card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px 24px 22px;margin:0 0 22px;
        box-shadow:0 1px 2px rgba(16,24,40,.04)}
        h2{font-size:21px;margin:0 0 12px}
        h2 .anchor{color:inherit;text-decoration:none}
        p{margin:8px 0;max-width:80ch}
        .note{background:#fff8e6;border-left:4px solid #e0a100;padding:8px 12px;border-radius:0 6px 6px 0;max-width:none;overflow-wrap:anywhere}
        .facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:10px 24px;margin:4px 0 14px}
        .facts div{border-top:1px solid var(--line);padding-top:6px;min-width:0}
        .facts dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
        .facts dd{margin:0;overflow-wrap:anywhere}
        figure{margin:14px 0 20px}
        .figure-title{font-weight:650;font-size:16px;margin-bottom:6px}
        .chart-box svg{display:block;width:100%;height:auto;max-width:100%}
        .chart-box svg + svg{margin-top:4px}
        .figure-row{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:8px 20px}
        .figure-row figure{margin:8px 0}
        .figure-caption{color:var(--muted);font-size:14px}
        .figure-source{font-size:12.5px;color:var(--muted);margin-top:4px;max-width:none}
        .source-chip{display:inline-block;background:#eef2f7;color:var(--ink);border-radius:4px;padding:1px 7px;margin-right:4px;font-weight:600}
        .table-wrap{overflow-x:auto;margin:12px 0 16px}
        table{border-collapse:collapse;font-size:13.5px;min-width:50%}
        caption{text-align:left;font-weight:600;padding:0 0 6px;color:var(--ink)}
        th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;overflow-wrap:break-word}
        thead th{background:#f7f9fb;font-size:11.5px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);border-bottom:2px solid var(--line);vertical-align:bottom}
        tbody th{font-weight:600;white-space:nowrap;max-width:260px;overflow:hidden;text-overflow:ellipsis}
        tbody tr:hover{background:#fafbfd}
        .num{text-align:right;font-variant-numeric:tabular-nums}
        td.num{white-space:nowrap}
        .good{color:var(--good);font-weight:700}
        .bad{color:var(--bad);font-weight:600}
        .muted{color:#8a94a3}
        .strong{font-weight:700}
        .swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:7px;vertical-align:baseline}
        details{margin:8px 0 14px}
        .bullets-title{font-weight:600;margin-bottom:2px}
        .bullets ul{margin:4px 0 10px;padding-left:22px;color:var(--muted);font-size:14px}
        summary{cursor:pointer;color:var(--accent);font-weight:600}
        .page-footer{color:var(--muted);font-size:13px;padding-bottom:30px}
        @media print{.toc{display:none}body{background:#fff}.card{box-shadow:none;break-inside:avoid-page}}
        """
}
