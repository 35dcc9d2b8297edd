import CheckpointCore
import Dispatch

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
  ///
  /// A product with few rows (an RNN step: the batch) by an `[in, out]` weight is split
  /// into column blocks small enough for OpenBLAS's small-matrix kernels, which read the
  /// weight in place instead of repacking all of it on every call (measured 1.9× faster
  /// for 8 rows × 512 × 2048).
  /// The input projection of a recurrent layer for one chunk of time steps:
  /// `G = X·Wᵀ + bias` for steps `t0..<t0 + n` of every sequence, batch-major, into `gates`
  /// (rows of `outFeatures`).
  ///
  /// `x` is `[batch, steps, ·]` with row stride `ldx`. When the chunk's rows are not
  /// contiguous there (a part of the sequence, batch > 1), they are gathered into
  /// `scratch` (room for `batch · n · inFeatures` values) first.
  // swift-format-ignore: FunctionParameterCount
  func projectSteps(
    _ x: UnsafePointer<Float>, ldx: Int, batch: Int, steps: Int, t0: Int, n: Int, bias: [Float],
    into gates: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, threads: Int
  ) {
    let width = outFeatures
    var a = x + t0 * ldx
    var lda = ldx
    if n < steps, batch > 1 {
      for b in 0..<batch {
        for s in 0..<n {
          (scratch + (b * n + s) * inFeatures).update(from: x + (b * steps + t0 + s) * ldx, count: inFeatures)
        }
      }
      a = UnsafePointer(scratch)
      lda = inFeatures
    }
    bias.withUnsafeBufferPointer { bias in
      for row in 0..<(batch * n) { (gates + row * width).update(from: bias.baseAddress!, count: width) }
    }
    multiply(a, rows: batch * n, ldx: lda, into: gates, ldy: width, beta: 1, threads: threads)
  }

  func multiply(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, outputs: Range<Int>? = nil,
    into y: UnsafeMutablePointer<Float>, ldy: Int, beta: Float = 0, threads: Int = Processors.threads
  ) {
    let range = outputs ?? 0..<outFeatures
    if layout == .inOut,
      let block = DenseWeight.blockWidth(
        rows: rows, inFeatures: inFeatures, columns: range.count, threads: threads)
    {
      let count = (range.count + block - 1) / block
      let output = UnsafeSendablePointer(y)
      let input = UnsafeSendablePointer(UnsafeMutablePointer(mutating: x))
      let body: @Sendable (Int) -> Void = { index in
        let start = range.lowerBound + index * block
        let end = min(start + block, range.upperBound)
        self.multiplyBlock(
          UnsafePointer(input.pointer), rows: rows, ldx: ldx, outputs: start..<end,
          into: output.pointer + (start - range.lowerBound), ldy: ldy, beta: beta, threads: 1)
      }
      if threads > 1 {
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
      } else {
        for index in 0..<count { body(index) }
      }
      return
    }
    multiplyBlock(x, rows: rows, ldx: ldx, outputs: range, into: y, ldy: ldy, beta: beta, threads: threads)
  }

  /// The largest `rows × columns × inner` product OpenBLAS hands to its small-matrix kernels.
  static let smallProductBudget = 1_000_000

  /// The width of the column blocks a product of `rows` rows by `columns` columns of an
  /// `[in, out]` weight is split into, or nil when it is not split: equal blocks, as many as
  /// the small-product budget needs, rounded up to a multiple of the threads.
  static func blockWidth(rows: Int, inFeatures: Int, columns: Int, threads: Int) -> Int? {
    let budget = smallProductBudget / max(1, rows * inFeatures) / 16 * 16
    guard rows <= 32, budget >= 16, columns > budget else { return nil }
    var blocks = (columns + budget - 1) / budget
    blocks = (blocks + threads - 1) / threads * threads
    return ((columns + blocks - 1) / blocks + 15) / 16 * 16
  }

  private func multiplyBlock(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, outputs range: Range<Int>,
    into y: UnsafeMutablePointer<Float>, ldy: Int, beta: Float, threads: Int
  ) {
    values.withUnsafeBufferPointer { w in
      guard let base = w.baseAddress else { return }
      switch layout {
      case .outIn:
        BLAS.gemm(
          transB: true, m: rows, n: range.count, k: inFeatures, a: x, lda: ldx,
          b: base + range.lowerBound * inFeatures, ldb: inFeatures, beta: beta, c: y, ldc: ldy,
          threads: threads)
      case .inOut:
        BLAS.gemm(
          m: rows, n: range.count, k: inFeatures, a: x, lda: ldx, b: base + range.lowerBound,
          ldb: outFeatures, beta: beta, c: y, ldc: ldy, threads: threads)
      }
    }
  }
}

extension DenseWeight {
  /// The same matrix stored `[in, out]` (a transposing copy when stored `[out, in]`).
  func inOutLayout() -> DenseWeight {
    guard layout == .outIn else { return self }
    var copy = [Float](repeating: 0, count: values.count)
    values.withUnsafeBufferPointer { source in
      copy.withUnsafeMutableBufferPointer { target in
        for row in 0..<outFeatures {
          for col in 0..<inFeatures { target[col * outFeatures + row] = source[row * inFeatures + col] }
        }
      }
    }
    return DenseWeight(values: copy, inFeatures: inFeatures, outFeatures: outFeatures, layout: .inOut)
  }
}

/// A fully connected layer: `y = x · Wᵀ + b` (PyTorch `nn.Linear`, Keras `Dense` without activation).
struct Linear: Sendable {
  var weight: DenseWeight
  var bias: [Float]?

  var inFeatures: Int { weight.inFeatures }
  var outFeatures: Int { weight.outFeatures }

  /// `y[rows, out] = x[rows, in] · W + b`, rows at strides `ldx` and `ldy`, on up to `threads` threads.
  func apply(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int,
    threads: Int = Processors.threads
  ) {
    if let bias {
      for row in 0..<rows {
        (y + row * ldy).update(from: bias, count: outFeatures)
      }
    }
    weight.multiply(x, rows: rows, ldx: ldx, into: y, ldy: ldy, beta: bias == nil ? 0 : 1, threads: threads)
  }
}

/// A raw pointer handed to worker threads that read it, or write disjoint parts of its memory.
struct UnsafeSendablePointer: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Float>
  init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
  /// For reading only.
  init(_ pointer: UnsafePointer<Float>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}
