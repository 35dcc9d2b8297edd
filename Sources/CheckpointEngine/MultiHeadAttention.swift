import CheckpointCore
import Dispatch

/// Multi-head scaled dot-product attention (PyTorch `nn.MultiheadAttention`, Keras
/// `MultiHeadAttention`, HF self/cross attention).
///
/// `softmax(Q_h K_hᵀ / √d + mask) V_h` per head, heads concatenated, then the output
/// projection. Masked keys get −∞ before the softmax (which subtracts the row maximum).
struct MultiHeadAttention: Sendable {
  var query: Linear
  var key: Linear
  var value: Linear
  var output: Linear
  var heads: Int

  /// Per-head query/key width.
  var keyDim: Int { query.outFeatures / heads }
  /// Per-head value width.
  var valueDim: Int { value.outFeatures / heads }

  /// Attends from `x` `[B, T, E]` to `memory` `[B, S, E]`.
  ///
  /// - Parameters:
  ///   - keep: `[B·S]`, false where a key is padding (PyTorch `key_padding_mask` True).
  ///   - causal: blocks keys after the query position.
  ///   - threads: the threads for the projections' products and for the (batch item, head)
  ///     pairs, which run side by side.
  func callAsFunction(
    _ x: Matrix, memory: Matrix, keep: [Bool]? = nil, causal: Bool = false, threads: Int = Processors.threads
  ) -> Matrix {
    let batch = x.shape[0]
    let targets = x.shape[1]
    let sources = memory.shape[1]
    let q = x.applying(query, threads: threads)
    let k = memory.applying(key, threads: threads)
    let v = memory.applying(value, threads: threads)
    let dk = keyDim
    let dv = valueDim
    let ldq = query.outFeatures
    let ldv = value.outFeatures
    let scale = 1 / Float(dk).squareRoot()
    var context = Matrix(zeros: [batch, targets, ldv])
    q.values.withUnsafeBufferPointer { qb in
      k.values.withUnsafeBufferPointer { kb in
        v.values.withUnsafeBufferPointer { vb in
          context.values.withUnsafeMutableBufferPointer { cb in
            let (qp, kp, vp) = (
              UnsafeSendablePointer(qb.baseAddress!), UnsafeSendablePointer(kb.baseAddress!),
              UnsafeSendablePointer(vb.baseAddress!)
            )
            let cp = UnsafeSendablePointer(cb.baseAddress!)
            // One (batch item, head) pair per task, each with scores of its own: a pair's values
            // do not depend on the thread that computes it, or on how many there are.
            let body: @Sendable (Int) -> Void = { pair in
              let (b, head) = pair.quotientAndRemainder(dividingBy: heads)
              let sp = UnsafeMutablePointer<Float>.allocate(capacity: targets * sources)
              defer { sp.deallocate() }
              BLAS.gemm(
                transB: true, m: targets, n: sources, k: dk, alpha: scale,
                a: qp.pointer + b * targets * ldq + head * dk, lda: ldq,
                b: kp.pointer + b * sources * ldq + head * dk, ldb: ldq, c: sp, ldc: sources)
              for t in 0..<targets {
                Self.softmax(sp + t * sources, count: sources, query: t, batch: b, keep: keep, causal: causal)
              }
              BLAS.gemm(
                m: targets, n: dv, k: sources, a: UnsafePointer(sp), lda: sources,
                b: vp.pointer + b * sources * ldv + head * dv, ldb: ldv,
                c: cp.pointer + b * targets * ldv + head * dv, ldc: ldv)
            }
            let pairs = batch * heads
            if threads > 1, pairs > 1, targets * sources * (dk + dv) * pairs >= BLAS.minimumPieceWork {
              DispatchQueue.concurrentPerform(iterations: pairs, execute: body)
            } else {
              for pair in 0..<pairs { body(pair) }
            }
          }
        }
      }
    }
    return context.applying(output, threads: threads)
  }

  /// The attention weights of query `query` of batch item `batch` from its scores `row`
  /// (`count` keys), in place: masked keys weigh exactly zero (a fully masked row gives NaN,
  /// as in PyTorch).
  private static func softmax(
    _ row: UnsafeMutablePointer<Float>, count sources: Int, query t: Int, batch b: Int, keep: [Bool]?,
    causal: Bool
  ) {
    if let keep {
      for s in 0..<sources where !keep[b * sources + s] { row[s] = -.infinity }
    }
    if causal, t + 1 < sources {
      for s in (t + 1)..<sources { row[s] = -.infinity }
    }
    var largest = -Float.infinity
    for s in 0..<sources { largest = max(largest, row[s]) }
    for s in 0..<sources { row[s] -= largest }
    VectorMath.exp(row, count: sources)
    if let keep {
      for s in 0..<sources where !keep[b * sources + s] { row[s] = 0 }
    }
    if causal, t + 1 < sources {
      for s in (t + 1)..<sources { row[s] = 0 }
    }
    var sum: Float = 0
    for s in 0..<sources { sum += row[s] }
    let inverse = 1 / sum
    for s in 0..<sources { row[s] *= inverse }
  }
}
