// GearboxReport/Markup/Node: the one tree both the SVG charts and the HTML page are built from,
// and the one place text is escaped.
//
// Why not JohnSundell/Plot: the charts are SVG, which Plot does not model, so they would enter a
// Plot page through `.raw(...)` and bypass its escaping. One small element tree with one escaper
// serves both SVG and HTML, keeps attribute order (and so output bytes) deterministic, and adds
// no dependency to build on a 2-core board.

/// An element, a text run, or trusted markup written by this module (CSS, the doctype).
public indirect enum Node: Sendable, Equatable {
    case element(name: String, attributes: [Attribute], children: [Node])
    case text(String)
    /// Markup this module wrote itself (never user data): CSS, the doctype, comments.
    case trusted(String)

    /// One attribute; order is kept as given so output is byte-for-byte deterministic.
    public struct Attribute: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    /// An element with attributes given as ordered pairs.
    public static func el(_ name: String, _ attributes: [(String, String)] = [], _ children: [Node] = []) -> Node {
        .element(name: name, attributes: attributes.map { Attribute($0.0, $0.1) }, children: children)
    }

    /// An element holding only text.
    public static func el(_ name: String, _ attributes: [(String, String)] = [], text: String) -> Node {
        .element(name: name, attributes: attributes.map { Attribute($0.0, $0.1) }, children: [.text(text)])
    }

    /// Serialises as XML (for standalone SVG files): empty elements self-close.
    public func xml() -> String {
        var out = ""
        write(to: &out, html: false)
        return out
    }

    /// Serialises as HTML5: void elements have no end tag; inline `<svg>` children stay XML-style.
    public func html() -> String {
        var out = ""
        write(to: &out, html: true)
        return out
    }

    private static let voidElements: Set<String> = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
    ]

    private func write(to out: inout String, html: Bool) {
        switch self {
        case let .text(text):
            out += Markup.escapeText(text)
        case let .trusted(markup):
            out += markup
        case let .element(name, attributes, children):
            out += "<" + name
            for attribute in attributes {
                out += " " + attribute.name + "=\"" + Markup.escapeAttribute(attribute.value) + "\""
            }
            // Inside <svg> (foreign content) HTML parsers accept self-closing tags, as XML does.
            let foreign = !html || name == "svg"
            if children.isEmpty {
                if html && Node.voidElements.contains(name) { out += ">"; return }
                if foreign { out += "/>"; return }
                out += "></" + name + ">"
                return
            }
            out += ">"
            for child in children { child.write(to: &out, html: foreign ? false : html) }
            out += "</" + name + ">"
        }
    }
}

/// Escaping rules shared by SVG and HTML.
public enum Markup {
    /// Escapes `&`, `<`, `>` and drops characters XML 1.0 forbids (C0 controls other than tab,
    /// newline and carriage return, lone surrogates, U+FFFE/U+FFFF), so hostile names can neither
    /// inject markup nor make an SVG file unparsable.
    public static func escapeText(_ text: String) -> String {
        escape(text, asAttribute: false)
    }

    /// `escapeText` plus both quote characters, and newlines and tabs as character references so
    /// attribute values survive XML attribute-value normalisation.
    public static func escapeAttribute(_ text: String) -> String {
        escape(text, asAttribute: true)
    }

    private static func escape(_ text: String, asAttribute: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where asAttribute: out += "&quot;"
            case "'" where asAttribute: out += "&#39;"
            case "\n" where asAttribute: out += "&#10;"
            case "\r" where asAttribute: out += "&#13;"
            case "\t" where asAttribute: out += "&#9;"
            default:
                if isAllowedInXML(scalar) { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// A string usable as an `id` or CSS class: lower-case ASCII letters, digits and dashes.
    public static func identifier(_ text: String) -> String {
        var out = ""
        var lastWasDash = false
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar); lastWasDash = false
            } else if !lastWasDash && !out.isEmpty {
                out += "-"; lastWasDash = true
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        if let first = out.unicodeScalars.first, ("a"..."z").contains(first) { return out }
        return "x" + out
    }

    static func isAllowedInXML(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD: return true
        case 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }
}
