import CheckpointCore

/// How close two results must be: element-wise `|b − a| ≤ atol + rtol · |a|`, with `a` the
/// reference (checkpoint A) and `b` the candidate (checkpoint B), as `torch.testing.assert_close`.
///
/// Defaults by the least precise weight dtype of the two checkpoints:
///
/// | weights | rtol | atol | why |
/// |---|---|---|---|
/// | F32, F64 and integers | 1.3e-6 | 1e-5 | `torch.testing` float32 |
/// | F16 | 1e-3 | 1e-3 | `torch.testing` float16 rtol; atol for sums of half-rounded products |
/// | BF16 | 1.6e-2 | 1e-2 | `torch.testing` bfloat16 rtol; atol as F16, scaled by the 8-bit mantissa |
/// | F8 (E4M3, E5M2) | 1.25e-1 | 1e-1 | 3-bit mantissa |
/// | Q8_0 | 2e-2 | 2e-2 | 8-bit blocks: about 1/256 of each block's range, summed over a layer |
/// | Q4_0 | 1.5e-1 | 1e-1 | 4-bit blocks: about 1/16 of each block's range |
public struct Tolerance: Sendable, Equatable {
  /// The dtype the defaults were chosen for (`F32`, `F16`, …), or `custom`.
  public var dtype: String
  /// The relative tolerance.
  public var rtol: Double
  /// The absolute tolerance.
  public var atol: Double

  /// Creates a tolerance.
  public init(dtype: String, rtol: Double, atol: Double) {
    self.dtype = dtype
    self.rtol = rtol
    self.atol = atol
  }

  /// The default for weights of `dtype`.
  public static func `default`(for dtype: DType) -> Tolerance {
    switch dtype {
    case .f16: return Tolerance(dtype: "F16", rtol: 1e-3, atol: 1e-3)
    case .bf16: return Tolerance(dtype: "BF16", rtol: 1.6e-2, atol: 1e-2)
    case .f8e4m3, .f8e5m2: return Tolerance(dtype: dtype.rawValue, rtol: 1.25e-1, atol: 1e-1)
    case .q8_0: return Tolerance(dtype: "Q8_0", rtol: 2e-2, atol: 2e-2)
    case .q4_0: return Tolerance(dtype: "Q4_0", rtol: 1.5e-1, atol: 1e-1)
    default: return Tolerance(dtype: "F32", rtol: 1.3e-6, atol: 1e-5)
    }
  }

  /// The loosest default over the floating-point weights of `checkpoints`.
  public static func `default`(for checkpoints: [Checkpoint]) -> Tolerance {
    var loosest = Tolerance.default(for: .f32)
    for checkpoint in checkpoints {
      for tensor in checkpoint.tensors where tensor.dtype.isFloatingPoint || tensor.dtype.isBlockQuantized {
        let candidate = Tolerance.default(for: tensor.dtype)
        if candidate.rtol > loosest.rtol { loosest = candidate }
      }
    }
    return loosest
  }

  /// Whether `b` is close enough to the reference `a`. Two NaNs match; a NaN and a number do not.
  @inline(__always)
  func accepts(_ a: Float, _ b: Float) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a == b { return true }
    return Double(abs(b - a)) <= atol + rtol * Double(abs(a))
  }
}
