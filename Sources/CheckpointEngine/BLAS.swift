internal import CBLAS

/// The engine's one door to BLAS: single-precision matrix products.
///
/// Everything is row-major. `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C`,
/// where `op` transposes when asked. Leading dimensions are the row strides of
/// the matrices as stored, so sub-blocks of larger buffers can be passed directly.
enum BLAS {
  /// Row-major `sgemm`.
  static func gemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    guard m > 0, n > 0 else { return }
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      numericCast(m), numericCast(n), numericCast(k), alpha, a, numericCast(lda), b, numericCast(ldb),
      beta, c, numericCast(ldc))
  }
}

/// The BLAS library's own threads.
public enum BLASThreads {
  /// Stops the BLAS library's worker threads until a matrix product needs them.
  ///
  /// OpenBLAS starts its thread pool when it is loaded, and the idle workers
  /// spin for about 0.1 s: on a small machine, that is a core taken from a
  /// conversion that never multiplies a matrix. Call once at start; the pool
  /// is started again by the first product that uses threads.
  public static func stopIdleWorkers() {
    checkpointkit_blas_stop_idle_threads()
  }
}
