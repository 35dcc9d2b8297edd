import CheckpointCore
import CheckpointTestSupport
import XCTest

/// `InputFile.mapShared()`: one mapping of a file serves every reader while it is alive.
final class SharedFileMappingsTests: XCTestCase {
  private func address(_ bytes: TensorBytes) -> UnsafeRawPointer? {
    bytes.withUnsafeBytes { $0.baseAddress }
  }

  func testViewsComeFromTheSharedMappingWhileItIsAlive() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/data.bin"
      let content = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
      try TestFixtures.write(content, to: path)
      let hashing = try InputFile(path: path)
      let reading = try InputFile(path: path)
      do {
        let whole = try hashing.mapShared()
        XCTAssertEqual(whole.count, content.count)
        XCTAssertEqual(whole.origin?.offset, 0)
        // Another InputFile of the same file gets views into that mapping, at any offset.
        let view = try reading.mapBytes(count: 1000, at: 12345)
        XCTAssertEqual(address(view), address(whole).map { $0 + 12345 })
        XCTAssertEqual(view.array, Array(content[12345..<13345]))
        XCTAssertEqual(view.origin?.offset, 12345)
        XCTAssertEqual(address(try reading.mapShared()), address(whole))
      }
      // Released: later views are mappings of their own, with the same bytes.
      let later = try reading.mapBytes(count: 1000, at: 12345)
      XCTAssertEqual(later.array, Array(content[12345..<13345]))
      let whole = try hashing.mapShared()
      XCTAssertNotEqual(address(later), address(whole).map { $0 + 12345 })
    }
  }

  func testAChangedFileIsNotServedFromTheOldMapping() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/data.bin"
      try TestFixtures.write([UInt8](repeating: 1, count: 8192), to: path)
      let whole = try InputFile(path: path).mapShared()
      // Replaced by a new file (another inode) of another size: its own mapping.
      let replacement = folder + "/new.bin"
      try TestFixtures.write([UInt8](repeating: 2, count: 4096), to: replacement)
      XCTAssertEqual(rename(replacement, path), 0)
      let view = try InputFile(path: path).mapBytes(count: 16, at: 100)
      XCTAssertEqual(view.array, [UInt8](repeating: 2, count: 16))
      XCTAssertEqual(whole.withUnsafeBytes { $0[100] }, 1)
    }
  }

  func testAnEmptyFileMapsToNoBytes() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/empty.bin"
      try TestFixtures.write([], to: path)
      XCTAssertEqual(try InputFile(path: path).mapShared().count, 0)
    }
  }
}
