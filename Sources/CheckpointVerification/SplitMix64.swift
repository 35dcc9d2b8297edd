import Foundation

/// SplitMix64 (Steele, Lea and Flood 2014; the generator `java.util.SplittableRandom` uses),
/// the documented source of ``SeededInputs``' numbers.
///
/// `state += 0x9E3779B97F4A7C15`; `z = state`; `z = (z ^ (z >> 30)) · 0xBF58476D1CE4E5B9`;
/// `z = (z ^ (z >> 27)) · 0x94D049BB133111EB`; output `z ^ (z >> 31)`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64

  /// A generator started from `seed`.
  public init(seed: UInt64) { state = seed }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform double in `[0, 1)`: the top 53 bits of ``next()`` times 2⁻⁵³.
  public mutating func nextUniform() -> Double {
    Double(next() >> 11) * 0x1p-53
  }

  /// A standard normal value by Box–Muller: `√(−2 ln(1 − u₁)) · cos(2π u₂)`, two uniforms per value.
  public mutating func nextNormal() -> Double {
    let u1 = nextUniform()
    let u2 = nextUniform()
    return (-2 * log(1 - u1)).squareRoot() * cos(2 * Double.pi * u2)
  }

  /// A uniform integer in `0..<bound` (bound ≥ 1): the high 64 bits of `next() · bound`.
  public mutating func nextInt(below bound: Int) -> Int {
    Int(next().multipliedFullWidth(by: UInt64(bound)).high)
  }
}
