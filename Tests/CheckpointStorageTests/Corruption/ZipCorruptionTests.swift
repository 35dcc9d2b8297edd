import CheckpointCore
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// Systematic damage to `.npz` archives written by numpy (stored, deflated,
/// streamed with data descriptors, zip64): every truncation, every byte of
/// every zip record (local headers, central directory, end records) at
/// boundary values, and every size, count and offset field set to values that
/// overflow. `ZipReaderTests` holds the crafted cases (zip bombs, extreme zip64
/// fields, overlaps) with their exact errors.
final class ZipCorruptionTests: XCTestCase {
  private let fixtures = [
    "numpy/savez.npz", "numpy/savez_compressed.npz", "numpy/streamed.npz", "numpy/zip64.npz",
  ]

  /// The byte ranges holding zip structure rather than entry data.
  private func recordRanges(_ path: String, size: Int) throws -> [Range<Int>] {
    let zip = try ZipReader(path: path)
    let data = zip.entries.map { $0.dataOffset..<$0.dataOffset + $0.compressedSize }.sorted {
      $0.lowerBound < $1.lowerBound
    }
    var ranges: [Range<Int>] = []
    var position = 0
    for range in data {
      if range.lowerBound > position { ranges.append(position..<range.lowerBound) }
      position = max(position, range.upperBound)
    }
    if position < size { ranges.append(position..<size) }
    return ranges
  }

  func testEveryTruncationIsRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "npz", folder: folder, fileExtension: "npz")
      try MemoryCeiling.run {
        for fixture in fixtures {
          for (label, bytes) in Corruption.truncations(try TestFixtures.bytes(fixture)) {
            try harness.expectRefusal(bytes, "\(fixture) \(label)")
          }
        }
      }
    }
  }

  func testEveryRecordByteAtBoundaryValues() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "npz", folder: folder, fileExtension: "npz")
      try MemoryCeiling.run {
        for fixture in fixtures {
          let original = try TestFixtures.bytes(fixture)
          for range in try recordRanges(TestFixtures.path(fixture), size: original.count) {
            for (label, bytes) in Corruption.boundaryChanges(original, in: range) {
              try harness.check(bytes, "\(fixture) \(label)")
            }
          }
        }
      }
      XCTAssertGreaterThan(harness.outcomes.refused, 2000, "\(harness.outcomes)")
    }
  }

  /// Sizes, counts and offsets of every local header, central header and end record set to huge values.
  func testHugeSizesCountsAndOffsetsAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "npz", folder: folder, fileExtension: "npz")
      try MemoryCeiling.run {
        for fixture in ["numpy/savez.npz", "numpy/savez_compressed.npz"] {
          let original = try TestFixtures.bytes(fixture)
          var fields: [(name: String, offset: Int, width: Int)] = []
          for header in ZipTestArchives.localHeaderOffsets(original) {
            fields += [
              ("local compressed size", header + 18, 4), ("local size", header + 22, 4),
              ("local name length", header + 26, 2), ("local extra length", header + 28, 2),
            ]
          }
          for header in ZipTestArchives.centralHeaderOffsets(original) {
            fields += [
              ("central compressed size", header + 20, 4), ("central size", header + 24, 4),
              ("central name length", header + 28, 2), ("central extra length", header + 30, 2),
              ("central local offset", header + 42, 4),
            ]
          }
          let end = original.count - 22
          fields += [
            ("end entry count", end + 8, 2), ("end total count", end + 10, 2),
            ("end directory size", end + 12, 4), ("end directory offset", end + 16, 4),
          ]
          for field in fields {
            for value in Corruption.hugeValues(width: field.width) {
              let bytes = Corruption.settingInteger(original, at: field.offset, width: field.width, to: value)
              try harness.check(bytes, "\(fixture) \(field.name) at \(field.offset) = \(value)")
            }
          }
          // The declared sizes of every entry set to the largest values: nothing may be read.
          var allHuge = original
          for field in fields where field.name.hasSuffix("size") {
            allHuge = Corruption.settingInteger(
              allHuge, at: field.offset, width: field.width, to: 0x7FFF_FFFF)
          }
          try harness.expectRefusal(allHuge, "\(fixture) every declared size 2^31-1")
        }
      }
      XCTAssertGreaterThan(harness.outcomes.refused, 100, "\(harness.outcomes)")
    }
  }
}
