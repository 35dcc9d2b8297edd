import CheckpointCore

/// Per-output-channel symmetric int8: each row (a slice along the first dimension) gets an
/// F32 scale `amax / 127` over its finite values and values `roundf(x / scale)` clamped to
/// [-127, 127] (NaN stores 0, ±inf stores ±127). A row of zeros has scale 0.
public enum Int8Channel {
  /// Quantizes one row of `count` floats into `destination`; returns the row's scale.
  ///
  /// Finite rows take the 16-lane vector path unless `vector` is false (`CKPT_SIMD=off`), when
  /// they take the scalar path, with the same bytes.
  @inlinable
  public static func quantize(
    _ x: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<Int8>,
    vector: Bool = SIMDPolicy.current.allowsVectors
  )
    -> Float
  {
    let maxBits = BlockMath.maximumMagnitudeBits(x, count: count)
    if vector, maxBits < 0x7F80_0000 {
      // All finite: 16 lanes at a time (the scalar loop below handles the rest).
      let scale = Float(bitPattern: maxBits) / 127
      guard scale >= .leastNormalMagnitude else {
        return quantizeSlowly(x, count: count, into: destination)
      }
      let limit = SIMD16<Float>(repeating: 127)
      var i = 0
      while i + 16 <= count {
        let q = BlockMath.roundHalfAway(BlockMath.load(x + i) / scale)
        let clamped = q.replacing(with: limit, where: q .> limit).replacing(with: -limit, where: q .< -limit)
        BlockMath.storeLowBytes(clamped, to: UnsafeMutableRawPointer(destination + i))
        i += 16
      }
      while i < count {
        destination[i] = Int8(max(-127, min(127, (x[i] / scale).rounded(.toNearestOrAwayFromZero))))
        i += 1
      }
      return scale
    }
    return quantizeSlowly(x, count: count, into: destination)
  }

  /// The element-by-element path (rows with NaN or ±inf, or a subnormal scale).
  @usableFromInline
  static func quantizeSlowly(
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
