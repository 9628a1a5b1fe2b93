// GearboxEngine/BLAS: the engine's only door to OpenBLAS (COpenBLAS). Typed Swift calls for the
// two routines the dense kernels use, and the switch that keeps OpenBLAS single-threaded so that
// the engine's own worker pool owns every thread.

import COpenBLAS

package enum BLAS {
    /// Row-major C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C (cblas_sgemm).
    @inline(__always)
    package static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                      alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if !transposeA && !transposeB && smallKernelWouldAllocate(m: m, n: n, k: k) {
            // OpenBLAS's AVX-512 small-matrix NN kernel (SkylakeX/Cooperlake builds) mallocs a
            // buffer when n % 16 is 1…8; run the 16-aligned columns through sgemm and the few
            // remaining columns through sgemv so that inference never allocates.
            let aligned = n & ~15
            if aligned > 0 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(m), blasint(aligned), blasint(k), alpha, a, blasint(lda),
                            b, blasint(ldb), beta, c, blasint(ldc))
            }
            for j in aligned..<n {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(m), blasint(k), alpha, a, blasint(lda), b + j, blasint(ldb),
                            beta, c + j, blasint(ldc))
            }
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Whether OpenBLAS would take its small-matrix path for row-major NN with an allocating tail
    /// (column-major M' = n; permitted when M'·N'·K ≤ 10⁶, tail of 1…8 rows when K ≥ 32).
    @inline(__always)
    static func smallKernelWouldAllocate(m: Int, n: Int, k: Int) -> Bool {
        let tail = n & 15
        return tail >= 1 && tail <= 8 && k >= 32 && Double(m) * Double(n) * Double(k) <= 1_000_000
    }

    /// Row-major y[m] = alpha · A[m×n] · x + beta · y with strides (cblas_sgemv).
    @inline(__always)
    static func sgemv(m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      x: UnsafePointer<Float>, incx: Int, beta: Float = 0,
                      y: UnsafeMutablePointer<Float>, incy: Int) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(m), blasint(n), alpha, a, blasint(lda),
                    x, blasint(incx), beta, y, blasint(incy))
    }

    /// OpenBLAS must not start its own threads: the worker pool calls it from several threads.
    package static func useSingleThread() {
        openblas_set_num_threads(1)
    }

    /// OpenBLAS's name for the kernel set it picked for this CPU (e.g. "Haswell").
    static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}
