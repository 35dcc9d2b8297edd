/// Per-output-channel symmetric int8: each row (a slice along the first dimension) gets an
/// F32 scale `amax / 127` over its finite values and values `roundf(x / scale)` clamped to
/// [-127, 127] (NaN stores 0, ±inf stores ±127). A row of zeros has scale 0.
public enum Int8Channel {
  /// Quantizes one row of `count` floats into `destination`; returns the row's scale.
  @inlinable
  public static func quantize(
    _ x: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<Int8>
  )
    -> Float
  {
    var amax: Float = 0
    for i in 0..<count {
      let a = x[i].magnitude
      if a.isFinite, a > amax { amax = a }
    }
    let scale = amax / 127
    for i in 0..<count {
      let v = x[i]
      if v.isNaN || scale == 0 {
        destination[i] = 0
      } else {
        let q = (v / scale).rounded(.toNearestOrAwayFromZero)
        destination[i] = Int8(max(-127, min(127, q)))
      }
    }
    return scale
  }

  /// The value of int8 `q` at `scale`.
  @inlinable
  public static func dequantize(_ q: Int8, scale: Float) -> Float {
    Float(q) * scale
  }
}
