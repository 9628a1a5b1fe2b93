// Tests for GearboxTraining/BlockPruning: the three masks of the UBP comparison at one global
// budget. Unstructured keeps the largest weights; aligned keeps whole tiles of the block grid;
// unaligned keeps whole r×c blocks at any offset; and kept zeros are filled for the ubp export.

import Testing
@testable import GearboxTraining

private func network(seed: UInt64 = 11) -> Network {
    var random = SeededRandom(seed: seed)
    return ModelKind.cnn(widths: [4, 6, 6, 8], inputShape: [1, 12, 12], classes: 5, random: &random)
}

private func keptCount(_ network: Network) -> Int {
    network.prunableWeights.reduce(0) { $0 + ($1.mask ?? []).filter { $0 != 0 }.count }
}

private func totalCount(_ network: Network) -> Int { network.prunableWeights.reduce(0) { $0 + $1.count } }

@Test(arguments: BlockPattern.allCases)
func everyPatternKeepsAboutTheBudgetAndZeroesWhatItDrops(pattern: BlockPattern) {
    let net = network()
    let kept = BlockPruning.prune(net, pattern: pattern, density: 0.3, rows: 2, columns: 2)
    let total = totalCount(net)
    #expect(Double(keptCount(net)) / Double(total) == kept)
    // The budget is met to within one block.
    #expect(abs(kept - 0.3) <= 4.0 / Double(total) + 1e-9, "\(pattern) kept \(kept)")
    for p in net.prunableWeights {
        let mask = p.mask ?? []
        #expect(mask.count == p.count)
        for i in 0..<p.count where mask[i] == 0 { #expect(p.value[i] == 0) }
    }
}

@Test func unstructuredKeepsTheLargestWeights() {
    let net = network()
    let magnitudes = net.prunableWeights.flatMap { $0.value.map(abs) }
    BlockPruning.prune(net, pattern: .unstructured, density: 0.25, rows: 2, columns: 2)
    var keptMagnitudes: [Float] = [], droppedMagnitudes: [Float] = []
    var offset = 0
    for p in net.prunableWeights {
        for i in 0..<p.count {
            if p.mask?[i] != 0 { keptMagnitudes.append(magnitudes[offset + i]) } else { droppedMagnitudes.append(magnitudes[offset + i]) }
        }
        offset += p.count
    }
    #expect((keptMagnitudes.min() ?? 0) >= (droppedMagnitudes.max() ?? 0))
}

@Test func alignedKeepsWholeTilesOfTheBlockGrid() {
    let net = network()
    BlockPruning.prune(net, pattern: .aligned, density: 0.3, rows: 2, columns: 2)
    for p in net.prunableWeights {
        let mask = p.mask ?? []
        let (rows, columns) = (p.shape[0], p.count / p.shape[0])
        for i in stride(from: 0, to: rows, by: 2) {
            for j in stride(from: 0, to: columns, by: 2) {
                let tile = (i..<min(i + 2, rows)).flatMap { r in (j..<min(j + 2, columns)).map { mask[r * columns + $0] } }
                #expect(Set(tile).count == 1, "\(p.name) tile at (\(i), \(j)) is partly kept")
            }
        }
    }
}

@Test func unalignedKeepsWholeBlocksSoEveryKeptWeightHasAFullBlockAroundIt() {
    let net = network()
    BlockPruning.prune(net, pattern: .unaligned, density: 0.3, rows: 2, columns: 2)
    #expect(keptCount(net) % 4 == 0)
    for p in net.prunableWeights {
        let mask = p.mask ?? []
        let (rows, columns) = (p.shape[0], p.count / p.shape[0])
        func kept(_ r: Int, _ c: Int) -> Bool { r >= 0 && r < rows && c >= 0 && c < columns && mask[r * columns + c] != 0 }
        for r in 0..<rows {
            for c in 0..<columns where kept(r, c) {
                let inSomeBlock = [(0, 0), (-1, 0), (0, -1), (-1, -1)].contains { dr, dc in
                    kept(r + dr, c + dc) && kept(r + dr + 1, c + dc) && kept(r + dr, c + dc + 1) && kept(r + dr + 1, c + dc + 1)
                }
                #expect(inSomeBlock, "\(p.name) keeps (\(r), \(c)) outside any 2×2 block")
            }
        }
    }
}

@Test func fillingKeptZerosLeavesNoKeptWeightAtZero() throws {
    let net = network()
    BlockPruning.prune(net, pattern: .unaligned, density: 0.3, rows: 2, columns: 2)
    let target = net.prunableWeights[0]
    let keptIndex = try #require((target.mask ?? []).firstIndex { $0 != 0 })
    target.value[keptIndex] = 0
    BlockPruning.fillKeptZeros(net)
    #expect(target.value[keptIndex] == .leastNormalMagnitude)
    for p in net.prunableWeights {
        for i in 0..<p.count where (p.mask ?? [])[i] != 0 { #expect(p.value[i] != 0) }
    }
}
