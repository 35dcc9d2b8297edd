/// Layer normalisation over the last dimension:
/// `y = (x − mean) / √(var + eps) · γ + β`, with the biased variance.
///
/// Mean and variance are computed in two passes (mean first, then the squared
/// deviations) with double-precision sums, which keeps rows with a large offset
/// and a small spread accurate; the normalisation itself is float32.
struct LayerNorm: Sendable {
  var gamma: [Float]
  var beta: [Float]
  var eps: Float

  var features: Int { gamma.count }

  /// Normalises each row of `x` in place.
  func apply(_ x: inout Matrix) {
    let n = features
    let rows = x.rows
    gamma.withUnsafeBufferPointer { g in
      beta.withUnsafeBufferPointer { b in
        x.values.withUnsafeMutableBufferPointer { buffer in
          for row in 0..<rows {
            let start = row * n
            var sum: Double = 0
            for j in 0..<n { sum += Double(buffer[start + j]) }
            let mean = sum / Double(n)
            var squares: Double = 0
            for j in 0..<n {
              let d = Double(buffer[start + j]) - mean
              squares += d * d
            }
            let scale = Float(1 / (squares / Double(n) + Double(eps)).squareRoot())
            for j in 0..<n {
              buffer[start + j] = Float(Double(buffer[start + j]) - mean) * scale * g[j] + b[j]
            }
          }
        }
      }
    }
  }
}
