import Foundation
import XCTest

@testable import CheckpointEngine

/// The engine's products: BLAS on its caller's thread only, the engine's own split of large
/// products, and the guarantee of `Docs/determinism.md` on whichever kernel OpenBLAS runs.
final class BLASTests: XCTestCase {
  override func setUpWithError() throws {
    try BLAS.load()
  }

  func testTheLibraryNeverUsesItsOwnPool() {
    XCTAssertEqual(BLAS.libraryThreads, 1)
  }

  /// `make test` runs the engine tests once per kernel family this CPU can run
  /// (`Scripts/test-blas-cores.sh`); this proves that each run really used the one it forced.
  func testAForcedKernelIsTheOneInUse() throws {
    guard let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !forced.isEmpty else {
      throw XCTSkip("OPENBLAS_CORETYPE is not set: OpenBLAS runs \(BLAS.core ?? "an unnamed kernel")")
    }
    let core = try XCTUnwrap(BLAS.core, "the BLAS library does not name its kernel")
    XCTAssertEqual(
      core.lowercased(), forced.lowercased(), "OPENBLAS_CORETYPE=\(forced) but OpenBLAS runs \(core)")
  }

  func testPiecesDependOnlyOnShapesAndThreads() {
    XCTAssertEqual(BLAS.pieceCount(m: 512, n: 2048, k: 512, threads: 1), 1)
    XCTAssertEqual(BLAS.pieceCount(m: 512, n: 2048, k: 512, threads: 2), 2)
    XCTAssertEqual(BLAS.pieceCount(m: 512, n: 2048, k: 512, threads: 3), 3)
    // Too little work for a second piece.
    XCTAssertEqual(BLAS.pieceCount(m: 8, n: 96, k: 96, threads: 4), 1)
    XCTAssertEqual(BLAS.pieceCount(m: 16, n: 16, k: 100_000, threads: 4), 1)
  }

  /// Every split (along m or n, each transposition) against a product in Double, and the same
  /// call twice against itself bit for bit.
  func testSplitProductsAreRightAndRepeatable() {
    for (m, n, k) in [(300, 64, 128), (48, 700, 96), (128, 128, 200), (5, 7, 3)] {
      for transA in [false, true] {
        for transB in [false, true] {
          let a = values(m * k, seed: UInt64(m + k))
          let b = values(k * n, seed: UInt64(n * 3 + k))
          let c0 = values(m * n, seed: 7)
          let lda = transA ? m : k
          let ldb = transB ? k : n
          var expected = [Double](repeating: 0, count: m * n)
          for i in 0..<m {
            for j in 0..<n {
              var sum = 0.0
              for l in 0..<k {
                let x = transA ? a[l * lda + i] : a[i * lda + l]
                let y = transB ? b[j * ldb + l] : b[l * ldb + j]
                sum += Double(x) * Double(y)
              }
              expected[i * n + j] = 0.5 * sum + 0.25 * Double(c0[i * n + j])
            }
          }
          var first: [Float]?
          for threads in [1, 2, 3, 1, 2, 3] {
            var c = c0
            a.withUnsafeBufferPointer { ap in
              b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                  BLAS.gemm(
                    transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!,
                    lda: lda,
                    b: bp.baseAddress!, ldb: ldb, beta: 0.25, c: cp.baseAddress!, ldc: n, threads: threads)
                }
              }
            }
            let label = "\(m)×\(n)×\(k) transA \(transA) transB \(transB), \(threads) threads"
            let worst = zip(c, expected).map { abs(Double($0) - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-4, label)
            if threads == 1 {
              if let first {
                XCTAssertEqual(c.map(\.bitPattern), first.map(\.bitPattern), "\(label): repeated")
              } else {
                first = c
              }
            }
          }
        }
      }
    }
  }

  /// Attention's (batch item, head) pairs run side by side: the same bits on any thread count.
  func testAttentionGivesTheSameBitsOnAnyThreadCount() {
    let (e, heads, batch, targets, sources) = (64, 4, 3, 40, 48)
    func linear(_ seed: UInt64) -> Linear {
      Linear(
        weight: DenseWeight(values: values(e * e, seed: seed), inFeatures: e, outFeatures: e, layout: .outIn),
        bias: values(e, seed: seed + 100))
    }
    let attention = MultiHeadAttention(
      query: linear(1), key: linear(2), value: linear(3), output: linear(4), heads: heads)
    let x = Matrix(shape: [batch, targets, e], values: values(batch * targets * e, seed: 5))
    let memory = Matrix(shape: [batch, sources, e], values: values(batch * sources * e, seed: 6))
    let keep = (0..<(batch * sources)).map { $0 % 7 != 3 }
    let one = attention(x, memory: memory, keep: keep, causal: false, threads: 1)
    for threads in [2, 3, 4] {
      let other = attention(x, memory: memory, keep: keep, causal: false, threads: threads)
      XCTAssertLessThanOrEqual(other.maxAbsDifference(to: one), 1e-6, "\(threads) threads")
    }
    for threads in [1, 2, 3] {
      assertBitIdentical(
        [attention(x, memory: memory, keep: keep, causal: true, threads: threads)],
        [attention(x, memory: memory, keep: keep, causal: true, threads: threads)],
        "\(threads) threads, repeated")
    }
  }

  private func values(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
    return (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(state >> 40) / Float(1 << 24) - 0.5
    }
  }
}
