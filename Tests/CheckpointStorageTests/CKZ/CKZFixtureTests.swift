import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

/// Files written by the independent Python implementation of the spec
/// (Fixtures/gen/ckz.py): the Swift reader must decode them exactly.
final class CKZFixtureTests: XCTestCase {
  private func hexBytes(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
      let next = text.index(index, offsetBy: 2)
      bytes.append(UInt8(text[index..<next], radix: 16)!)
      index = next
    }
    return bytes
  }

  func testReadsFilesFromTheReferenceWriter() throws {
    let expected = try JSONValue.parse(try TestFixtures.bytes("ckz/expected.json"))
    let tensors = try XCTUnwrap(expected["tensors"]?.arrayValue)
    let metadata = try XCTUnwrap(expected["metadata"]?.objectValue)
    let provenance = try XCTUnwrap(expected["provenance"]?.objectValue)
    for (file, codec, chunkSize) in [
      ("ckz/stored.ckz", CKZCodec.none, 1 << 20), ("ckz/zlib.ckz", .zlib, 256),
    ] {
      let checkpoint = try FormatRegistry.read(path: TestFixtures.path(file))
      XCTAssertEqual(checkpoint.format, "ckz")
      XCTAssertEqual(checkpoint.tensors.count, tensors.count)
      for (tensor, want) in zip(checkpoint.tensors, tensors) {
        XCTAssertEqual(tensor.name, want["name"]?.stringValue)
        XCTAssertEqual(tensor.dtype.name, want["dtype"]?.stringValue)
        XCTAssertEqual(tensor.shape, want["shape"]?.arrayValue?.compactMap(\.intValue))
        XCTAssertEqual(
          try tensor.load().array, hexBytes(try XCTUnwrap(want["hex"]?.stringValue)), tensor.name)
      }
      var wantMetadata: [String: String] = [:]
      for (key, value) in metadata { wantMetadata[key] = value.stringValue }
      for (key, value) in provenance { wantMetadata["ckz." + key] = value.stringValue }
      XCTAssertEqual(checkpoint.metadata, wantMetadata, file)
      let reader = try CKZReader(path: TestFixtures.path(file))
      XCTAssertTrue(reader.entries.allSatisfy { $0.codec == codec && $0.chunkSize == chunkSize }, file)
      XCTAssertEqual(reader.verifyAll(), [])
    }
    // The reference weight tensor is float32 values near zero.
    let weight = try XCTUnwrap(
      try FormatRegistry.read(path: TestFixtures.path("ckz/zlib.ckz"))["encoder.weight"])
    let first = try weight.load().withUnsafeBytes { Float(bitPattern: $0.loadUnaligned(as: UInt32.self)) }
    XCTAssertLessThan(abs(first), 0.5)
  }

  func testEveryBitFlipOfAReferenceFileIsDetected() throws {
    let original = try TestFixtures.bytes("ckz/zlib.ckz")
    var flipped = original
    var undetected: [Int] = []
    for bit in 0..<original.count * 8 {
      flipped[bit / 8] ^= 1 << UInt8(bit % 8)
      do {
        let reader = try CKZReader(bytes: flipped)
        for index in reader.entries.indices { _ = try reader.load(index) }
        undetected.append(bit)
      } catch {}
      flipped[bit / 8] ^= 1 << UInt8(bit % 8)
    }
    XCTAssertEqual(undetected, [])
  }
}
