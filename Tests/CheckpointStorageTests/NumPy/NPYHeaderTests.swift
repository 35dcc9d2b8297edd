import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

final class NPYHeaderTests: XCTestCase {
  private typealias Support = NumPyTestSupport

  /// A version 1.0 header around `dict` (padded like numpy's).
  private func header(_ dict: String, major: UInt8 = 1) -> [UInt8] {
    var text = Array(dict.utf8)
    let prefix = major == 1 ? 10 : 12
    while (prefix + text.count + 1) % 64 != 0 { text.append(0x20) }
    text.append(0x0A)
    var bytes = NPYHeader.magic + [major, 0]
    if major == 1 {
      bytes.appendLittleEndian(UInt16(text.count))
    } else {
      bytes.appendLittleEndian(UInt32(text.count))
    }
    return bytes + text
  }

  func testParsesNumpySpellings() throws {
    let plain = try NPYHeader(parsing: header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
    XCTAssertEqual(plain.descr, "<f4")
    XCTAssertFalse(plain.fortranOrder)
    XCTAssertEqual(plain.shape, [2, 3])
    XCTAssertEqual(plain.size, 128)
    let other = try NPYHeader(
      parsing: header("{\"shape\":(7,),\"fortran_order\":True,\"descr\":\"|u1\"}", major: 2))
    XCTAssertEqual(other.shape, [7])
    XCTAssertTrue(other.fortranOrder)
    XCTAssertEqual(other.majorVersion, 2)
    XCTAssertEqual(
      try NPYHeader(parsing: header("{'descr': '<f8', 'fortran_order': False, 'shape': ()}")).shape, [])
    XCTAssertEqual(
      try NPYHeader(parsing: header("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4,), }")).shape,
      [0, 4])
  }

  func testRejectsMalformedDicts() {
    let bad: [(String, CheckpointError.Kind, String)] = [
      ("{'descr': '<f4', 'fortran_order': False}", .badFormat, "no 'shape'"),
      (
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", .badFormat,
        "unexpected key 'extra'"
      ),
      (
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", .badFormat, "appears twice"
      ),
      ("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", .badFormat, "unsupported value"),
      ("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,)}", .badFormat, "True or False"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", .badFormat, "is a plain integer"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", .badFormat, "unsupported value"),
      ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", .unsupportedDType, "structured"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", .invalidShape, "negative"),
      (
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", .invalidShape,
        "overflows"
      ),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}", .badFormat, "leading zeros"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,)}", .badFormat, "after an integer"),
      ("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2,)}", .badFormat, "unsupported character"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", .badFormat, "after the header dict"),
      ("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", .badFormat, "expected ',' or '}'"),
      ("['descr']", .badFormat, "'{'"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", .badFormat, "expected"),
    ]
    for (dict, kind, text) in bad {
      Support.assertError(kind, containing: text) { try NPYHeader(parsing: header(dict)) }
    }
  }

  func testRejectsBadPreambles() throws {
    let good = header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }")
    var bytes = good
    bytes[1] = UInt8(ascii: "M")
    Support.assertError(.badFormat, containing: "\\x93NUMPY") { try NPYHeader(parsing: bytes) }
    bytes = good
    bytes[6] = 4
    Support.assertError(.badFormat, containing: "version 4.0") { try NPYHeader(parsing: bytes) }
    Support.assertError(.truncated) { try NPYHeader(parsing: Array(good[0..<8])) }
    Support.assertError(.truncated) { try NPYHeader(parsing: Array(good[0..<40])) }
    bytes = good
    bytes[20] = 0xE9
    Support.assertError(.badFormat, containing: "non-ASCII") { try NPYHeader(parsing: bytes) }
    bytes = NPYHeader.magic + [2, 0, 0xFF, 0xFF, 0xFF, 0x7F]
    Support.assertError(.corrupt, containing: "more than") { try NPYHeader(parsing: bytes) }
  }

  func testDtypeStrings() throws {
    for (descr, dtype, swaps) in [
      ("<f4", DType.f32, false), ("=f4", .f32, false), ("|f4", .f32, false), (">f4", .f32, true),
      ("|b1", .bool, false), ("<V2", .bf16, false), ("|V2", .bf16, false), (">i1", .i8, false),
      ("<u8", .u64, false), (">u2", .u16, true),
    ] {
      let result = try NPYArrayLayout.dtype(descr: descr)
      XCTAssertEqual(result.0, dtype, descr)
      XCTAssertEqual(result.swapsBytes, swaps, descr)
    }
    for (descr, text) in [
      ("|O", "pickled"), ("<U5", "string"), ("<M8[ns]", "datetime"), ("<c8", "complex"),
      ("<f16", "not a supported"),
      ("|V4", "void"), ("f4", "byte order"),
    ] {
      Support.assertError(.unsupportedDType, containing: text) { try NPYArrayLayout.dtype(descr: descr) }
    }
    for dtype in DType.allCases {
      if let descr = NPYArrayLayout.descr(for: dtype) {
        XCTAssertEqual(try NPYArrayLayout.dtype(descr: descr).0, dtype)
      }
    }
  }

  /// Our encoder reproduces numpy's header bytes for every fixture numpy wrote in version 1.0 C order.
  func testEncoderMatchesNumpyHeaders() throws {
    for file in ["f8", "f4", "f2", "i8", "i1", "u1", "b1", "scalar", "empty", "vector", "bf16", "be_f4"] {
      let bytes = try TestFixtures.bytes("numpy/\(file).npy")
      let parsed = try NPYHeader(parsing: bytes)
      let encoded = try NPYHeader.encode(
        descr: parsed.descr, fortranOrder: parsed.fortranOrder, shape: parsed.shape)
      XCTAssertEqual(encoded, Array(bytes[0..<parsed.size]), file)
    }
    // Fortran headers pad for the last axis, as numpy does.
    let fortran = try TestFixtures.bytes("numpy/fortran_3d.npy")
    let parsed = try NPYHeader(parsing: fortran)
    XCTAssertEqual(
      try NPYHeader.encode(descr: parsed.descr, fortranOrder: true, shape: parsed.shape),
      Array(fortran[0..<parsed.size]))
  }
}
