internal import CBLAS
import CheckpointCore

/// The engine's one door to BLAS: single-precision matrix products.
///
/// Everything is row-major. `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C`,
/// where `op` transposes when asked. Leading dimensions are the row strides of
/// the matrices as stored, so sub-blocks of larger buffers can be passed directly.
enum BLAS {
  /// Why the BLAS library could not be loaded, or `nil` once it is (tried once per process).
  private static let loadFailure: String? = checkpointkit_blas_load().map { String(cString: $0) }

  /// Loads the BLAS library (OpenBLAS on Linux) if it is not loaded yet; throws
  /// `unsupported` naming every library tried when it cannot be. Every forward pass
  /// starts here (``Model/init(_:architecture:options:)``).
  static func load() throws {
    if let loadFailure { throw CheckpointError(.unsupported, "cannot load BLAS: \(loadFailure)") }
  }

  /// Row-major `sgemm`.
  static func gemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    guard m > 0, n > 0 else { return }
    checkpointkit_sgemm(
      transA ? 1 : 0, transB ? 1 : 0, numericCast(m), numericCast(n), numericCast(k), alpha, a,
      numericCast(lda), b, numericCast(ldb), beta, c, numericCast(ldc))
  }
}

extension BLAS {
  /// Runs `body` with every BLAS call limited to the calling thread and BLAS's own worker
  /// threads stopped, then restores the previous thread count.
  ///
  /// For products issued from several of the engine's own threads at once: OpenBLAS's
  /// thread pool serves one caller at a time, and its idle workers busy-wait for a while
  /// after start-up and after each call, competing with the engine's threads for the cores.
  /// The pool starts again on the next multi-threaded call. The count is process-wide, so two
  /// such sections should not overlap (the engine runs one forward pass at a time).
  static func singleThreaded<Result>(_ body: () throws -> Result) rethrows -> Result {
    let previous = checkpointkit_blas_threads()
    if previous > 1 {
      checkpointkit_set_blas_threads(1)
      checkpointkit_park_blas_threads()
    }
    defer { if previous > 1 { checkpointkit_set_blas_threads(previous) } }
    return try body()
  }
}
