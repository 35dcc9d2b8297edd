/// Error of a quantized tensor against its original: RMSE, max abs error, SNR.
///
/// Only elements whose original value is finite count (NaN and ±inf carry no error figure).
public struct ErrorStatistics: Sendable, Equatable {
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
  @inlinable
  public mutating func add(original x: UnsafePointer<Float>, restored y: UnsafePointer<Float>, count n: Int) {
    var signal: Double = 0
    var error: Double = 0
    var worst: Float = 0
    var counted = 0
    for i in 0..<n {
      let a = x[i]
      guard a.isFinite else { continue }
      let e = a - y[i]
      signal += Double(a) * Double(a)
      error += Double(e) * Double(e)
      let m = e.magnitude
      if !(m <= worst) { worst = m }
      counted += 1
    }
    signalEnergy += signal
    errorEnergy += error
    maxAbsError = max(maxAbsError, Double(worst))
    count += counted
  }

  /// Combines statistics of two parts.
  public mutating func merge(_ other: ErrorStatistics) {
    signalEnergy += other.signalEnergy
    errorEnergy += other.errorEnergy
    maxAbsError = max(maxAbsError, other.maxAbsError)
    if other.maxAbsError.isNaN { maxAbsError = .nan }
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

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
