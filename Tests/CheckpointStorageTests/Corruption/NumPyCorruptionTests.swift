import CheckpointCore
import CheckpointTestSupport
import XCTest

/// Systematic damage to `.npy` files written by numpy: every truncation, every
/// header byte at boundary values, huge header lengths and shapes (random
/// damage is in `NumPyMutationTests`, crafted cases in `NumPyMalformedTests`).
final class NumPyCorruptionTests: XCTestCase {
  private let fixtures = ["numpy/f4.npy", "numpy/fortran_3d.npy", "numpy/v2.npy", "numpy/scalar.npy"]

  /// The header's end: magic, version, length field (2 bytes in v1, 4 in v2/v3), text.
  private func headerEnd(_ bytes: [UInt8]) -> (lengthWidth: Int, end: Int) {
    let width = bytes[6] == 1 ? 2 : 4
    let length = (0..<width).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
    return (width, 8 + width + length)
  }

  func testEveryTruncationIsRefused() throws {
    let outcomes = try CorruptionHarness.sweep(format: "npy", fileExtension: "npy") {
      try $0.checkEveryTruncation(of: fixtures)
    }
    let cases = try fixtures.reduce(0) { $0 + (try TestFixtures.bytes($1)).count }
    XCTAssertEqual(outcomes.read, 0, "\(outcomes)")
    XCTAssertEqual(outcomes.refused, cases, "\(outcomes)")
  }

  func testEveryHeaderByteAtBoundaryValues() throws {
    let outcomes = try CorruptionHarness.sweep(format: "npy", fileExtension: "npy") {
      try $0.checkBoundaryValues(in: fixtures, before: { headerEnd($0).end })
    }
    XCTAssertGreaterThan(outcomes.refused, 1000, "\(outcomes)")
  }

  func testHugeHeaderLengthsAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "npy", folder: folder, fileExtension: "npy")
      try MemoryCeiling.run {
        for fixture in fixtures {
          let original = try TestFixtures.bytes(fixture)
          let width = headerEnd(original).lengthWidth
          for value in Corruption.hugeValues(width: width) {
            let bytes = Corruption.settingInteger(original, at: 8, width: width, to: value)
            try harness.expectRefusal(bytes, "\(fixture) header length \(value)")
          }
        }
      }
    }
  }

  /// Every dimension of the shape tuple replaced by numbers past 2^63, 2^64, -1.
  func testOverflowingShapesAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "npy", folder: folder, fileExtension: "npy")
      try MemoryCeiling.run {
        for fixture in ["numpy/f4.npy", "numpy/fortran_3d.npy", "numpy/v2.npy"] {
          let original = try TestFixtures.bytes(fixture)
          let (width, end) = headerEnd(original)
          let text = Array(original[(8 + width)..<end])
          let data = Array(original[end...])
          let ranges = Corruption.numberRanges(in: text, quote: UInt8(ascii: "'"))
          XCTAssertFalse(ranges.isEmpty, fixture)
          for range in ranges {
            for number in Corruption.hugeDecimals {
              var header = text
              header.replaceSubrange(range, with: Array(number.utf8))
              let length = Corruption.settingInteger(
                [UInt8](repeating: 0, count: width), at: 0, width: width, to: UInt64(header.count))
              let bytes = Array(original[0..<8]) + length + header + data
              try harness.expectRefusal(bytes, "\(fixture): dimension at \(range) set to \(number)")
            }
          }
        }
      }
    }
  }
}
