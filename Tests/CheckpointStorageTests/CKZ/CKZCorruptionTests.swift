import CheckpointCore
import XCTest

@testable import CheckpointStorage

final class CKZCorruptionTests: XCTestCase {
  /// A small file: float32 (grouped, compressible), bf16, int64, random bytes
  /// (planes stored raw), a scalar, an empty tensor, metadata and provenance.
  private func smallFile(_ compression: CompressionSetting) throws -> [UInt8] {
    let checkpoint = try Checkpoint(
      tensors: [
        CKZTestData.tensor("encoder.weight", .f32, [16, 24], CKZTestData.float32(384, seed: 1)),
        CKZTestData.tensor("encoder.bias", .bf16, [200], CKZTestData.bfloat16(200, seed: 2)),
        CKZTestData.tensor("positions", .i64, [40], (0..<40).flatMap { Int64($0).littleEndianBytes }),
        CKZTestData.tensor("noise", .u8, [300], CKZTestData.random(300, seed: 3)),
        CKZTestData.tensor("step", .i32, [], Int32(7).littleEndianBytes),
        CKZTestData.tensor("empty", .f16, [0], []),
      ], metadata: ["format": "pt"])
    let source = NSTemporaryDirectory() + "ckz-source-\(UUID().uuidString)"
    try Data("source".utf8).write(to: URL(fileURLWithPath: source))
    defer { try? FileManager.default.removeItem(atPath: source) }
    return try CKZTestData.ckzBytes(
      checkpoint, compression: compression,
      provenance: Provenance(
        sourcePath: source, sourceFormat: "safetensors", sourceLayout: "pytorch", tool: "t"))
  }

  /// Opens `bytes` and loads every tensor; returns the first error, or nil.
  private func firstError(_ bytes: [UInt8]) -> Error? {
    do {
      let reader = try CKZReader(bytes: bytes)
      for index in reader.entries.indices { _ = try reader.load(index) }
      return nil
    } catch {
      return error
    }
  }

  func testEverySingleBitFlipIsDetected() throws {
    for setting in [CompressionSetting(codec: .zlib, level: 6), .none] {
      let original = try smallFile(setting)
      XCTAssertLessThanOrEqual(original.count, 16 << 10)
      XCTAssertNil(firstError(original))
      var undetected: [String] = []
      var flipped = original
      for bit in 0..<original.count * 8 {
        flipped[bit / 8] ^= 1 << UInt8(bit % 8)
        if firstError(flipped) == nil { undetected.append("byte \(bit / 8) bit \(bit % 8)") }
        flipped[bit / 8] ^= 1 << UInt8(bit % 8)
      }
      XCTAssertEqual(undetected, [], "\(setting): \(original.count) bytes, undetected flips")
    }
  }

  func testEveryTruncationIsAClearError() throws {
    let original = try smallFile(.init(codec: .zlib, level: 1))
    for length in 0..<original.count {
      let error = try XCTUnwrap(firstError(Array(original[0..<length])) as? CheckpointError, "\(length)")
      XCTAssertEqual(error.file, "<memory>")
      if length >= 96 {
        XCTAssertEqual(error.kind, .truncated, "\(length): \(error)")
        XCTAssertTrue(error.description.contains("truncated"), error.description)
      }
    }
  }

  func testIndexCorruptionIsNamed() throws {
    var bytes = try smallFile(.init(codec: .zlib, level: 6))
    let footer = try CKZLayout.Footer(decoding: Array(bytes.suffix(32)), fileSize: bytes.count)
    bytes[footer.indexOffset + 10] ^= 0x40
    let error = try XCTUnwrap(firstError(bytes) as? CheckpointError)
    XCTAssertEqual(error.kind, .checksumMismatch)
    XCTAssertEqual(error.offset, footer.indexOffset)
    XCTAssertTrue(error.description.contains("index CRC32 mismatch"), error.description)
  }

