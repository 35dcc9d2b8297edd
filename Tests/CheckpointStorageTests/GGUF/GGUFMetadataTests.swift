import CheckpointCore
import XCTest

@testable import CheckpointStorage

final class GGUFMetadataTests: XCTestCase {
  /// Every value type renders to text and parses back to the same typed value, edge values
  /// included (extreme integers, -0.0, ±inf, NaN, subnormal and rounding-sensitive floats,
  /// strings needing JSON escapes, empty and nested arrays).
  func testRenderedValuesParseBackExactly() throws {
    let values: [GGUFValue] = [
      .uint8(255), .int8(-128), .uint16(65535), .int16(-32768), .uint32(.max), .int32(.min),
      .uint64(.max), .int64(.min), .bool(false), .string(""), .string("a\n\"b\"\u{1}é"),
      .float32(0.1), .float32(-0.0), .float32(.infinity), .float32(.leastNonzeroMagnitude),
      .float32(16_777_216), .float64(1.0 / 3.0), .float64(-.infinity), .float64(.leastNormalMagnitude),
      .array(.float32, [.float32(0.1), .float32(-0.0), .float32(.infinity), .float32(3e38)]),
      .array(.float64, [.float64(1e300), .float64(-2.5)]),
      .array(.string, [.string("x"), .string("\"q\"")]),
      .array(.uint64, [.uint64(.max)]), .array(.int8, [.int8(-1)]), .array(.bool, [.bool(true)]),
      .array(.uint32, []),
      .array(.array, [.array(.int32, [.int32(1)]), .array(.int32, [])]),
    ]
    for value in values {
      let text = GGUFMetadata.render(value)
      XCTAssertEqual(try GGUFMetadata.parse(text, as: value.typeSpelling, key: "k"), value, text)
    }
    XCTAssertEqual(GGUFMetadata.render(.array(.float32, [.float32(.nan)])), "[\"nan\"]")
    guard case .float32(let nan) = try GGUFMetadata.parse("nan", as: "f32", key: "k") else {
      return XCTFail()
    }
    XCTAssertTrue(nan.isNaN)
  }

  /// Typed keys come first in their order, edited values that no longer parse are refused.
  func testPairsFromMetadata() throws {
    let metadata = GGUFMetadata.render([("b.count", .uint32(3)), ("a.name", .string("n"))])
    var edited = metadata
    edited["z.extra"] = "1"
    let pairs = try GGUFMetadata.pairs(from: edited)
    XCTAssertEqual(pairs.map(\.key), ["b.count", "a.name", "z.extra"])
    XCTAssertEqual(pairs.map(\.value), [.uint32(3), .string("n"), .string("1")])
    edited["b.count"] = "three"
    XCTAssertThrowsError(try GGUFMetadata.pairs(from: edited)) { error in
      XCTAssertEqual((error as? CheckpointError)?.kind, .invalidArgument)
    }
  }
}
