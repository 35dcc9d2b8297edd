import CheckpointCore
import XCTest

final class JSONValueTests: XCTestCase {
  func testParsesObjectsInOrderWithExactIntegers() throws {
    let text = #"{"b": [1, 18446744073709551615, -9223372036854775808], "a": {"x": "y\n\u00e9"}, "c": 1.5}"#
    let value = try JSONValue.parse(Array(text.utf8))
    XCTAssertEqual(value.objectValue?.map(\.0), ["b", "a", "c"])
    XCTAssertEqual(
      value["b"],
      .array([.integer(1), .unsignedInteger(UInt64.max), .integer(Int64.min)]))
    XCTAssertEqual(value["a"]?["x"]?.stringValue, "y\né")
    XCTAssertEqual(value["c"], .double(1.5))
  }

  func testRejectsDuplicateKeysWithOffset() {
    let text = #"{"w": 1, "w": 2}"#
    XCTAssertThrowsError(try JSONValue.parse(Array(text.utf8))) { error in
      let parseError = error as? JSONValue.ParseError
      XCTAssertEqual(parseError?.offset, 9)
      XCTAssertEqual(parseError?.message, #"duplicate key "w""#)
      XCTAssertEqual(parseError?.reason, .duplicateKey("w"))
    }
    // The key as decoded, so code that handles a duplicate never reads the message.
    XCTAssertThrowsError(try JSONValue.parse(Array(#"{"\u00e9": 1, "é": 2}"#.utf8))) { error in
      XCTAssertEqual((error as? JSONValue.ParseError)?.reason, .duplicateKey("é"))
    }
    XCTAssertThrowsError(try JSONValue.parse(Array("[1,]".utf8))) { error in
      XCTAssertEqual((error as? JSONValue.ParseError)?.reason, .syntax)
    }
  }

  func testRejectsMalformedText() {
    for text in ["", "{", #"{"a" 1}"#, "[1,]", "01", #""\x""#, "{} x", "[1e]", #""\ud800""#] {
      XCTAssertThrowsError(try JSONValue.parse(Array(text.utf8)), text)
    }
    XCTAssertThrowsError(try JSONValue.parse([0x22, 0xFF, 0x22]))
    let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
    XCTAssertThrowsError(try JSONValue.parse(Array(deep.utf8)))
  }

  func testWritesCompactTextThatParsesBack() throws {
    let value = JSONValue.object([
      ("name", .string("a\"b\\c\u{01}")), ("shape", .array([.integer(2), .integer(3)])),
      ("empty", .object([])),
    ])
    XCTAssertEqual(value.compactText, #"{"name":"a\"b\\c\u0001","shape":[2,3],"empty":{}}"#)
    XCTAssertEqual(try JSONValue.parse(Array(value.compactText.utf8)), value)
    XCTAssertEqual(try JSONValue.parse(Array(value.prettyText.utf8)), value)
  }
}
