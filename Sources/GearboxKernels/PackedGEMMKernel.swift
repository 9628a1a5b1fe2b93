// GearboxKernels/PackedGEMMKernel: the register-blocked micro-kernel behind the engine's dense
// convolutions. It multiplies a 6-row weight panel (prepacked at load as [k][6]) with a
// 16-column strip of activations, keeping the 6×16 block of C in twelve 8-lane registers.
//
// This module is compiled with `-target-cpu haswell` on x86-64 (AVX2 + FMA, see Package.swift),
// so `addingProduct` becomes one vfmadd231ps. Callers must check the CPU first
// (GearboxEngine's `KernelSupport`); nothing here may run on a CPU without AVX2/FMA.

/// Rows of C per micro-kernel call (weight panel height).
package let packedPanelRows = 6
/// Columns of C per micro-kernel call (activation strip width).
package let packedStripColumns = 16

/// The 6×16 block of C in twelve 8-lane accumulators. Always inlined, so after scalar
/// replacement the fields live in registers; the direct and indirect kernels share it.
private struct Tile6x16 {
    typealias V = SIMD8<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()

    /// Adds the outer product of one packed panel column (6 weights) and one 16-float B row.
    @inline(__always)
    mutating func add(panel pa: UnsafePointer<Float>, row pb: UnsafeRawPointer) {
        let b0 = pb.loadUnaligned(as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
        var s = V(repeating: pa[0])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = V(repeating: pa[1])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = V(repeating: pa[2])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = V(repeating: pa[3])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
        s = V(repeating: pa[4])
        c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
        s = V(repeating: pa[5])
        c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
    }

    /// Writes (or adds) the valid `rows` × `columns` part of the tile into C.
    @inline(__always)
    func store(into c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, accumulate: Bool) {
        if rows == 6 && columns == 16 {
            @inline(__always) func put(_ row: Int, _ lo: V, _ hi: V) {
                let p = UnsafeMutableRawPointer(c + row &* ldc)
                if accumulate {
                    p.storeBytes(of: lo + p.loadUnaligned(as: V.self), as: V.self)
                    p.storeBytes(of: hi + p.loadUnaligned(fromByteOffset: 32, as: V.self), toByteOffset: 32, as: V.self)
                } else {
                    p.storeBytes(of: lo, as: V.self)
                    p.storeBytes(of: hi, toByteOffset: 32, as: V.self)
                }
            }
            put(0, c00, c01); put(1, c10, c11); put(2, c20, c21)
            put(3, c30, c31); put(4, c40, c41); put(5, c50, c51)
            return
        }
        // Edge block: spill to the stack, copy the valid part.
        withUnsafeTemporaryAllocation(of: V.self, capacity: 12) { spill in
            spill[0] = c00; spill[1] = c01; spill[2] = c10; spill[3] = c11; spill[4] = c20; spill[5] = c21
            spill[6] = c30; spill[7] = c31; spill[8] = c40; spill[9] = c41; spill[10] = c50; spill[11] = c51
            guard let base = spill.baseAddress else { return }
            let values = UnsafeRawPointer(base).assumingMemoryBound(to: Float.self)
            for r in 0..<rows {
                let out = c + r &* ldc
                let row = values + r &* 16
                if accumulate {
                    for j in 0..<columns { out[j] += row[j] }
                } else {
                    for j in 0..<columns { out[j] = row[j] }
                }
            }
        }
    }
}

/// C[0..<rows, 0..<columns] = (accumulate ? C : 0) + A·B, where A is a packed 6-row panel
/// ([k][6], rows past `rows` zero) and B is k rows of 16 floats with row stride `ldb`.
@inline(never)
package func packedKernel6x16(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, k: Int,
                              _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, accumulate: Bool) {
    var tile = Tile6x16()
    var pa = a
    var pb = UnsafeRawPointer(b)
    let stride = ldb &* 4
    var i = 0
    while i < k {
        tile.add(panel: pa, row: pb)
        pa += 6
        pb += stride
        i &+= 1
    }
    tile.store(into: c, ldc: ldc, rows: rows, columns: columns, accumulate: accumulate)
}

/// As `packedKernel6x16`, but row i of B starts at `base + offsets[i]` (implicit im2col: the rows
/// are shifted views of a zero-padded input, so no im2col matrix is ever written).
@inline(never)
package func packedKernel6x16Indirect(_ a: UnsafePointer<Float>, base: UnsafePointer<Float>, offsets: UnsafePointer<Int>, k: Int,
                              _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, accumulate: Bool) {
    var tile = Tile6x16()
    var pa = a
    var po = offsets
    var i = 0
    while i < k {
        tile.add(panel: pa, row: UnsafeRawPointer(base + po.pointee))
        pa += 6
        po += 1
        i &+= 1
    }
    tile.store(into: c, ldc: ldc, rows: rows, columns: columns, accumulate: accumulate)
}

/// The 6×8 tail variant: C[0..<rows, 0..<columns ≤ 8] for the last few columns of a row of
/// strips, so a ragged end costs half a strip instead of a whole one.
@inline(never)
package func packedKernel6x8(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, k: Int,
                             _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, accumulate: Bool) {
    typealias V = SIMD8<Float>
    var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
    var pa = a
    var pb = UnsafeRawPointer(b)
    let stride = ldb &* 4
    var i = 0
    while i < k {
        let b0 = pb.loadUnaligned(as: V.self)
        c0 = c0.addingProduct(V(repeating: pa[0]), b0)
        c1 = c1.addingProduct(V(repeating: pa[1]), b0)
        c2 = c2.addingProduct(V(repeating: pa[2]), b0)
        c3 = c3.addingProduct(V(repeating: pa[3]), b0)
        c4 = c4.addingProduct(V(repeating: pa[4]), b0)
        c5 = c5.addingProduct(V(repeating: pa[5]), b0)
        pa += 6
        pb += stride
        i &+= 1
    }
    withUnsafeTemporaryAllocation(of: V.self, capacity: 6) { spill in
        guard let spilled = spill.baseAddress else { return }  // never: the capacity is 6
        spill[0] = c0; spill[1] = c1; spill[2] = c2; spill[3] = c3; spill[4] = c4; spill[5] = c5
        let values = UnsafeRawPointer(spilled).assumingMemoryBound(to: Float.self)
        for r in 0..<rows {
            let out = c + r &* ldc
            let row = values + r &* 8
            if accumulate {
                for j in 0..<columns { out[j] += row[j] }
            } else {
                for j in 0..<columns { out[j] = row[j] }
            }
        }
    }
}
