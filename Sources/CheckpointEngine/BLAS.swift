internal import CBLAS
import CheckpointCore
import Dispatch

/// The engine's one door to BLAS: single-precision matrix products, each on its caller's thread.
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

  /// The threads one BLAS call uses: 1 once loaded (the library's pool is never used).
  static var libraryThreads: Int { Int(checkpointkit_blas_threads()) }

  /// The kernel family the BLAS library chose for this CPU (OpenBLAS's core name, which
  /// `OPENBLAS_CORETYPE` forces), or nil when the library does not say.
  static var core: String? { checkpointkit_blas_core().map { String(cString: $0) } }

  /// Row-major `sgemm` on the calling thread.
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
  /// The fewest multiply-adds a piece of a split product gets: below that, the threads'
  /// start-up and each piece's packing of the shared operand cost more than they save.
  static let minimumPieceWork = 1 << 20

  /// Row-major `sgemm` split between up to `threads` of the engine's own threads.
  ///
  /// BLAS itself always runs on its caller's thread (see `Sources/CBLAS`): the product is cut
  /// into pieces along the longer of `m` and `n`, in multiples of 16 rows or columns, and the
  /// pieces run side by side. The cut depends only on the shapes and `threads`, so the same
  /// product with the same thread count gives the same bits on a machine, whatever the library's
  /// own pool would do (see `Docs/determinism.md`).
  static func gemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
  ) {
    let alongN = n >= m
    let pieces = pieceCount(m: m, n: n, k: k, threads: threads)
    guard pieces > 1 else {
      gemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
        beta: beta, c: c, ldc: ldc)
      return
    }
    let length = alongN ? n : m
    let width = ((length + pieces - 1) / pieces + 15) / 16 * 16
    let (sa, sb, sc) = (UnsafeSendablePointer(a), UnsafeSendablePointer(b), UnsafeSendablePointer(c))
    DispatchQueue.concurrentPerform(iterations: (length + width - 1) / width) { piece in
      let start = piece * width
      let size = min(width, length - start)
      if alongN {
        gemm(
          transA: transA, transB: transB, m: m, n: size, k: k, alpha: alpha, a: sa.pointer, lda: lda,
          b: sb.pointer + (transB ? start * ldb : start), ldb: ldb, beta: beta, c: sc.pointer + start,
          ldc: ldc)
      } else {
        gemm(
          transA: transA, transB: transB, m: size, n: n, k: k, alpha: alpha,
          a: sa.pointer + (transA ? start : start * lda), lda: lda, b: sb.pointer, ldb: ldb, beta: beta,
          c: sc.pointer + start * ldc, ldc: ldc)
      }
    }
  }

  /// How many pieces ``gemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:threads:)`` cuts
  /// an `m × n × k` product into on `threads` threads (1: not cut).
  static func pieceCount(m: Int, n: Int, k: Int, threads: Int) -> Int {
    let length = max(m, n)
    guard threads > 1, length >= 32 else { return 1 }
    let work = m * n * k
    return max(1, min(threads, work / minimumPieceWork, length / 16))
  }
}
