import Foundation

/// Error of a quantized tensor against its original: RMSE, max abs error, SNR.
///
/// Only elements whose original value is finite count (NaN and ±inf carry no error figure).
public struct QuantizationLoss: Sendable, Equatable {
  /// Σ x² over the original values.
  public var signalEnergy: Double = 0
  /// Σ (x − y)² over original x and dequantized y.
  public var errorEnergy: Double = 0
  /// max |x − y|.
  public var maxAbsError: Double = 0
  /// The number of elements counted.
  public var count: Int = 0

  /// Creates empty statistics.
  public init() {}

  /// Adds `count` pairs of original and dequantized values.
  ///
  /// Works in slices of 1024 values: a slice whose originals are all finite is summed 16
  /// lanes at a time (`SIMD16<Float>`, flushed to `Double` per slice); a slice with NaN or
  /// ±inf goes element by element, skipping them.
  @inlinable
  public mutating func add(original x: UnsafePointer<Float>, restored y: UnsafePointer<Float>, count n: Int) {
    var start = 0
    while start < n {
      let end = min(n, start + 1024)
      let length = end - start
      let a = x + start
      let b = y + start
      var worstBits: UInt32 = 0
      if BlockMath.maximumMagnitudeBits(a, count: length) < 0x7F80_0000 {
        var signal = SIMD16<Float>()
        var error = SIMD16<Float>()
        var i = 0
        while i + 16 <= length {
          let u = BlockMath.load(a + i)
          let e = u - BlockMath.load(b + i)
          signal += u * u
          error += e * e
          i += 16
        }
        var signalSum = Double(signal.sum())
        var errorSum = Double(error.sum())
        while i < length {
          let e = a[i] - b[i]
          signalSum += Double(a[i] * a[i])
          errorSum += Double(e * e)
          i += 1
        }
        for j in 0..<length { worstBits = max(worstBits, (a[j] - b[j]).bitPattern & 0x7FFF_FFFF) }
        signalEnergy += signalSum
        errorEnergy += errorSum
        count += length
      } else {
        for j in 0..<length where a[j].isFinite {
          let e = a[j] - b[j]
          signalEnergy += Double(a[j] * a[j])
          errorEnergy += Double(e * e)
          worstBits = max(worstBits, e.bitPattern & 0x7FFF_FFFF)
          count += 1
        }
      }
      // Bit patterns order like magnitudes; a NaN error (unusable value) counts as infinite.
      let worst = Double(Float(bitPattern: min(worstBits, 0x7F80_0000)))
      if !(worst <= maxAbsError) { maxAbsError = worst }
      start = end
    }
  }

  /// Combines statistics of two parts.
  public mutating func merge(_ other: QuantizationLoss) {
    signalEnergy += other.signalEnergy
    errorEnergy += other.errorEnergy
    if !(other.maxAbsError <= maxAbsError) { maxAbsError = other.maxAbsError }
    count += other.count
  }

  /// Root mean square error: √(Σ (x − y)² / n).
  public var rmse: Double { count == 0 ? 0 : (errorEnergy / Double(count)).squareRoot() }

  /// Signal-to-noise ratio in dB: 10 · log10(Σ x² / Σ (x − y)²); `+inf` when the error is 0.
  public var snrDB: Double {
    if errorEnergy == 0 { return .infinity }
    return 10 * log10(signalEnergy / errorEnergy)
  }
}
