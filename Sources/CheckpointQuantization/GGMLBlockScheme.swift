import CheckpointCore

/// What ggml's 32-value block formats (``Q8_0Block``, ``Q4_0Block``) share: an fp16 scale `d` in
/// the block's first two bytes, then the quantized values; a 16-lane vector path for blocks whose
/// values and scale are finite, and a scalar path (numpy semantics) for the others, or for every
/// block when the vector paths are off (`CKPT_SIMD=off`), writing the same bytes and the same
/// statistics.
///
/// A scheme gives its block size, its scale and its per-block paths; the extension runs the loops,
/// picks the path and records the error of the dequantized values.
public protocol GGMLBlockScheme {
  /// Bytes per block (the fp16 scale included).
  static var byteCount: Int { get }
  /// The block's scale `d` from its 32 values and the bit pattern of their largest magnitude.
  static func scale(_ x: UnsafePointer<Float>, maxBits: UInt32) -> Float
  /// The vector path: writes the values of the block whose halves are `v0` and `v1` after the
  /// scale at `out` and adds their error to `errors`; `id` is `1 / d`, finite, and `scale` is
  /// `d` as its fp16 holds it.
  static func storeValues(
    _ v0: SIMD16<Float>, _ v1: SIMD16<Float>, id: Float, scale: Float, into out: UnsafeMutableRawPointer,
    errors: inout BlockErrorAccumulator)
  /// The scalar path: the whole block `x` (scale and values) at `out`.
  static func quantizeSlowly(_ x: UnsafePointer<Float>, into out: UnsafeMutableRawPointer)
  /// The 32 values of the block at `block`, whose scale is `d`, into `out`.
  static func dequantizeValues(
    _ block: UnsafeRawPointer, scale d: Float, into out: UnsafeMutablePointer<Float>)
}

extension GGMLBlockScheme {
  /// Values per block.
  public static var count: Int { 32 }

  /// Quantizes `blocks` blocks of 32 floats at `source` into `destination` (``byteCount`` bytes
  /// each), adding the error of the dequantized values to `errors`.
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
      let out = destination + block * byteCount
      let maxBits = BlockMath.maximumMagnitudeBits(x, count: 32)
      let d = scale(x, maxBits: maxBits)
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
      let h = storeScale(d, into: out)
      storeValues(
        BlockMath.load(x), BlockMath.load(x + 16), id: id, scale: HalfPrecision.float(halfBits: h), into: out,
        errors: &errors)
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

  /// Dequantizes `blocks` blocks at `source` into `destination` (32 floats each, in float32).
  @inlinable
  public static func dequantize(
    _ source: UnsafeRawPointer, blocks: Int, into destination: UnsafeMutablePointer<Float>
  ) {
    for block in 0..<blocks {
      let b = source + block * byteCount
      let h = UInt16(b.load(as: UInt8.self)) | UInt16(b.load(fromByteOffset: 1, as: UInt8.self)) << 8
      dequantizeValues(b, scale: HalfPrecision.float(halfBits: h), into: destination + block * 32)
    }
  }

  /// Stores `d` as fp16, little-endian, in the block's first two bytes; returns its bits.
  @inlinable
  @discardableResult
  static func storeScale(_ d: Float, into out: UnsafeMutableRawPointer) -> UInt16 {
    let h = HalfPrecision.halfBits(d)
    out.storeBytes(of: UInt8(truncatingIfNeeded: h), as: UInt8.self)
    out.storeBytes(of: UInt8(truncatingIfNeeded: h >> 8), toByteOffset: 1, as: UInt8.self)
    return h
  }
}
