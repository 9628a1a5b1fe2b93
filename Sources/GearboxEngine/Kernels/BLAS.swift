// GearboxEngine/BLAS: the engine's only door to OpenBLAS (COpenBLAS). Typed Swift calls for the
// two routines the dense kernels use, and the switch that keeps OpenBLAS single-threaded so that
// the engine's own worker pool owns every thread.

import COpenBLAS

enum BLAS {
    /// Row-major C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C (cblas_sgemm).
    @inline(__always)
    static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                      alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
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
    static func useSingleThread() {
        openblas_set_num_threads(1)
    }

    /// OpenBLAS's name for the kernel set it picked for this CPU (e.g. "Haswell").
    static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}
