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
  ///
  /// Runs 16 lanes at a time (`SIMD16<Float>`), flushing partial sums to `Double` every
  /// 1024 values so long tensors keep their precision.
  @inlinable
  public mutating func add(original x: UnsafePointer<Float>, restored y: UnsafePointer<Float>, count n: Int) {
    var start = 0
    while start < n {
      let end = min(n, start + 1024)
      var signal = SIMD16<Float>()
      var error = SIMD16<Float>()
      var worst = SIMD16<Float>()
      var counted = SIMD16<Int32>()
      var i = start
      while i + 16 <= end {
        let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
        let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
        let finite = (unsafeBitCast(a, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF) .< 0x7F80_0000
        let e = (a - b).replacing(with: 0, where: .!finite)
        let v = a.replacing(with: 0, where: .!finite)
        signal += v * v
        error += e * e
        let m = unsafeBitCast(unsafeBitCast(e, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
        // NaN errors (a finite value restored as NaN) stick: `.!(m .<= worst)` is true for NaN.
        worst.replace(with: m, where: .!(m .<= worst))
        counted &+= SIMD16<Int32>(repeating: 1).replacing(with: 0, where: .!finite)
        i += 16
      }
      signalEnergy += Double(signal.sum())
      errorEnergy += Double(error.sum())
      var partialWorst: Float = 0
      for lane in 0..<16 where !(worst[lane] <= partialWorst) { partialWorst = worst[lane] }
      var partialCount = Int(counted.wrappedSum())
      while i < end {
        let a = x[i]
        if a.isFinite {
          let e = a - y[i]
          signalEnergy += Double(a * a)
          errorEnergy += Double(e * e)
          if !(e.magnitude <= partialWorst) { partialWorst = e.magnitude }
          partialCount += 1
        }
        i += 1
      }
      if !(Double(partialWorst) <= maxAbsError) { maxAbsError = Double(partialWorst) }
      count += partialCount
      start = end
    }
  }

  /// Combines statistics of two parts.
  public mutating func merge(_ other: ErrorStatistics) {
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

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
