import CheckpointCore
import XCTest

final class DTypeTests: XCTestCase {
  func testSafetensorsNamesRoundTrip() {
    for dtype in DType.allCases {
      XCTAssertEqual(DType(name: dtype.name), dtype)
    }
    XCTAssertEqual(DType(name: "bf16"), .bf16)
    XCTAssertNil(DType(name: "F128"))
  }

  func testByteCounts() throws {
    XCTAssertEqual(try DType.f32.byteCount(elements: 10), 40)
    XCTAssertEqual(try DType.bf16.byteCount(elements: 3), 6)
    XCTAssertEqual(try DType.bool.byteCount(elements: 7), 7)
    XCTAssertEqual(try DType.q8_0.byteCount(elements: 64), 68)
    XCTAssertEqual(try DType.q4_0.byteCount(elements: 32), 18)
    XCTAssertThrowsError(try DType.q4_0.byteCount(elements: 33))
    XCTAssertThrowsError(try DType.f64.byteCount(elements: Int.max / 4))
  }

  func testShapeElementCount() throws {
    XCTAssertEqual(try Shape.elementCount([]), 1)
    XCTAssertEqual(try Shape.elementCount([0, 5]), 0)
    XCTAssertEqual(try Shape.elementCount([2, 3, 4]), 24)
    XCTAssertThrowsError(try Shape.elementCount([-1, 2]))
    XCTAssertThrowsError(try Shape.elementCount([Int.max, 2])) { error in
      XCTAssertEqual((error as? CheckpointError)?.kind, .invalidShape)
    }
    XCTAssertEqual(try Shape.byteCount([2, 3], dtype: .f16), 12)
  }
}
