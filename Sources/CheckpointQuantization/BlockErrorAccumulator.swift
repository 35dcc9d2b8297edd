/// Accumulates the error of quantized blocks while they are quantized (fused into the
/// kernels, so the report costs no second pass over the data).
///
/// Sums run in `SIMD16<Float>` lanes and move to ``QuantizationLoss`` (`Double`) every
/// 32 blocks.
public struct BlockErrorAccumulator {
  @usableFromInline var signal = SIMD16<Float>()
  @usableFromInline var error = SIMD16<Float>()
  @usableFromInline var worst = SIMD16<Float>()
  @usableFromInline var blocks = 0
  /// The statistics flushed so far (call ``finish()`` for the total).
  public var statistics = QuantizationLoss()

  /// Creates an empty accumulator.
  public init() {}

  /// Adds one all-finite block: originals `x0`, `x1` and dequantized `y0`, `y1` (16 each).
  @inlinable @inline(__always)
  mutating func add(_ x0: SIMD16<Float>, _ x1: SIMD16<Float>, _ y0: SIMD16<Float>, _ y1: SIMD16<Float>) {
    let e0 = x0 - y0
    let e1 = x1 - y1
    signal += x0 * x0
    signal += x1 * x1
    error += e0 * e0
    error += e1 * e1
    // A NaN error (an fp16 scale of inf times q = 0) never wins here, but such a block always
    // has an infinite error too (its largest value restores to ±inf), so the maximum is inf.
    let m0 = BlockMath.magnitude(e0)
    let m1 = BlockMath.magnitude(e1)
    worst = worst.replacing(with: m0, where: m0 .> worst)
    worst = worst.replacing(with: m1, where: m1 .> worst)
    blocks += 1
    if blocks == 32 { flush() }
  }

  /// Adds a block with non-finite values element by element (they are skipped).
  @inlinable
  mutating func addSlowly(_ x: UnsafePointer<Float>, restored y: UnsafePointer<Float>) {
    statistics.add(original: x, restored: y, count: 32)
  }

  /// Adds a block quantized by the scalar path: element by element when it has non-finite
  /// values or scales (`vectorCase` false), else in the lanes the vector path uses, so that a
  /// forced scalar run (`CKPT_SIMD=off`) reports the same statistics, bit for bit.
  @inlinable
  mutating func add(_ x: UnsafePointer<Float>, restored y: [Float], vectorCase: Bool) {
    y.withUnsafeBufferPointer { y in
      let restored = y.baseAddress!
      if vectorCase {
        add(
          BlockMath.load(x), BlockMath.load(x + 16), BlockMath.load(restored), BlockMath.load(restored + 16))
      } else {
        addSlowly(x, restored: restored)
      }
    }
  }

  @inlinable
  mutating func flush() {
    statistics.signalEnergy += Double(signal.sum())
    statistics.errorEnergy += Double(error.sum())
    statistics.count += blocks * 32
    let largest = Double(worst.max())
    if !(largest <= statistics.maxAbsError) { statistics.maxAbsError = largest }
    signal = SIMD16<Float>()
    error = SIMD16<Float>()
    worst = SIMD16<Float>()
    blocks = 0
  }

  /// The statistics of every block added.
  public mutating func finish() -> QuantizationLoss {
    flush()
    return statistics
  }
}
