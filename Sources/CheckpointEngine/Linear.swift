/// A dense weight matrix as a framework stores it.
///
/// PyTorch stores `nn.Linear.weight` as `[out, in]`; Keras stores a `Dense`
/// kernel as `[in, out]`. Both are used as stored: the product picks the
/// transposition, so no copy is made when loading.
struct DenseWeight: Sendable {
  /// How the matrix is laid out.
  enum Layout: Sendable {
    /// `[out, in]` (PyTorch, ONNX, HF).
    case outIn
    /// `[in, out]` (Keras kernels).
    case inOut
  }

  var values: [Float]
  var inFeatures: Int
  var outFeatures: Int
  var layout: Layout

  /// `y[rows, outputs] = x[rows, in] · W[:, outputs] + beta · y`, for a range of output features.
  func multiply(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, outputs: Range<Int>? = nil,
    into y: UnsafeMutablePointer<Float>, ldy: Int, beta: Float = 0
  ) {
    let range = outputs ?? 0..<outFeatures
    values.withUnsafeBufferPointer { w in
      guard let base = w.baseAddress else { return }
      switch layout {
      case .outIn:
        BLAS.gemm(
          transB: true, m: rows, n: range.count, k: inFeatures, a: x, lda: ldx,
          b: base + range.lowerBound * inFeatures, ldb: inFeatures, beta: beta, c: y, ldc: ldy)
      case .inOut:
        BLAS.gemm(
          m: rows, n: range.count, k: inFeatures, a: x, lda: ldx, b: base + range.lowerBound,
          ldb: outFeatures, beta: beta, c: y, ldc: ldy)
      }
    }
  }
}

/// A fully connected layer: `y = x · Wᵀ + b` (PyTorch `nn.Linear`, Keras `Dense` without activation).
struct Linear: Sendable {
  var weight: DenseWeight
  var bias: [Float]?

  var inFeatures: Int { weight.inFeatures }
  var outFeatures: Int { weight.outFeatures }

  /// `y[rows, out] = x[rows, in] · W + b`, rows at strides `ldx` and `ldy`.
  func apply(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int
  ) {
    if let bias {
      for row in 0..<rows {
        (y + row * ldy).update(from: bias, count: outFeatures)
      }
    }
    weight.multiply(x, rows: rows, ldx: ldx, into: y, ldy: ldy, beta: bias == nil ? 0 : 1)
  }
}