  func testChunkCorruptionNamesTensorAndChunk() throws {
    let elements = 700_000  // three chunks of F32
    let checkpoint = try Checkpoint(tensors: [
      CKZTestData.tensor("a", .f32, [2], CKZTestData.float32(2, seed: 1)),
      CKZTestData.tensor("big.weight", .f32, [elements], CKZTestData.float32(elements, seed: 2)),
    ])
    for setting in [CompressionSetting(codec: .zlib, level: 1), .none] {
      var bytes = try CKZTestData.ckzBytes(checkpoint, compression: setting)
      let entry = try XCTUnwrap(try CKZReader(bytes: bytes).entry(named: "big.weight"))
      let chunk1 = entry.offset + entry.chunks[0].storedSize
      let chunk2 = chunk1 + entry.chunks[1].storedSize
      bytes[chunk1 + 100] ^= 1
      bytes[chunk2 + entry.chunks[2].storedSize - 1] ^= 0x80
      let reader = try CKZReader(bytes: bytes)
      XCTAssertNoThrow(try reader.load(0), "other tensors stay readable")
      XCTAssertThrowsError(try reader.load(1)) { error in
        let error = error as! CheckpointError
        XCTAssertEqual(error.kind, .checksumMismatch)
        XCTAssertEqual(error.tensor, "big.weight")
        XCTAssertEqual(error.offset, chunk1)
        XCTAssertTrue(error.message.hasPrefix("chunk 1 of 3"), error.message)
      }
      let failures = reader.verify(1)
      XCTAssertEqual(failures.map(\.chunk), [1, 2], "\(setting)")
      // Without verification the damaged bytes come through for codec none.
      let unchecked = try CKZReader(bytes: bytes, verifyChecksums: false)
      if setting == .none { XCTAssertNoThrow(try unchecked.load(1)) }
    }
  }

  func testNonZeroPaddingIsDetected() throws {
    var bytes = try smallFile(.none)
    let reader = try CKZReader(bytes: bytes)
    let padded = try XCTUnwrap(
      reader.entries.indices.dropLast().first {
        reader.entries[$0].offset + reader.entries[$0].storedByteCount < reader.entries[$0 + 1].offset
      })
    let end = reader.entries[padded].offset + reader.entries[padded].storedByteCount
    bytes[end + 1] = 1
    XCTAssertNoThrow(try CKZReader(bytes: bytes).load(padded + 1))
    XCTAssertThrowsError(try CKZReader(bytes: bytes).load(padded)) { error in
      XCTAssertEqual((error as! CheckpointError).offset, end + 1)
      XCTAssertTrue("\(error)".contains("padding"), "\(error)")
    }
  }

  func testImpossibleExpansionIsRejectedBeforeAllocating() throws {
    // One 1 GiB chunk claimed to be stored in 16 bytes (just its plane table).
    let entry = CKZTensorEntry(
      info: TensorInfo(name: "zeros", dtype: .f32, shape: [1 << 28]), codec: .zlib, level: 6, groupWidth: 4,
      offset: 64, rawByteCount: 1 << 30, chunkSize: 1 << 30,
      chunks: [CKZChunk(storedSize: 16, rawCRC: 0, storedCRC: 0)], storedByteCount: 16)
    let index = CKZIndex(entries: [entry], metadata: [:], provenance: [:]).encoded()
    XCTAssertThrowsError(try CKZIndex(decoding: index, indexOffset: 128)) { error in
      XCTAssertTrue("\(error)".contains("chunk 0 stored size 16 is impossible"), "\(error)")
      XCTAssertEqual((error as? CheckpointError)?.tensor, "zeros")
    }
  }

  func testHeaderProblemsAreNamed() throws {
    let original = try smallFile(.init(codec: .zlib, level: 6))
    var notCKZ = original
    notCKZ[1] = UInt8(ascii: "X")
    XCTAssertEqual((firstError(notCKZ) as? CheckpointError)?.kind, .badFormat)
    XCTAssertEqual((firstError(Array("hello".utf8)) as? CheckpointError)?.kind, .truncated)
    // A newer minor version with a valid header CRC is refused, not guessed at.
    var newer = original
    newer[10] = 1
    let crc = Zlib.crc32(Array(newer[0..<60])).littleEndianBytes
    newer.replaceSubrange(60..<64, with: crc)
    let error = try XCTUnwrap(firstError(newer) as? CheckpointError)
    XCTAssertEqual(error.kind, .unsupported)
    XCTAssertTrue(error.message.contains("1.1 is newer"), error.message)
  }
}
