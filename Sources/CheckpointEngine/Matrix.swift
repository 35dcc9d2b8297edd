import CheckpointCore

/// A dense row-major float32 array with a shape: the engine's working tensor.
///
/// Sequences are kept batch-first (`[B, T, F]`), so the rows of a sequence
/// tensor viewed as a matrix (``rows`` × ``columns``) are the time steps of
/// each batch item in turn, which is what the matrix products want.
public struct Matrix: Sendable, Equatable {
  /// The dimensions, outermost first.
  public var shape: [Int]
  /// The values, row-major.
  public var values: [Float]

  /// Creates a matrix from values; `values.count` must equal the product of `shape`.
  public init(shape: [Int], values: [Float]) {
    self.shape = shape
    self.values = values
  }

  /// A matrix of zeros.
  public init(zeros shape: [Int]) {
    self.shape = shape
    self.values = [Float](repeating: 0, count: shape.reduce(1, *))
  }

  /// The size of the last dimension (1 for a scalar).
  public var columns: Int { shape.last ?? 1 }

  /// The product of all dimensions but the last.
  public var rows: Int { shape.dropLast().reduce(1, *) }

  /// The number of values.
  public var count: Int { values.count }

  /// A copy with another shape of the same element count.
  public func reshaped(_ newShape: [Int]) -> Matrix {
    Matrix(shape: newShape, values: values)
  }

  /// The largest absolute difference to `other` (infinity when shapes differ or a value is NaN).
  public func maxAbsDifference(to other: Matrix) -> Float {
    guard shape == other.shape else { return .infinity }
    var worst: Float = 0
    for index in values.indices {
      let difference = abs(values[index] - other.values[index])
      if difference.isNaN { return .infinity }
      worst = max(worst, difference)
    }
    return worst
  }
}

extension Matrix {
  /// Multiplies: `self[rows × k] · W` for a dense weight, plus its bias, into `[rows, outputs]`,
  /// on up to `threads` threads.
  func applying(_ linear: Linear, threads: Int = Processors.threads) -> Matrix {
    var result = Matrix(zeros: Array(shape.dropLast()) + [linear.outFeatures])
    values.withUnsafeBufferPointer { x in
      result.values.withUnsafeMutableBufferPointer { y in
        linear.apply(
          x.baseAddress!, rows: rows, ldx: columns, into: y.baseAddress!, ldy: linear.outFeatures,
          threads: threads)
      }
    }
    return result
  }
}
