import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

/// Damaged .npy and .npz files (crafted from numpy's own) fail with the right error kind and location.
final class NumPyMalformedTests: XCTestCase {
  private typealias Support = NumPyTestSupport

  /// Replaces the first occurrence of `old` by `new` (same length) in `bytes`.
  private func replacing(_ old: String, with new: String, in bytes: [UInt8]) throws -> [UInt8] {
    let needle = Array(old.utf8)
    let replacement = Array(new.utf8)
    XCTAssertEqual(needle.count, replacement.count)
    let start = try XCTUnwrap(
      (0...(bytes.count - needle.count)).first { Array(bytes[$0..<$0 + needle.count]) == needle })
    var copy = bytes
    copy.replaceSubrange(start..<start + needle.count, with: replacement)
    return copy
  }

  func testTruncatedAndOversizedNpy() throws {
    let bytes = try TestFixtures.bytes("numpy/f4.npy")
    try TestFixtures.withTemporaryFolder { folder in
      for length in [0, 5, 9, 11, 60, 127, 128, 129, bytes.count - 1] {
        let path = try Support.file(Array(bytes[0..<length]), named: "f4.npy", in: folder)
        let error = Support.assertError(.truncated) {
          try Support.readAndLoad(path, format: "npy")
        }
        XCTAssertEqual(error?.file, path)
      }
      let path = try Support.file(bytes + [0, 0, 0, 0], named: "long.npy", in: folder)
      let error = Support.assertError(.corrupt, containing: "4 bytes follow") {
        try Support.readAndLoad(path)
      }
      XCTAssertEqual(error?.tensor, "long")
      XCTAssertEqual(error?.offset, bytes.count)
    }
  }

  func testShapeByteCountMismatch() throws {
    let bytes = try TestFixtures.bytes("numpy/f4.npy")
    try TestFixtures.withTemporaryFolder { folder in
      let bigger = try Support.file(
        try replacing("(3, 4)", with: "(3, 5)", in: bytes), named: "w.npy", in: folder)
      let error = Support.assertError(.truncated, containing: "needs 60 bytes, only 48") {
        try Support.readAndLoad(bigger)
      }
      XCTAssertEqual(error?.tensor, "w")
      let smaller = try Support.file(
        try replacing("(3, 4)", with: "(3, 3)", in: bytes), named: "w.npy", in: folder)
      Support.assertError(.corrupt, containing: "12 bytes follow") { try Support.readAndLoad(smaller) }
      let huge = try Support.file(
        try replacing("(3, 4), }      ", with: "(9999999999999,", in: bytes), named: "w.npy", in: folder)
      XCTAssertThrowsError(try Support.readAndLoad(huge))
    }
  }

  func testBadMagicAndHeader() throws {
    let bytes = try TestFixtures.bytes("numpy/f4.npy")
    try TestFixtures.withTemporaryFolder { folder in
      let magic = try Support.file(
        try replacing("NUMPY", with: "NUMPX", in: bytes), named: "m.npy", in: folder)
      Support.assertError(.badFormat, containing: "\\x93NUMPY") { try NPYFormat.read(path: magic) }
      let dict = try Support.file(
        try replacing("'shape'", with: "'shapy'", in: bytes), named: "d.npy", in: folder)
      let error = Support.assertError(.badFormat, containing: "unexpected key 'shapy'") {
        try NPYFormat.read(path: dict)
      }
      XCTAssertEqual(error?.file, dict)
      XCTAssertNotNil(error?.offset)
    }
  }

  /// Object, string and other dtypes are refused with the tensor's name, before any data is read.
  func testUnsupportedDtypesNameTheTensor() throws {
    let bytes = try TestFixtures.bytes("numpy/f8.npy")
    try TestFixtures.withTemporaryFolder { folder in
      for (descr, text) in [("|O8", "pickled"), ("<U2", "string"), ("<c8", "complex"), ("<M8", "datetime")] {
        let path = try Support.file(
          try replacing("<f8", with: descr, in: bytes), named: "obj.npy", in: folder)
        let error = Support.assertError(.unsupportedDType, containing: text) {
          try NPYFormat.read(path: path)
        }
        XCTAssertEqual(error?.tensor, "obj")
      }
    }
  }

  /// Damage inside an npz: header, sizes and CRC, reported with the tensor's name.
  func testDamagedNpzEntries() throws {
    let bytes = try TestFixtures.bytes("numpy/savez.npz")
    try TestFixtures.withTemporaryFolder { folder in
      // The 'weight' entry's shape no longer matches its byte count.
      let shape = try Support.file(
        try replacing("(3, 4)", with: "(3, 5)", in: bytes), named: "s.npz", in: folder)
      let error = Support.assertError(.truncated) { try Support.readAndLoad(shape) }
      XCTAssertEqual(error?.tensor, "weight")
      XCTAssertEqual(error?.file, shape)

      // A flipped data byte fails the CRC when the tensor loads, not before.
      let archive = try ZipReader(path: TestFixtures.path("numpy/savez.npz"))
      let entry = try XCTUnwrap(archive.entry(named: "fortran.npy"))
      var flipped = bytes
      flipped[entry.dataOffset + entry.uncompressedSize - 1] ^= 0x01
      let crc = try Support.file(flipped, named: "c.npz", in: folder)
      let checkpoint = try FormatRegistry.read(path: crc)
      XCTAssertNoThrow(try checkpoint["weight"]?.load())
      let crcError = Support.assertError(.checksumMismatch) { try checkpoint["fortran"]?.load() }
      XCTAssertEqual(crcError?.tensor, "fortran")

      let dtype = try Support.file(
        try replacing("'<f2'", with: "'|O8'", in: bytes), named: "o.npz", in: folder)
      let dtypeError = Support.assertError(.unsupportedDType, containing: "pickled") {
        try FormatRegistry.read(path: dtype)
      }
      XCTAssertEqual(dtypeError?.tensor, "layer/bias")
    }
  }

  func testDamagedDeflatedNpz() throws {
    let bytes = try TestFixtures.bytes("numpy/savez_compressed.npz")
    let archive = try ZipReader(path: TestFixtures.path("numpy/savez_compressed.npz"))
    try TestFixtures.withTemporaryFolder { folder in
      let entry = archive.entries[0]
      var broken = bytes
      for i in 0..<min(8, entry.compressedSize) { broken[entry.dataOffset + i] = 0xFF }
      let path = try Support.file(broken, named: "b.npz", in: folder)
      let error = Support.assertError(.corrupt, containing: "invalid compressed data") {
        try FormatRegistry.read(path: path)
      }
      XCTAssertEqual(error?.tensor, "weight")
      // Every truncation still fails cleanly.
      for length in stride(from: 0, to: bytes.count, by: 7) {
        let cut = try Support.file(Array(bytes[0..<length]), named: "t.npz", in: folder)
        XCTAssertThrowsError(try Support.readAndLoad(cut, format: "npz")) {
          XCTAssertTrue($0 is CheckpointError)
        }
      }
    }
  }
}
