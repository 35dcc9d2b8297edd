import CheckpointCore
import CheckpointStorage
import CheckpointTestSupport
import XCTest

final class SafetensorsReaderTests: XCTestCase {
  func testSHA256HelperMatchesKnownDigests() {
    XCTAssertEqual(
      SHA256Digest.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(
      SHA256Digest.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }

  func testReadsEveryNumpyDTypeExactly() throws {
    let expected = try SafetensorsExpectations().file("dtypes.safetensors")
    let checkpoint = try SafetensorsFormat.read(path: TestFixtures.path("safetensors/dtypes.safetensors"))
    XCTAssertEqual(checkpoint.format, "safetensors")
    XCTAssertEqual(checkpoint.metadata, [:])
    try SafetensorsExpectations.assertTensors(checkpoint.tensors, equal: expected.tensors)
    XCTAssertEqual(checkpoint["scalar"]?.shape, [])
    XCTAssertEqual(checkpoint["empty"]?.shape, [0, 3])
    XCTAssertEqual(checkpoint["empty"]?.byteCount, 0)
    XCTAssertEqual(checkpoint["unicode.\u{e9}"]?.dtype, .u8)
    // Real values, not only hashes: the 0-d float and the special floats.
    let scalar = try XCTUnwrap(checkpoint["scalar"]).load().array
    XCTAssertEqual(Float(bitPattern: UInt32(littleEndianBytes: scalar)), 3.25)
    let weight = try XCTUnwrap(checkpoint["layer.0.weight"]).load().array
    let floats = (0..<4).map {
      Float(bitPattern: UInt32(littleEndianBytes: Array(weight[4 * $0..<4 * $0 + 4])))
    }
    XCTAssertTrue(floats[0].isNaN)
    XCTAssertEqual(floats[1], .infinity)
    XCTAssertEqual(floats[2], -.infinity)
    XCTAssertEqual(floats[3].bitPattern, (-0.0 as Float).bitPattern)
  }

  func testTensorsAreInDataOrder() throws {
    let checkpoint = try SafetensorsFormat.read(path: TestFixtures.path("safetensors/dtypes.safetensors"))
    // The library writes by dtype (Dtype enum order, descending), then by name.
    XCTAssertEqual(
      checkpoint.tensors.map(\.name),
      [
        "i64", "double", "empty", "layer.0.bias", "layer.0.weight", "scalar", "i32", "half", "i16", "i8",
        "u8",
        "unicode.\u{e9}", "mask",
      ])
  }

  func testReadsTorchBF16AndMetadata() throws {
    let expected = try SafetensorsExpectations().file("bf16.safetensors")
    let checkpoint = try SafetensorsFormat.read(path: TestFixtures.path("safetensors/bf16.safetensors"))
    XCTAssertEqual(checkpoint.metadata, expected.metadata)
    XCTAssertEqual(checkpoint.metadata, ["format": "pt"])
    try SafetensorsExpectations.assertTensors(checkpoint.tensors, equal: expected.tensors)
    XCTAssertEqual(checkpoint["embed.weight"]?.dtype, .bf16)
  }

  func testReadsMetadataWithEscapes() throws {
    let expected = try SafetensorsExpectations().file("metadata.safetensors")
    let checkpoint = try FormatRegistry.read(path: TestFixtures.path("safetensors/metadata.safetensors"))
    XCTAssertEqual(checkpoint.metadata, expected.metadata)
    XCTAssertEqual(checkpoint.metadata["note"], "line1\nline2 \u{e9}")
    try SafetensorsExpectations.assertTensors(checkpoint.tensors, equal: expected.tensors)
  }

  func testDetectionByMagicAndExtension() throws {
    let path = TestFixtures.path("safetensors/dtypes.safetensors")
    XCTAssertTrue(try FormatRegistry.detect(path: path) == SafetensorsFormat.self)
    XCTAssertTrue(SafetensorsFormat.matches(prefix: try TestFixtures.bytes("safetensors/bf16.safetensors")))
    XCTAssertFalse(SafetensorsFormat.matches(prefix: Array("{\"metadata\": {}}".utf8)))
    XCTAssertFalse(SafetensorsFormat.matches(prefix: [2, 0, 0, 0, 0, 0, 0, 0]))
    XCTAssertTrue(FormatRegistry.format(forExtensionOf: "a/model.safetensors") == SafetensorsFormat.self)
  }

  func testHeaderIsParsedWithoutReadingData() throws {
    // A file whose data region is unreadable garbage still lists: only headers are read.
    let file = try InputFile(path: TestFixtures.path("safetensors/bf16.safetensors"))
    let header = try SafetensorsHeader(reading: file)
    XCTAssertEqual(header.length, 232)
    XCTAssertEqual(header.dataStart, 240)
    XCTAssertEqual(header.dataSize, 36)
    XCTAssertEqual(header.entries.map(\.dataOffsets), [0..<12, 12..<36, 36..<36])
    XCTAssertEqual(header.metadata, ["format": "pt"])
  }

  func testLoadReportsAFileThatShrankAfterOpening() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/shrinks.safetensors"
      let bytes = try TestFixtures.bytes("safetensors/bf16.safetensors")
      try TestFixtures.write(bytes, to: path)
      let checkpoint = try SafetensorsFormat.read(path: path)
      XCTAssertEqual(truncate(path, 250), 0)
      XCTAssertThrowsError(try checkpoint["embed.weight"]?.load()) { error in
        let error = error as? CheckpointError
        XCTAssertEqual(error?.kind, .truncated)
        XCTAssertEqual(error?.tensor, "embed.weight")
        XCTAssertEqual(error?.offset, 252)
      }
    }
  }
}

extension UInt32 {
  init(littleEndianBytes bytes: [UInt8]) {
    self = bytes.prefix(4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
  }
}
