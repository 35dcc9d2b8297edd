import CheckpointCore

/// ggml's Q8_0 blocks: 32 values as an fp16 scale `d = amax / 127` and 32 int8 values
/// `roundf(x / d)` (34 bytes), bit-identical to ggml's `quantize_row_q8_0_ref` and gguf-py's
/// `quants.quantize(x, Q8_0)`.
///
/// gguf-py computes `x * (1/d)` in float32 with `d` in float32 and stores `d` as fp16, which
/// this kernel repeats. For blocks with NaN, ±inf or a scale whose reciprocal overflows
/// (subnormal inputs), values that become non-finite are stored as 0, as numpy's cast does on
/// x86-64.
public enum Q8_0Block {
  /// Bytes per block.
  public static let byteCount = 34
  /// Values per block.
  public static let count = 32

  /// Quantizes `blocks` blocks of 32 floats at `source` into `destination` (34 bytes each),
  /// adding the error of the dequantized values (`q × d`) to `errors`.
  ///
  /// Blocks take the 16-lane vector path unless `vector` is false (`CKPT_SIMD=off`), when
  /// every block takes the scalar path, with the same bytes.
  @inlinable
  public static func quantize(
    _ source: UnsafePointer<Float>, blocks: Int, into destination: UnsafeMutableRawPointer,
    errors: inout BlockErrorAccumulator, vector: Bool = SIMDPolicy.current.allowsVectors
  ) {
    for block in 0..<blocks {
      let x = source + block * 32
      let out = destination + block * 34
      let maxBits = BlockMath.maximumMagnitudeBits(x, count: 32)
      let amax = Float(bitPattern: maxBits)
      let d = amax / 127
      let id: Float = d == 0 ? 0 : 1 / d
      let vectorCase = maxBits < 0x7F80_0000 && id.isFinite
      if !vectorCase || !vector {
        quantizeSlowly(x, into: out)
        var restored = [Float](repeating: 0, count: 32)
        restored.withUnsafeMutableBufferPointer {
          dequantize(UnsafeRawPointer(out), blocks: 1, into: $0.baseAddress!)
        }
        errors.add(x, restored: restored, vectorCase: vectorCase)
        continue
      }
      let v0 = BlockMath.load(x)
      let v1 = BlockMath.load(x + 16)
      let h = HalfPrecision.halfBits(d)
      out.storeBytes(of: UInt8(truncatingIfNeeded: h), as: UInt8.self)
      out.storeBytes(of: UInt8(truncatingIfNeeded: h >> 8), toByteOffset: 1, as: UInt8.self)
      let r0 = BlockMath.roundHalfAway(v0 * id)
      let r1 = BlockMath.roundHalfAway(v1 * id)
      BlockMath.storeLowBytes(r0, to: out + 2)
      BlockMath.storeLowBytes(r1, to: out + 18)
      let scale = HalfPrecision.float(halfBits: h)
      errors.add(v0, v1, r0 * scale, r1 * scale)
    }
  }

  /// Quantizes without measuring the error.
  @inlinable
  public static func quantize(
    _ source: UnsafePointer<Float>, blocks: Int, into destination: UnsafeMutableRawPointer
  ) {
    var errors = BlockErrorAccumulator()
    quantize(source, blocks: blocks, into: destination, errors: &errors)
  }

  /// The scalar path for blocks with non-finite values or scales (numpy semantics).
  @usableFromInline
  static func quantizeSlowly(_ x: UnsafePointer<Float>, into out: UnsafeMutableRawPointer) {
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
    let h = HalfPrecision.halfBits(d)
    out.storeBytes(of: UInt8(truncatingIfNeeded: h), as: UInt8.self)
    out.storeBytes(of: UInt8(truncatingIfNeeded: h >> 8), toByteOffset: 1, as: UInt8.self)
    for i in 0..<32 {
      let v = x[i] * id
      var q: Int8 = 0
      if v.isFinite {
        q = Int8(max(-128, min(127, v.rounded(.toNearestOrAwayFromZero))))
      }
      out.storeBytes(of: UInt8(bitPattern: q), toByteOffset: 2 + i, as: UInt8.self)
    }
  }

  /// Dequantizes `blocks` blocks at `source` into `destination` (`q × d` in float32).
  @inlinable
  public static func dequantize(
    _ source: UnsafeRawPointer, blocks: Int, into destination: UnsafeMutablePointer<Float>
  ) {
    for block in 0..<blocks {
      let b = source + block * 34
      let h = UInt16(b.load(as: UInt8.self)) | UInt16(b.load(fromByteOffset: 1, as: UInt8.self)) << 8
      let d = HalfPrecision.float(halfBits: h)
      let out = destination + block * 32
      for i in 0..<32 {
        out[i] = Float(Int8(bitPattern: b.load(fromByteOffset: 2 + i, as: UInt8.self))) * d
      }
    }
  }
}
