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
  func callAsFunction(_ x: Matrix, memory: Matrix, keep: [Bool]? = nil, causal: Bool = false) -> Matrix {
    let batch = x.shape[0]
    let targets = x.shape[1]
    let sources = memory.shape[1]
    let q = x.applying(query)
    let k = memory.applying(key)
    let v = memory.applying(value)
    let dk = keyDim
    let dv = valueDim
    let ldq = query.outFeatures
    let ldv = value.outFeatures
    let scale = 1 / Float(dk).squareRoot()
    var context = Matrix(zeros: [batch, targets, ldv])
    var scores = [Float](repeating: 0, count: targets * sources)
    q.values.withUnsafeBufferPointer { qb in
      k.values.withUnsafeBufferPointer { kb in
        v.values.withUnsafeBufferPointer { vb in
          context.values.withUnsafeMutableBufferPointer { cb in
            scores.withUnsafeMutableBufferPointer { sb in
              let sp = sb.baseAddress!
              for b in 0..<batch {
                for head in 0..<heads {
                  BLAS.gemm(
                    transB: true, m: targets, n: sources, k: dk, alpha: scale,
                    a: qb.baseAddress! + b * targets * ldq + head * dk, lda: ldq,
                    b: kb.baseAddress! + b * sources * ldq + head * dk, ldb: ldq, c: sp, ldc: sources)
                  for t in 0..<targets {
                    let row = sp + t * sources
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
                    // Masked keys weigh exactly zero (a fully masked row gives NaN, as in PyTorch).
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
                  BLAS.gemm(
                    m: targets, n: dv, k: sources, a: UnsafePointer(sp), lda: sources,
                    b: vb.baseAddress! + b * sources * ldv + head * dv, ldb: ldv,
                    c: cb.baseAddress! + b * targets * ldv + head * dv, ldc: ldv)
                }
              }
            }
          }
        }
      }
    }
    return context.applying(output)
  }
}
