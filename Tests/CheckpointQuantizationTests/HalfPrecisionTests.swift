import XCTest

@testable import CheckpointQuantization

final class HalfPrecisionTests: XCTestCase {
  /// f16 rounds to nearest even at the tie points and saturates to inf past 65519.
  func testHalfRoundsToNearestEven() {
    XCTAssertEqual(HalfPrecision.halfBits(1), 0x3C00)
    XCTAssertEqual(HalfPrecision.halfBits(1 + 0x1p-11), 0x3C00)  // tie, down to even
    XCTAssertEqual(HalfPrecision.halfBits(1 + 3 * 0x1p-11), 0x3C02)  // tie, up to even
    XCTAssertEqual(HalfPrecision.halfBits(65504), 0x7BFF)
    XCTAssertEqual(HalfPrecision.halfBits(65519.996), 0x7BFF)
    XCTAssertEqual(HalfPrecision.halfBits(65520), 0x7C00)
    XCTAssertEqual(HalfPrecision.halfBits(-.infinity), 0xFC00)
    XCTAssertEqual(HalfPrecision.halfBits(0x1p-24), 0x0001)  // smallest subnormal
    XCTAssertEqual(HalfPrecision.halfBits(0x1p-25), 0x0000)  // tie to even (zero)
    XCTAssertEqual(HalfPrecision.halfBits(3 * 0x1p-25), 0x0002)  // tie to even (two)
    XCTAssertEqual(HalfPrecision.halfBits(-0.0), 0x8000)
    XCTAssertEqual(HalfPrecision.halfBits(.nan), 0x7E00)
    XCTAssertEqual(HalfPrecision.float(halfBits: 0x0001), 0x1p-24)
    XCTAssertEqual(HalfPrecision.float(halfBits: 0xC000), -2)
    XCTAssertTrue(HalfPrecision.float(halfBits: 0x7E00).isNaN)
  }

  /// Every half value converts to Float and back unchanged.
  func testHalfRoundTripsEveryValue() {
    for bits in 0...UInt16.max {
      let value = HalfPrecision.float(halfBits: bits)
      if value.isNaN { continue }
      XCTAssertEqual(HalfPrecision.halfBits(value), bits)
    }
  }

  /// bf16 rounds to nearest even; NaN stays a quiet NaN; ±inf kept; overflow to inf.
  func testBFloat16() {
    XCTAssertEqual(HalfPrecision.bfloat16Bits(1), 0x3F80)
    XCTAssertEqual(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3F80_8000)), 0x3F80)  // tie, even
    XCTAssertEqual(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3F81_8000)), 0x3F82)  // tie, even
    XCTAssertEqual(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3F80_8001)), 0x3F81)
    XCTAssertEqual(HalfPrecision.bfloat16Bits(.infinity), 0x7F80)
    XCTAssertEqual(HalfPrecision.bfloat16Bits(-.infinity), 0xFF80)
    XCTAssertEqual(HalfPrecision.bfloat16Bits(.greatestFiniteMagnitude), 0x7F80)
    XCTAssertEqual(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x7F80_0001)), 0x7FC0)  // signalling → quiet
    XCTAssertEqual(HalfPrecision.bfloat16Bits(Float(bitPattern: 0xFFFF_FFFF)), 0xFFFF)
    XCTAssertEqual(HalfPrecision.float(bfloat16Bits: 0xC040), -3)
  }
}
