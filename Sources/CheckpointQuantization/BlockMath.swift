/// Vector helpers shared by the block kernels: exact float arithmetic only, so results
/// match numpy's float32 operations bit for bit.
@usableFromInline
enum BlockMath {
  /// 2^23: adding and subtracting it rounds a float below 2^23 to an integer (nearest even).
  @usableFromInline static let roundingMagic: Float = 8_388_608
  /// 1.5 × 2^23: added to an integral float in [-2^22, 2^22], the low mantissa bits hold the
  /// integer in two's complement.
  @usableFromInline static let integerMagic: Float = 12_582_912

  @inlinable @inline(__always)
  static func load(_ pointer: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
  }

  @inlinable @inline(__always)
  static func bits(_ v: SIMD16<Float>) -> SIMD16<UInt32> {
    unsafeBitCast(v, to: SIMD16<UInt32>.self)
  }

  @inlinable @inline(__always)
  static func float(_ v: SIMD16<UInt32>) -> SIMD16<Float> {
    unsafeBitCast(v, to: SIMD16<Float>.self)
  }

  /// |v| by clearing the sign bits.
  @inlinable @inline(__always)
  static func magnitude(_ v: SIMD16<Float>) -> SIMD16<Float> {
    float(bits(v) & 0x7FFF_FFFF)
  }

  /// The largest magnitude bit pattern of `count` floats: for non-negative floats the bit
  /// patterns order like the values, so this is `max |x|` when below `0x7F80_0000` and marks
  /// an infinity or NaN otherwise. A plain loop: LLVM turns it into vector integer maxima.
  @inlinable @inline(__always)
  static func maximumMagnitudeBits(_ x: UnsafePointer<Float>, count: Int) -> UInt32 {
    var result: UInt32 = 0
    for i in 0..<count { result = max(result, x[i].bitPattern & 0x7FFF_FFFF) }
    return result
  }

  /// floor(a) for 0 ≤ a < 2^23.
  @inlinable @inline(__always)
  static func floorNonNegative(_ a: SIMD16<Float>) -> SIMD16<Float> {
    let nearest = (a + roundingMagic) - roundingMagic
    return nearest.replacing(with: nearest - 1, where: nearest .> a)
  }

  /// `roundf`: to nearest, halves away from zero, for |v| < 2^23.
  @inlinable @inline(__always)
  static func roundHalfAway(_ v: SIMD16<Float>) -> SIMD16<Float> {
    let a = magnitude(v)
    let f = floorNonNegative(a)
    let r = f.replacing(with: f + 1, where: (a - f) .>= 0.5)
    return float(bits(r) | (bits(v) & 0x8000_0000))
  }

  /// Stores the low byte of each integral lane (|v| ≤ 2^22, two's complement) at `out`.
  @inlinable @inline(__always)
  static func storeLowBytes(_ v: SIMD16<Float>, to out: UnsafeMutableRawPointer) {
    let b = bits(v + integerMagic)
    for j in 0..<16 { out.storeBytes(of: UInt8(truncatingIfNeeded: b[j]), toByteOffset: j, as: UInt8.self) }
  }
}
