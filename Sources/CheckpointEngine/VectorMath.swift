/// Vectorised exponential, sigmoid and tanh over float32 buffers.
///
/// `exp` uses the Cephes single-precision scheme: `x = n·ln2 + r` with |r| ≤ ½ln2
/// (ln2 split in two parts for an exact reduction), a degree-6 polynomial for `e^r`,
/// and `2^n` assembled in the exponent bits; the relative error is about 1 ulp
/// (≤ 2e-7). `sigmoid(x) = 1 / (1 + e^−x)` and `tanh(x) = 2·sigmoid(2x) − 1`
/// (absolute error ≤ 3e-7), eight lanes at a time.
enum VectorMath {
  typealias Vector = SIMD8<Float>

  @inline(__always)
  static func exp(_ x: Vector) -> Vector {
    // Only lane-wise float arithmetic (no generic conversions), so it compiles to vector code.
    var x = x
    x = x.replacing(with: -87.3, where: x .< -87.3)
    x = x.replacing(with: 88.3, where: x .> 88.3)
    // Round x·log2(e) to the nearest integer n with the 1.5·2²³ trick; the sum's low
    // mantissa bits then hold n + 127, which shifted into the exponent field is 2ⁿ.
    let magic: Float = 12_582_912
    let shifted = x * 1.442_695_040_888_963_4 + (magic + 127)
    let n = shifted - (magic + 127)
    var r = x - n * 0.693_359_375
    r = r + n * 2.121_944_4e-4
    var p = Vector(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * (r * r) + r + 1
    let scale = unsafeBitCast(unsafeBitCast(shifted, to: SIMD8<Int32>.self) &<< 23, to: Vector.self)
    return p * scale
  }

  @inline(__always)
  static func sigmoid(_ x: Vector) -> Vector {
    1 / (1 + exp(-x))
  }

  @inline(__always)
  static func tanh(_ x: Vector) -> Vector {
    2 / (1 + exp(-2 * x)) - 1
  }

  /// Applies `body` to `count` floats at `pointer`, eight at a time (the tail padded).
  @inline(__always)
  static func map(_ pointer: UnsafeMutablePointer<Float>, count: Int, _ body: (Vector) -> Vector) {
    var index = 0
    while index + 8 <= count {
      let raw = UnsafeMutableRawPointer(pointer + index)
      raw.storeBytes(of: body(raw.loadUnaligned(as: Vector.self)), as: Vector.self)
      index += 8
    }
    if index < count {
      var lanes = Vector(repeating: 0)
      for lane in 0..<(count - index) { lanes[lane] = pointer[index + lane] }
      let result = body(lanes)
      for lane in 0..<(count - index) { pointer[index + lane] = result[lane] }
    }
  }

  /// `x ← sigmoid(x)` in place.
  static func sigmoid(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
    map(pointer, count: count, sigmoid)
  }

  /// `x ← tanh(x)` in place.
  static func tanh(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
    map(pointer, count: count, tanh)
  }

  /// `x ← e^x` in place.
  static func exp(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
    map(pointer, count: count, exp)
  }
}
