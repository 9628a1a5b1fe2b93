// GearboxReport/Charts/Palette: the report's colours: one per variant (the same in every chart),
// fixed colours for meanings (violation, target, predicted), and a sequential map for heatmaps.

import Foundation

/// An sRGB colour.
public struct Color: Sendable, Equatable {
    public var red: UInt8, green: UInt8, blue: UInt8
    public init(red: UInt8, green: UInt8, blue: UInt8) { self.red = red; self.green = green; self.blue = blue }

    /// Parses "#rrggbb"; nil otherwise.
    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
        self.init(red: UInt8((value >> 16) & 0xFF), green: UInt8((value >> 8) & 0xFF), blue: UInt8(value & 0xFF))
    }

    /// "#rrggbb", lower case.
    public var hex: String {
        let digits = String((Int(red) << 16) | (Int(green) << 8) | Int(blue), radix: 16)
        return "#" + String(repeating: "0", count: 6 - digits.count) + digits
    }

    /// Relative luminance (WCAG), 0 = black, 1 = white.
    public var luminance: Double {
        func linear(_ channel: UInt8) -> Double {
            let c = Double(channel) / 255
            return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    }

    /// Black or white, whichever reads better on this colour.
    public var contrastingText: Color { luminance > 0.36 ? Palette.ink : Color(red: 255, green: 255, blue: 255) }

    /// Linear interpolation between two colours, `t` in 0...1.
    public static func mix(_ a: Color, _ b: Color, _ t: Double) -> Color {
        let clamped = min(1, max(0, t))
        func channel(_ x: UInt8, _ y: UInt8) -> UInt8 {
            UInt8((Double(x) + (Double(y) - Double(x)) * clamped).rounded())
        }
        return Color(red: channel(a.red, b.red), green: channel(a.green, b.green), blue: channel(a.blue, b.blue))
    }
}

/// Colours with a meaning, shared by every chart and the page's CSS.
public enum Palette {
    /// Categorical colours for variants: Tableau 10 (red moved last: red means violation), then ten
    /// darker companions so portfolios of up to 20 variants need no repeated colour.
    public static let categorical: [Color] = [
        "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac", "#e15759",
        "#1f4e79", "#b35806", "#2d6a2e", "#6a3d9a", "#17807e", "#8c6d1f", "#5b3a29", "#c2185b", "#525252", "#9e0142",
    ].compactMap { Color(hex: $0) }

    public static let ink = Color(red: 0x1f, green: 0x29, blue: 0x37)
    public static let mutedInk = Color(red: 0x5b, green: 0x67, blue: 0x78)
    public static let grid = Color(red: 0xe3, green: 0xe7, blue: 0xed)
    public static let axis = Color(red: 0x9a, green: 0xa4, blue: 0xb2)
    public static let violation = Color(red: 0xc8, green: 0x1e, blue: 0x1e)
    public static let target = Color(red: 0x37, green: 0x41, blue: 0x51)
    public static let missing = Color(red: 0xf1, green: 0xf3, blue: 0xf6)
    public static let frequency = Color(red: 0x2f, green: 0x4b, blue: 0x7c)

    /// The colour of the `index`-th series; cycles past the palette's end.
    public static func series(_ index: Int) -> Color {
        categorical[((index % categorical.count) + categorical.count) % categorical.count]
    }

    /// Stops of a perceptually ordered sequential map (light yellow → dark blue, after "YlGnBu").
    static let sequentialStops: [Color] = [
        "#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58",
    ].compactMap { Color(hex: $0) }

    /// The sequential colour for `t` in 0...1 (0 = lightest).
    public static func sequential(_ t: Double) -> Color {
        let stops = sequentialStops
        let clamped = min(1, max(0, t.isFinite ? t : 0))
        let position = clamped * Double(stops.count - 1)
        let index = min(stops.count - 2, Int(position))
        return Color.mix(stops[index], stops[index + 1], position - Double(index))
    }
}
