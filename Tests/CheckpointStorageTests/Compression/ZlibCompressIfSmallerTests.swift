import CheckpointCore
import XCTest

@testable import CheckpointStorage

final class ZlibCompressIfSmallerTests: XCTestCase {
  private func roundTrip(_ input: [UInt8], strategy: Zlib.Strategy) throws -> Int? {
    var room = [UInt8](repeating: 0, count: input.count - 1)
    let size = try input.withUnsafeBytes { source in
      try room.withUnsafeMutableBytes {
        try Zlib.compressIfSmaller(source, into: $0, level: 6, strategy: strategy)
      }
    }
    guard let size else { return nil }
    var output = [UInt8](repeating: 0, count: input.count)
    try room.withUnsafeBytes { stored in
      try output.withUnsafeMutableBytes {
        try Zlib.decompress(UnsafeRawBufferPointer(rebasing: stored[0..<size]), into: $0, framing: .raw)
      }
    }
    XCTAssertEqual(output, input)
    return size
  }

  func testCompressibleDataRoundTripsWithEveryStrategy() throws {
    // Skewed bytes with runs, like an exponent plane.
    let input = (0..<300_000).map { UInt8(truncatingIfNeeded: ($0 / 7) % 5 + 120) }
    for strategy in [Zlib.Strategy.default, .rle, .huffmanOnly] {
      let size = try XCTUnwrap(try roundTrip(input, strategy: strategy), "\(strategy)")
      XCTAssertLessThan(size, input.count / 2)
    }
  }

  func testIncompressibleDataGivesUp() throws {
    var state: UInt64 = 1
    let input = (0..<300_000).map { _ -> UInt8 in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: state >> 56)
    }
    XCTAssertNil(try roundTrip(input, strategy: .default))
    XCTAssertNil(try roundTrip(input, strategy: .huffmanOnly))
    // Too small an output buffer also gives up instead of failing.
    let tiny = [UInt8](repeating: 1, count: 10)
    var room = [UInt8](repeating: 0, count: 2)
    XCTAssertNil(
      try tiny.withUnsafeBytes { source in
        try room.withUnsafeMutableBytes { try Zlib.compressIfSmaller(source, into: $0, level: 9) }
      })
  }
}
