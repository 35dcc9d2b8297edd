#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Layer normalisation over the last dimension:
/// `y = (x − mean) / √(var + eps) · γ + β`, with the biased variance.
///
/// Mean and variance are computed in two passes (mean first, then the squared
/// deviations), which keeps small-variance rows accurate.
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
            var sum: Float = 0
            for j in 0..<n { sum += buffer[start + j] }
            let mean = sum / Float(n)
            var squares: Float = 0
            for j in 0..<n {
              let d = buffer[start + j] - mean
              squares += d * d
            }
            let scale = 1 / sqrtf(squares / Float(n) + eps)
            for j in 0..<n {
              buffer[start + j] = (buffer[start + j] - mean) * scale * g[j] + b[j]
            }
          }
        }
      }
    }
  }
}
