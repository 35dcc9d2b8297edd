import CheckpointCore
import CheckpointTestSupport
import XCTest

/// Systematic damage to safetensors files written by the library: every
/// truncation, every header byte at boundary values, and overflowing numbers
/// in the length field and the JSON (the hand-crafted rejection cases with
/// their exact messages are in `SafetensorsHeaderTests`).
final class SafetensorsCorruptionTests: XCTestCase {
  private let fixtures = ["safetensors/bf16.safetensors", "safetensors/metadata.safetensors"]

  private func headerLength(_ bytes: [UInt8]) -> Int {
    (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
  }

  func testEveryTruncationIsRefused() throws {
    let outcomes = try CorruptionHarness.sweep(format: "safetensors", fileExtension: "safetensors") {
      try $0.checkEveryTruncation(of: fixtures)
    }
    let cases = try fixtures.reduce(0) { $0 + (try TestFixtures.bytes($1)).count }
    XCTAssertEqual(outcomes.read, 0, "\(outcomes)")
    XCTAssertEqual(outcomes.refused, cases, "\(outcomes)")
  }

  func testEveryHeaderByteAtBoundaryValues() throws {
    let outcomes = try CorruptionHarness.sweep(format: "safetensors", fileExtension: "safetensors") {
      try $0.checkBoundaryValues(in: fixtures, before: { 8 + headerLength($0) })
    }
    XCTAssertGreaterThan(outcomes.refused, 1000, "\(outcomes)")
  }

  func testHugeHeaderLengthsAreRefusedBeforeAllocating() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "safetensors", folder: folder, fileExtension: "safetensors")
      let original = try TestFixtures.bytes("safetensors/bf16.safetensors")
      try MemoryCeiling.run {
        for value in Corruption.hugeValues(width: 8) + [UInt64(original.count), 99_999_999, 100_000_001] {
          let bytes = Corruption.settingInteger(original, at: 0, width: 8, to: value)
          try harness.expectRefusal(bytes, "header length \(value)")
        }
      }
    }
  }

  /// Every shape dimension and data offset replaced by numbers past 2^63, 2^64, -1.
  func testOverflowingShapesAndOffsetsAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "safetensors", folder: folder, fileExtension: "safetensors")
      try MemoryCeiling.run {
        for fixture in fixtures {
          let original = try TestFixtures.bytes(fixture)
          let length = headerLength(original)
          let header = Array(original[8..<8 + length])
          let data = Array(original[(8 + length)...])
          for range in Corruption.numberRanges(in: header, quote: UInt8(ascii: "\"")) {
            for number in Corruption.hugeDecimals {
              var text = header
              text.replaceSubrange(range, with: Array(number.utf8))
              let bytes =
                Corruption.settingInteger(
                  [UInt8](repeating: 0, count: 8), at: 0, width: 8, to: UInt64(text.count)) + text + data
              try harness.expectRefusal(bytes, "\(fixture): number at \(range) set to \(number)")
            }
          }
        }
      }
    }
  }

  /// Each tensor's data offsets moved past the end of the file or onto another tensor's bytes.
  func testOffsetsPastTheEndAndOverlapsAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var harness = try CorruptionHarness(format: "safetensors", folder: folder, fileExtension: "safetensors")
      for fixture in fixtures {
        let original = try TestFixtures.bytes(fixture)
        let length = headerLength(original)
        let header = String(decoding: original[8..<8 + length], as: UTF8.self)
        let data = Array(original[(8 + length)...])
        let json = try JSONValue.parse(Array(header.utf8))
        var offsets: [(name: String, start: Int, end: Int)] = []
        for (name, value) in json.objectValue ?? [] where name != "__metadata__" {
          let pair = value["data_offsets"]?.arrayValue?.compactMap(\.intValue) ?? []
          offsets.append((name, pair[0], pair[1]))
        }
        XCTAssertGreaterThan(offsets.count, 0)
        try MemoryCeiling.run {
          for tensor in offsets where tensor.end > tensor.start {
            let size = tensor.end - tensor.start
            for (start, end) in [
              (data.count, data.count + size), (data.count - size + 1, data.count + 1),
              (tensor.start, tensor.end + 1),
              (tensor.end, tensor.start), (Int.max - size, Int.max),
            ] {
              let text = header.replacingOccurrences(
                of: "\"data_offsets\":[\(tensor.start),\(tensor.end)]",
                with: "\"data_offsets\":[\(start),\(end)]")
              XCTAssertNotEqual(text, header, "offsets of \(tensor.name) not found in the header")
              let textBytes = Array(text.utf8)
              let bytes =
                Corruption.settingInteger(
                  [UInt8](repeating: 0, count: 8), at: 0, width: 8, to: UInt64(textBytes.count)) + textBytes
                + data
              try harness.expectRefusal(bytes, "\(tensor.name) at \(start)..<\(end)")
            }
          }
          if offsets.count >= 2 {
            // The second tensor placed on the first tensor's bytes.
            let (first, second) = (offsets[0], offsets[1])
            let text = header.replacingOccurrences(
              of: "\"data_offsets\":[\(second.start),\(second.end)]",
              with: "\"data_offsets\":[\(first.start),\(first.start + second.end - second.start)]")
            let textBytes = Array(text.utf8)
            let bytes =
              Corruption.settingInteger(
                [UInt8](repeating: 0, count: 8), at: 0, width: 8, to: UInt64(textBytes.count)) + textBytes
              + data
            try harness.expectRefusal(bytes, "overlapping tensors")
          }
        }
      }
    }
  }
}
