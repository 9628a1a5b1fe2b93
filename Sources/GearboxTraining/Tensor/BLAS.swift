// GearboxTraining/BLAS: the one call into OpenBLAS the trainer makes (row-major sgemm), with
// Swift-sized arguments so no C types leak out of this file.

import CMalloc
import COpenBLAS

enum BLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, all row-major. The pointers are a buffer's
    /// `baseAddress`, passed on as cblas_sgemm takes them; nil only for an empty buffer, which
    /// a call with m, n and k > 0 never has.
    static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>?, lda: Int, b: UnsafePointer<Float>?, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>?, ldc: Int
    ) {
        guard m > 0, n > 0, let c else { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = 0 } } }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Keeps freed activation buffers in the heap instead of returning them to the kernel:
    /// training reallocates the same large arrays every batch, and without this glibc maps and
    /// unmaps them each time, so page faults cost more than the convolutions.
    static func keepLargeAllocationsInHeap() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 512 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        #endif
    }

    /// Limits OpenBLAS's own thread pool (the trainer shares a small machine).
    static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }
}
