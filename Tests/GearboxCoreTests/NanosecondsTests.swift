import Foundation
import Testing
@testable import GearboxCore

private struct Span: Codable, Equatable {
    var latencyNs: Nanoseconds
}

@Suite struct NanosecondsTests {
    private func json(_ value: Nanoseconds) throws -> String {
        String(decoding: try JSONFile.encoder().encode(Span(latencyNs: value)), as: UTF8.self)
    }

    @Test func wholeValuesEncodeAsJSONIntegers() throws {
        #expect(try json(1_250_000).contains("\"latencyNs\" : 1250000\n"))
        #expect(try json(0).contains("\"latencyNs\" : 0\n"))
        #expect(try json(-42).contains("\"latencyNs\" : -42\n"))
    }

    @Test func fractionalValuesEncodeAsJSONReals() throws {
        #expect(try json(1234.5).contains("\"latencyNs\" : 1234.5\n"))
    }

    @Test func encodesTheBytesTheReplacedIntAndDoubleFieldsHad() throws {
        struct AsInt: Codable { var latencyNs: Int }
        struct AsDouble: Codable { var latencyNs: Double }
        let encoder = JSONFile.encoder()
        for whole in [0, 1, 999, 8_000_000, 123_456_789_012] {
            #expect(try encoder.encode(Span(latencyNs: Nanoseconds(whole))) == encoder.encode(AsInt(latencyNs: whole)))
        }
        for real in [0.0, 1.5, 2_500_000.0, 1234.0625, 0.001, 3e9] {
            #expect(try encoder.encode(Span(latencyNs: Nanoseconds(real))) == encoder.encode(AsDouble(latencyNs: real)))
        }
    }

    @Test func decodesIntegersAndRealsAndRoundTrips() throws {
        let decoder = JSONDecoder()
        #expect(try decoder.decode(Span.self, from: Data(#"{"latencyNs": 1250000}"#.utf8)).latencyNs == 1_250_000)
        #expect(try decoder.decode(Span.self, from: Data(#"{"latencyNs": 2.25}"#.utf8)).latencyNs == 2.25)
        for value: Nanoseconds in [0, 7, 1234.5, 8e6] {
            let span = Span(latencyNs: value)
            #expect(try decoder.decode(Span.self, from: JSONFile.encoder().encode(span)) == span)
        }
    }

    @Test func arithmeticAndComparison() {
        let a: Nanoseconds = 1500, b: Nanoseconds = 500
        #expect(a + b == 2000)
        #expect(a - b == 1000)
        #expect(a * 2 == 3000)
        #expect(0.5 * a == 750)
        #expect(a / 3 == Nanoseconds(500))
        let ratio: Double = a / b
        #expect(ratio == 3)
        #expect(-b == -500)
        #expect(b < a && !(a < b))
        #expect([a, b, .zero].max() == a)
        var c = a
        c += b
        c *= 2
        #expect(c == 4000)
    }

    @Test func convertsUnitsAndDuration() {
        #expect(Nanoseconds(seconds: 1.5) == 1_500_000_000)
        #expect(Nanoseconds(milliseconds: 8) == 8_000_000)
        #expect(Nanoseconds(microseconds: 2.5) == 2500)
        #expect(Nanoseconds(milliseconds: 8).milliseconds == 8)
        #expect(Nanoseconds(2_500_000_000).seconds == 2.5)
        #expect(Nanoseconds(3000).microseconds == 3)
        #expect(Nanoseconds(Duration.milliseconds(3)) == 3_000_000)
        #expect(Nanoseconds(1_250_000).duration == .microseconds(1250))
        #expect(Duration(Nanoseconds(2.4)) == .nanoseconds(2))
        #expect(Nanoseconds(2.6).wholeNanoseconds == 3)
    }

    @Test func describesWithTheUnit() {
        #expect("\(Nanoseconds(1250))" == "1250 ns")
        #expect("\(Nanoseconds(2.5))" == "2.5 ns")
    }

    @Test func monotonicClockMeasuresElapsedTimeAsNanoseconds() {
        let start = MonotonicClock.nowNs()
        let instant = MonotonicClock.now()
        let elapsed = MonotonicClock.elapsed(since: start)
        #expect(elapsed >= .zero)
        #expect(MonotonicClock.elapsed(since: instant) >= .zero)
        #expect(instant.advanced(by: Nanoseconds(1000)).nanoseconds(since: instant) == 1000)
        #expect(MonotonicClock.reportedResolution == Nanoseconds(MonotonicClock.reportedResolutionNs()))
    }
}
