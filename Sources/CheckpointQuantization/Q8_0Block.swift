import CheckpointCore

/// ggml's Q8_0 blocks: 32 values as an fp16 scale `d = amax / 127` and 32 int8 values
/// `roundf(x / d)` (34 bytes), bit-identical to ggml's `quantize_row_q8_0_ref` and gguf-py's
/// `quants.quantize(x, Q8_0)`.
///
/// gguf-py computes `x * (1/d)` in float32 with `d` in float32 and stores `d` as fp16, which
/// this kernel repeats. For blocks with NaN, ±inf or a scale whose reciprocal overflows
/// (subnormal inputs), values that become non-finite are stored as 0, as numpy's cast does on
/// x86-64.
public enum Q8_0Block: GGMLBlockScheme {
  /// Bytes per block.
  public static let byteCount = 34

  /// `amax / 127`.
  @inlinable
  public static func scale(_ x: UnsafePointer<Float>, maxBits: UInt32) -> Float {
    Float(bitPattern: maxBits) / 127
  }

  /// `round(x · id)`, half away from zero, as int8 bytes.
  @inlinable
  public static func storeValues(
    _ v0: SIMD16<Float>, _ v1: SIMD16<Float>, id: Float, scale: Float, into out: UnsafeMutableRawPointer,
    errors: inout BlockErrorAccumulator
  ) {
    let r0 = BlockMath.roundHalfAway(v0 * id)
    let r1 = BlockMath.roundHalfAway(v1 * id)
    BlockMath.storeLowBytes(r0, to: out + 2)
    BlockMath.storeLowBytes(r1, to: out + 18)
    errors.add(v0, v1, r0 * scale, r1 * scale)
  }

  /// The scalar path for blocks with non-finite values or scales (numpy semantics).
  public static func quantizeSlowly(_ x: UnsafePointer<Float>, into out: UnsafeMutableRawPointer) {
    var amax: Float = 0
    for i in 0..<32 {
      let a = x[i].magnitude
      if a.isNaN {
        amax = a
        break
      }
      if a > amax { amax = a }
    }
    let d = amax / 127
    let id: Float = d == 0 ? 0 : 1 / d
    storeScale(d, into: out)
    for i in 0..<32 {
      let v = x[i] * id
      var q: Int8 = 0
      if v.isFinite {
        q = Int8(max(-128, min(127, v.rounded(.toNearestOrAwayFromZero))))
      }
      out.storeBytes(of: UInt8(bitPattern: q), toByteOffset: 2 + i, as: UInt8.self)
    }
  }

  /// `q × d` in float32.
  @inlinable
  public static func dequantizeValues(
    _ block: UnsafeRawPointer, scale d: Float, into out: UnsafeMutablePointer<Float>
  ) {
    for i in 0..<32 {
      out[i] = Float(Int8(bitPattern: block.load(fromByteOffset: 2 + i, as: UInt8.self))) * d
    }
  }
}
