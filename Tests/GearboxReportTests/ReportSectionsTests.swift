// Tests for single report sections built from edited fixture tables: the memory section leaves
// out columns nothing was measured for, and the switch-cost section explains an empty table, a
// warm page cache and mask switches instead of drawing empty figures.

import Foundation
import GearboxCore
import GearboxProfiler
import Testing
@testable import GearboxReport

@Suite struct ReportSectionsTests {
    private func section(_ id: String, editing edit: (inout ReportInputs) -> Void) throws -> ReportSection {
        var inputs = try fixtureInputs()
        edit(&inputs)
        let document = ReportBuilder(inputs: inputs).build()
        return try #require(document.sections.first { $0.id == id })
    }

    private func tables(_ section: ReportSection) -> [ReportTable] {
        section.blocks.compactMap { if case let .table(table) = $0 { return table } else { return nil } }
    }

    private func notes(_ section: ReportSection) -> [String] {
        section.blocks.compactMap { if case let .note(text) = $0 { return text } else { return nil } }
    }

    @Test func memoryTableDropsColumnsNothingWasMeasuredFor() throws {
        let memory = try section("memory") { inputs in
            for index in inputs.lut.variants.indices {
                let bytes = inputs.lut.variants[index].memoryBytes
                inputs.lut.variants[index].memory = .init(engineBytes: bytes, rssDeltaBytes: nil, peakRSSDeltaBytes: nil)
            }
            inputs.lut.portfolioMemory = nil
        }
        let table = try #require(tables(memory).first)
        #expect(table.header == ["Variant", "Format", "Parameters", "Engine bytes"])
        #expect(table.rows.allSatisfy { $0.count == 4 })
        #expect(table.rows.contains { $0.first?.text == "sum of all variants" })
        #expect(!table.rows.flatMap { $0 }.contains { $0.text == "not measured" })
    }

    @Test func memoryTableKeepsMeasuredRSSAndMarksTheGaps() throws {
        let memory = try section("memory") { inputs in
            for index in inputs.lut.variants.indices {
                let bytes = inputs.lut.variants[index].memoryBytes
                inputs.lut.variants[index].memory = .init(engineBytes: bytes, rssDeltaBytes: index == 0 ? 4096 : nil, peakRSSDeltaBytes: nil)
            }
        }
        let table = try #require(tables(memory).first)
        #expect(table.header.contains("RSS growth"))
        #expect(!table.header.contains("Peak RSS growth"))
        let rssColumn = try #require(table.header.firstIndex(of: "RSS growth"))
        #expect(table.rows[1][rssColumn].text == "not measured", "a variant without a measurement says so")
    }

    @Test func switchCostSectionExplainsAnEmptyTable() throws {
        let switchCost = try section("switch-cost") { $0.lut.switchCostNs = [:] }
        #expect(tables(switchCost).isEmpty)
        #expect(notes(switchCost).contains { $0.contains("no switch costs") })
    }

    @Test func switchCostSectionSaysWhenTheCacheWasNotDroppedAndListsMaskSwitches() throws {
        let switchCost = try section("switch-cost") { inputs in
            let names = inputs.lut.variants.map(\.name)
            var matrix: [String: [String: LookupTable.SwitchCost]] = [:]
            for from in names {
                for to in names where from != to {
                    matrix[from, default: [:]][to] = .init(cold: 2e6, warm: 1e5, coldCache: "warm-cache",
                                                           maskSwitch: from == names[0] && to == names[1] ? 3e3 : nil)
                }
            }
            inputs.lut.switchCostNs = matrix
        }
        #expect(notes(switchCost).contains { $0.contains("warm page cache") })
        let all = tables(switchCost)
        #expect(all.contains { $0.caption.contains("Cold switch cost") })
        let mask = try #require(all.first { $0.caption.contains("Mask switches") })
        #expect(mask.rows.count == 1)
        #expect(mask.header == ["From", "To", "Mask switch alone", "Warm switch"])
    }
}
