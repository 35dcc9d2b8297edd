import CheckpointCore

/// ggml's Q4_0 blocks: 32 values as an fp16 scale `d = max / -8` (`max` the value of largest
/// magnitude, sign kept, first one on ties) and 16 bytes of 4-bit values
/// `q = min(15, trunc(x / d + 8.5))` packed `q[j] | q[j + 16] << 4` (18 bytes),
/// bit-identical to ggml's `quantize_row_q4_0_ref` and gguf-py's `quants.quantize(x, Q4_0)`.
///
/// Non-finite intermediate values are stored as 0 (numpy's cast on x86-64), as in gguf-py.
public enum Q4_0Block: GGMLBlockScheme {
  /// Bytes per block.
  public static let byteCount = 18

  /// `max / -8`, with `max` the value of largest magnitude, its sign kept.
  @inlinable
  public static func scale(_ x: UnsafePointer<Float>, maxBits: UInt32) -> Float {
    let amax = Float(bitPattern: maxBits)
    let v0 = BlockMath.load(x)
    let v1 = BlockMath.load(x + 16)
    // The signed maximum: count the lanes equal to +amax (low half) and −amax (high half) in
    // one integer sum instead of a search whose exit mispredicts; mixed ties (and ±0 blocks)
    // take the first one by a search, as gguf-py's argmax.
    let plus = SIMD16<Float>(repeating: amax)
    let none = SIMD16<Int32>()
    let counts =
      none.replacing(with: 1, where: v0 .== plus) &+ none.replacing(with: 1, where: v1 .== plus)
      &+ none.replacing(with: 0x10000, where: v0 .== -plus)
      &+ none.replacing(with: 0x10000, where: v1 .== -plus)
    let sum = counts.wrappedSum()
    var signedMax = sum >> 16 == 0 ? amax : -amax
    if sum & 0xFFFF != 0, sum >> 16 != 0 {
      for i in 0..<32 where x[i].bitPattern & 0x7FFF_FFFF == maxBits {
        signedMax = x[i]
        break
      }
    }
    return signedMax / -8
  }

  /// `min(15, trunc(x · id + 8.5))`, packed two to a byte.
  @inlinable
  public static func storeValues(
    _ v0: SIMD16<Float>, _ v1: SIMD16<Float>, id: Float, scale: Float, into out: UnsafeMutableRawPointer,
    errors: inout BlockErrorAccumulator
  ) {
    // |x·id| ≤ 8 here, so t lies in (0, 17): floor, then clamp 16 to 15.
    let fifteen = SIMD16<Float>(repeating: 15)
    let f0 = BlockMath.floorNonNegative(v0 * id + 8.5)
    let f1 = BlockMath.floorNonNegative(v1 * id + 8.5)
    let q0 = f0.replacing(with: fifteen, where: f0 .> fifteen)
    let q1 = f1.replacing(with: fifteen, where: f1 .> fifteen)
    // q[j] | q[j + 16] << 4, computed exactly in float (≤ 255) and stored as bytes.
    BlockMath.storeLowBytes(q0 + q1 * 16, to: out + 2)
    errors.add(v0, v1, (q0 - 8) * scale, (q1 - 8) * scale)
  }

  /// The scalar path for blocks with non-finite values or scales (numpy semantics).
  public static func quantizeSlowly(_ x: UnsafePointer<Float>, into out: UnsafeMutableRawPointer) {
    // gguf-py's `x[argmax(|x|)]`: the first largest magnitude, so a block of zeros that starts
    // with -0.0 gets that sign (and scale +0), the first NaN wins.
    var amax = -Float.infinity
    var signedMax: Float = 0
    for i in 0..<32 {
      let a = x[i].magnitude
      if a.isNaN {
        signedMax = x[i]
        break
      }
      if a > amax {
        amax = a
        signedMax = x[i]
      }
    }
    let d = signedMax / -8
    let id: Float = d == 0 ? 0 : 1 / d
    storeScale(d, into: out)
    var q = [UInt8](repeating: 0, count: 32)
    for i in 0..<32 {
      let t = x[i] * id + 8.5
      if t.isFinite {
        q[i] = UInt8(max(0, min(15, t.rounded(.towardZero))))
      }
    }
    for j in 0..<16 {
      out.storeBytes(of: q[j] | q[j + 16] << 4, toByteOffset: 2 + j, as: UInt8.self)
    }
  }

  /// `(q − 8) × d` in float32.
  @inlinable
  public static func dequantizeValues(
    _ block: UnsafeRawPointer, scale d: Float, into out: UnsafeMutablePointer<Float>
  ) {
    for j in 0..<16 {
      let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
      out[j] = d * Float(Int(byte & 0x0F) - 8)
      out[j + 16] = d * Float(Int(byte >> 4) - 8)
    }
  }
}
