import CheckpointModels

/// The position-wise feed-forward block: `linear2(activation(linear1(x)))`.
struct FeedForward: Sendable {
  var inner: Linear
  var outer: Linear
  var activation: Activation

  func callAsFunction(_ x: Matrix) -> Matrix {
    var hidden = x.applying(inner)
    activation.apply(&hidden.values)
    return hidden.applying(outer)
  }
}

extension Matrix {
  /// Element-wise `self += other` (same shape).
  mutating func add(_ other: Matrix) {
    other.values.withUnsafeBufferPointer { o in
      values.withUnsafeMutableBufferPointer { v in
        for index in v.indices { v[index] += o[index] }
      }
    }
  }

  /// `self` after a layer norm.
  func normalized(_ norm: LayerNorm) -> Matrix {
    var copy = self
    norm.apply(&copy)
    return copy
  }
}
