import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

final class SHA256Tests: XCTestCase {
  func testKnownAnswers() throws {
    // FIPS 180-2 examples: the empty message, "abc" and one million 'a'.
    let empty = try [UInt8]().withUnsafeBytes { try SHA256.digest($0) }
    XCTAssertEqual(SHA256.hex(empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    let abc = try Array("abc".utf8).withUnsafeBytes { try SHA256.digest($0) }
    XCTAssertEqual(SHA256.hex(abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    XCTAssertEqual(
      SHA256.hex(try million.withUnsafeBytes { try SHA256.digest($0) }),
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  func testFileDigestReadsInPieces() throws {
    try TestFixtures.withTemporaryFolder { folder in
      // Larger than one 4 MiB read piece, so the pieces are chained.
      let path = folder + "/a.bin"
      let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 5_000_000)
      try TestFixtures.write(bytes, to: path)
      let whole = try bytes.withUnsafeBytes { try SHA256.digest($0) }
      XCTAssertEqual(try SHA256.digest(ofFileAt: path), whole)
      XCTAssertThrowsError(try SHA256.digest(ofFileAt: folder + "/missing"))
    }
  }
}
