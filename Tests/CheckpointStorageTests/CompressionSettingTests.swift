import CheckpointStorage
import XCTest

final class CompressionSettingTests: XCTestCase {
  func testParsesCodecAndLevel() throws {
    XCTAssertEqual(try CompressionSetting(parsing: "zlib"), CompressionSetting(codec: .zlib, level: 6))
    XCTAssertEqual(try CompressionSetting(parsing: "zlib:1"), CompressionSetting(codec: .zlib, level: 1))
    XCTAssertEqual(try CompressionSetting(parsing: "none"), .none)
    for bad in ["gzip", "zlib:0", "zlib:10", "zlib:x", "none:3"] {
      XCTAssertThrowsError(try CompressionSetting(parsing: bad), bad)
    }
  }
}
