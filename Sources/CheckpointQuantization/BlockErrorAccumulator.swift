/// Accumulates the error of quantized blocks while they are quantized (fused into the
/// kernels, so the report costs no second pass over the data).
///
/// Sums run in `SIMD16<Float>` lanes and move to ``ErrorStatistics`` (`Double`) every
/// 32 blocks.
public struct BlockErrorAccumulator {
  @usableFromInline var signal = SIMD16<Float>()
  @usableFromInline var error = SIMD16<Float>()
  @usableFromInline var worstBits: UInt32 = 0
  @usableFromInline var blocks = 0
  /// The statistics flushed so far (call ``finish()`` for the total).
  public var statistics = ErrorStatistics()

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
    let b0 = BlockMath.bits(e0)
    let b1 = BlockMath.bits(e1)
    for j in 0..<16 {
      worstBits = max(worstBits, b0[j] & 0x7FFF_FFFF, b1[j] & 0x7FFF_FFFF)
    }
    blocks += 1
    if blocks == 32 { flush() }
  }

  /// Adds a block with non-finite values element by element (they are skipped).
  @inlinable
  mutating func addSlowly(_ x: UnsafePointer<Float>, restored y: UnsafePointer<Float>) {
    statistics.add(original: x, restored: y, count: 32)
  }

  @inlinable
  mutating func flush() {
    statistics.signalEnergy += Double(signal.sum())
    statistics.errorEnergy += Double(error.sum())
    statistics.count += blocks * 32
    let worst = Double(Float(bitPattern: min(worstBits, 0x7F80_0000)))
    if !(worst <= statistics.maxAbsError) { statistics.maxAbsError = worst }
    signal = SIMD16<Float>()
    error = SIMD16<Float>()
    worstBits = 0
    blocks = 0
  }

  /// The statistics of every block added.
  public mutating func finish() -> ErrorStatistics {
    flush()
    return statistics
  }
}
