// Tests for GearboxHardware/CPUSet: the kernel's CPU list syntax both ways.

import Foundation
import GearboxHardware
import Testing

@Suite struct CPUSetTests {
    @Test(arguments: [
        ("0-3,8", [0, 1, 2, 3, 8]),
        ("1", [1]),
        ("", []),
        ("0-1\n", [0, 1]),
        ("8,0-3", [0, 1, 2, 3, 8]),
        ("0-7:2", [0, 2, 4, 6]),
        ("2,2,2", [2]),
    ])
    func parsesKernelListSyntax(text: String, cpus: [Int]) throws {
        #expect(try CPUSet(parsing: text).cpus == cpus)
    }

    @Test(arguments: ["a", "3-1", "1,,2", "1-2-3", "-1", "0-3:0", "4:2"])
    func rejectsMalformedListsWithOneLine(text: String) {
        do {
            _ = try CPUSet(parsing: text)
            Issue.record("\"\(text)\" parsed")
        } catch let error as HardwareError {
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func formatsRunsAsRanges() {
        #expect(CPUSet([0, 1, 2, 3, 8]).listString == "0-3,8")
        #expect(CPUSet([0, 1]).listString == "0-1")
        #expect(CPUSet([5, 3, 1]).listString == "1,3,5")
        #expect(CPUSet.empty.listString == "")
    }

    @Test func formattingAndParsingRoundTrip() throws {
        for cpus in [[0], [0, 2, 3, 4, 9, 10], Array(0..<64), [1, 3, 5, 6, 7]] {
            let set = CPUSet(cpus)
            #expect(try CPUSet(parsing: set.listString) == set)
        }
    }

    @Test func encodesAsAPlainArray() throws {
        let data = try JSONEncoder().encode(CPUSet([3, 1]))
        #expect(String(decoding: data, as: UTF8.self) == "[1,3]")
        #expect(try JSONDecoder().decode(CPUSet.self, from: data) == [1, 3])
    }

    @Test func setAlgebra() {
        let a: CPUSet = [0, 1, 2], b: CPUSet = [2, 3]
        #expect(a.union(b) == [0, 1, 2, 3])
        #expect(a.intersection(b) == [2])
        #expect(a.subtracting(b) == [0, 1])
        #expect(CPUSet([1, 2]).isSubset(of: a))
        #expect(a.contains(cpu: 1) && !a.contains(cpu: 5))
    }
}
