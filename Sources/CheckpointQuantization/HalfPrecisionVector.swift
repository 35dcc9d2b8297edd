/// 16-lane versions of ``HalfPrecision``'s conversions, bit-identical to the scalar ones.
public enum HalfPrecisionVector {
  /// IEEE binary16 bits of 16 floats (see ``HalfPrecision/halfBits(_:)``), as `UInt32` lanes.
  @inlinable @inline(__always)
  public static func halfBits(_ v: SIMD16<Float>) -> SIMD16<UInt32> {
    let bits = BlockMath.bits(v)
    let sign = (bits &>> 16) & 0x8000
    let magnitude = bits & 0x7FFF_FFFF
    // Normal range: rebias the exponent and round to nearest even.
    var result = (magnitude &+ 0xC800_0FFF &+ ((magnitude &>> 13) & 1)) &>> 13
    // Below 2^-14: the float addition of 0.5 rounds the subnormal into the low bits.
    let small = BlockMath.bits(BlockMath.float(magnitude) + 0.5) &- 0x3F00_0000
    result.replace(with: small, where: magnitude .< 0x3880_0000)
    result.replace(with: 0x7C00, where: magnitude .>= 0x4780_0000)
    result.replace(
      with: 0x7E00 | ((magnitude &>> 13) & 0x1FF), where: magnitude .> 0x7F80_0000)
    return (result & 0xFFFF) | sign
  }

  /// The floats of 16 binary16 values given as `UInt32` lanes (exact).
  @inlinable @inline(__always)
  public static func float(halfBits h: SIMD16<UInt32>) -> SIMD16<Float> {
    let sign = (h & 0x8000) &<< 16
    let exponent = (h &>> 10) & 0x1F
    let mantissa = h & 0x3FF
    var bits = ((exponent &+ 112) &<< 23) | (mantissa &<< 13)
    bits.replace(with: 0x7F80_0000 | (mantissa &<< 13), where: exponent .== 0x1F)
    // ±0 and subnormals: mantissa × 2^-24 (exact).
    let tiny = BlockMath.bits(SIMD16<Float>(mantissa) * Float(bitPattern: 0x3380_0000))
    bits.replace(with: tiny, where: exponent .== 0)
    return BlockMath.float(bits | sign)
  }

  /// bfloat16 bits of 16 floats (see ``HalfPrecision/bfloat16Bits(_:)``), as `UInt32` lanes.
  @inlinable @inline(__always)
  public static func bfloat16Bits(_ v: SIMD16<Float>) -> SIMD16<UInt32> {
    var bits = BlockMath.bits(v)
    bits.replace(with: (bits & 0xFFFF_0000) | 0x0040_0000, where: (bits & 0x7FFF_FFFF) .> 0x7F80_0000)
    return (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
  }

  /// The floats of 16 bfloat16 values given as `UInt32` lanes (exact).
  @inlinable @inline(__always)
  public static func float(bfloat16Bits h: SIMD16<UInt32>) -> SIMD16<Float> {
    BlockMath.float(h &<< 16)
  }
}
