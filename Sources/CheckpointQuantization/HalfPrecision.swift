/// Bit-exact conversions between `Float` and the 16-bit float formats.
public enum HalfPrecision {
  /// IEEE binary16 bits of `value`, rounded to nearest even (numpy `astype(float16)`, F16C):
  /// overflow gives ±inf, tiny values become subnormals or ±0, NaN stays NaN (quiet, upper
  /// payload bits kept).
  @inlinable
  public static func halfBits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
    let magnitude = bits & 0x7FFF_FFFF
    if magnitude >= 0x4780_0000 {  // ≥ 65536, inf or NaN
      if magnitude > 0x7F80_0000 {
        return sign | 0x7E00 | UInt16(truncatingIfNeeded: (magnitude >> 13) & 0x1FF)
      }
      return sign | 0x7C00
    }
    if magnitude < 0x3880_0000 {  // below 2^-14: subnormal or zero in half precision
      // Adding 0.5 lines the half subnormal's bits up at the bottom of the float's mantissa,
      // and the float addition rounds to nearest even.
      let sum = Float(bitPattern: magnitude) + Float(bitPattern: 0x3F00_0000)
      return sign | UInt16(truncatingIfNeeded: sum.bitPattern &- 0x3F00_0000)
    }
    let odd = (magnitude >> 13) & 1
    let rounded = magnitude &+ 0xC800_0FFF &+ odd  // rebias exponent (-112 << 23) and round
    return sign | UInt16(truncatingIfNeeded: rounded >> 13)
  }

  /// The `Float` value of IEEE binary16 `bits` (exact).
  @inlinable
  public static func float(halfBits bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0 {
      // ±0 or subnormal: mantissa × 2^-24, exact in Float.
      let magnitude = Float(mantissa) * Float(bitPattern: 0x3380_0000)
      return Float(bitPattern: sign | magnitude.bitPattern)
    }
    if exponent == 0x1F {
      return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
  }

  /// bfloat16 bits of `value` as ggml's `ggml_compute_fp32_to_bf16` and gguf-py: NaN becomes
  /// a quiet NaN with its sign and upper payload, everything else rounds to nearest even
  /// (overflow to ±inf).
  @inlinable
  public static func bfloat16Bits(_ value: Float) -> UInt16 {
    var bits = value.bitPattern
    if bits & 0x7FFF_FFFF > 0x7F80_0000 {
      bits = (bits & 0xFFFF_0000) | 0x0040_0000
    }
    return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
  }

  /// The `Float` value of bfloat16 `bits` (exact).
  @inlinable
  public static func float(bfloat16Bits bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
  }
}
