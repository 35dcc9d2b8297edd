import CheckpointEngine

/// How far a candidate's values are from a reference's.
///
/// - `maxAbsError`: the largest `|b − a|`;
/// - `maxRelError`: the largest `|b − a| / |a|` over elements with `a ≠ 0` (0 when all are 0);
/// - `cosine`: `Σab / (‖a‖·‖b‖)` in double precision (1 when both are all zeros, 0 when one is);
/// - `mismatches`: elements outside the tolerance (see ``Tolerance``).
///
/// A NaN on one side only makes both errors infinite.
public struct ErrorStatistics: Sendable, Equatable {
  /// The largest absolute error.
  public var maxAbsError: Double = 0
  /// The largest relative error.
  public var maxRelError: Double = 0
  /// The cosine similarity.
  public var cosine: Double = 1
  /// The number of elements outside the tolerance.
  public var mismatches: Int = 0
  /// The number of elements compared.
  public var count: Int = 0

  private var dot: Double = 0
  private var normA: Double = 0
  private var normB: Double = 0

  /// No elements compared yet.
  public init() {}

  /// Statistics of `b` against the reference `a` (same element count).
  public init(_ a: [Float], _ b: [Float], tolerance: Tolerance) {
    add(a, b, tolerance: tolerance)
  }

  /// Adds the elements of `b` against the reference `a` (same element count).
  public mutating func add(_ a: [Float], _ b: [Float], tolerance: Tolerance) {
    let n = min(a.count, b.count)
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        for index in 0..<n {
          let x = pa[index]
          let y = pb[index]
          if !tolerance.accepts(x, y) { mismatches += 1 }
          if x.isNaN || y.isNaN {
            if !(x.isNaN && y.isNaN) {
              maxAbsError = .infinity
              maxRelError = .infinity
            }
            continue
          }
          let difference = abs(Double(y) - Double(x))
          if difference > maxAbsError { maxAbsError = difference }
          if x != 0 {
            let relative = difference / abs(Double(x))
            if relative > maxRelError { maxRelError = relative }
          }
          dot += Double(x) * Double(y)
          normA += Double(x) * Double(x)
          normB += Double(y) * Double(y)
        }
      }
    }
    count += n
    if normA == 0 && normB == 0 {
      cosine = 1
    } else if normA == 0 || normB == 0 {
      cosine = 0
    } else {
      cosine = dot / (normA.squareRoot() * normB.squareRoot())
    }
  }

  /// Whether every element is within the tolerance.
  public var passed: Bool { mismatches == 0 }

  /// Equal when the published figures are (the running sums behind `cosine` are not compared).
  public static func == (lhs: ErrorStatistics, rhs: ErrorStatistics) -> Bool {
    lhs.maxAbsError == rhs.maxAbsError && lhs.maxRelError == rhs.maxRelError && lhs.cosine == rhs.cosine
      && lhs.mismatches == rhs.mismatches && lhs.count == rhs.count
  }
}
