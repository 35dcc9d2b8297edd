import CheckpointCore
import CheckpointTestSupport
import XCTest

/// Systematic damage to GGUF files written by gguf-py: bytes at boundary
/// values (header, key/value pairs, tensor infos, data), and the counts set to
/// huge values. Truncations and crafted huge lengths are in `GGUFMalformedTests`.
final class GGUFCorruptionTests: XCTestCase {
  private let fixtures = ["gguf/aligned64.gguf", "gguf/all_types.gguf"]

  func testHeaderBytesAtBoundaryValues() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "gguf", folder: folder, fileExtension: "gguf")
      try MemoryCeiling.run {
        for fixture in fixtures {
          let original = try TestFixtures.bytes(fixture)
          XCTAssertTrue(try harness.check(original, "\(fixture) unchanged"))
          // The whole small file; the first KiB (header, key/value pairs, tensor infos) of the larger one.
          for (label, bytes) in Corruption.boundaryChanges(original, in: 0..<min(original.count, 1024)) {
            try harness.check(bytes, "\(fixture) \(label)")
          }
        }
      }
      XCTAssertGreaterThan(harness.outcomes.refused, 2000, "\(harness.outcomes)")
    }
  }

  /// Version, tensor count and key/value count (u32 at 4, u64 at 8 and 16) set to huge values.
  func testHugeCountsAreRefusedBeforeAllocating() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "gguf", folder: folder, fileExtension: "gguf")
      try MemoryCeiling.run {
        for fixture in fixtures {
          let original = try TestFixtures.bytes(fixture)
          for (offset, width) in [(4, 4), (8, 8), (16, 8)] {
            for value in Corruption.hugeValues(width: width) {
              let bytes = Corruption.settingInteger(original, at: offset, width: width, to: value)
              try harness.expectRefusal(bytes, "\(fixture) field at \(offset) = \(value)")
            }
          }
        }
      }
    }
  }
}
