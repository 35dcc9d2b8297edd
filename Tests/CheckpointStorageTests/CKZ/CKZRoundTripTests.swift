import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

final class CKZRoundTripTests: XCTestCase {
  private func assertSame(
    _ a: Checkpoint, _ b: Checkpoint, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    XCTAssertEqual(a.tensors.map(\.name), b.tensors.map(\.name), file: file, line: line)
    for (x, y) in zip(a.tensors, b.tensors) {
      XCTAssertEqual(x.info, y.info, file: file, line: line)
      XCTAssertEqual(try x.load(), try y.load(), "bytes of \(x.name)", file: file, line: line)
    }
  }

  func testEveryDTypeRoundTripsBitExactWithEveryCodec() throws {
    let original = try CKZTestData.everyDType()
    for setting in ["none", "zlib:1", "zlib:6", "zlib:9"] {
      let bytes = try CKZTestData.ckzBytes(original, compression: try CompressionSetting(parsing: setting))
      let reader = try CKZReader(bytes: bytes)
      let read = try reader.checkpoint()
      XCTAssertEqual(read.format, "ckz")
      XCTAssertEqual(read.metadata, original.metadata, setting)
      try assertSame(original, read)
      for (entry, tensor) in zip(reader.entries, read.tensors) {
        XCTAssertEqual(tensor.storedByteCount, entry.storedByteCount)
        XCTAssertEqual(entry.offset % 64, 0, "section of \(entry.info.name) is 64-byte aligned")
        XCTAssertEqual(entry.codec.name, setting == "none" ? "none" : "zlib")
      }
      let big = try XCTUnwrap(reader.entry(named: "big.weight"))
      XCTAssertEqual(big.chunks.count, 3, "2.4 MB in 1 MiB chunks")
      XCTAssertEqual(big.groupWidth, setting == "none" ? 1 : 4)
      XCTAssertEqual(try XCTUnwrap(reader.entry(named: "big.bf16")).groupWidth, setting == "none" ? 1 : 2)
      XCTAssertEqual(try XCTUnwrap(reader.entry(named: "layer.6.i64")).groupWidth, 1)
    }
  }

  func testSmallChunksWindowsAndGroupsRoundTrip() throws {
    let original = try CKZTestData.everyDType(largeElements: 3000)
    try TestFixtures.withTemporaryFolder { folder in
      for (window, group) in [(1, 0), (3, 1 << 20), (64, 5000)] {
        for setting in [CompressionSetting(codec: .zlib, level: 2), .none] {
          let path = folder + "/w\(window)-\(group).ckz"
          let writer = CKZWriter(compression: setting, chunkSize: 96, windowSize: window, groupBytes: group)
          try AtomicFile.write(to: path) { try writer.write(original, provenance: [:], to: $0) }
          let reader = try CKZReader(path: path)
          XCTAssertEqual(try XCTUnwrap(reader.entry(named: "big.weight")).chunks.count, 125)
          try assertSame(original, try reader.checkpoint())
          XCTAssertEqual(reader.verifyAll(), [])
        }
      }
    }
  }

  func testHighlyCompressibleTensorsRoundTrip() throws {
    // All-zero chunks compress close to DEFLATE's 1032:1 limit, which the reader checks.
    let zeros = [UInt8](repeating: 0, count: 3 << 20)
    let checkpoint = try Checkpoint(tensors: [
      CKZTestData.tensor("zeros.i64", .i64, [3 << 17], zeros),
      CKZTestData.tensor("zeros.f32", .f32, [3 << 18], zeros),
      CKZTestData.tensor("ones.u8", .u8, [3 << 20], [UInt8](repeating: 1, count: 3 << 20)),
    ])
    for level in [1, 6, 9] {
      let bytes = try CKZTestData.ckzBytes(checkpoint, compression: .init(codec: .zlib, level: level))
      XCTAssertLessThan(bytes.count, 100_000, "level \(level)")
      try assertSame(checkpoint, try CKZReader(bytes: bytes).checkpoint())
    }
  }

  func testDefaultCompressionIsZlib6() throws {
    let bytes = try CKZTestData.ckzBytes(try CKZTestData.everyDType(largeElements: 3000), compression: nil)
    let reader = try CKZReader(bytes: bytes)
    XCTAssertTrue(reader.entries.allSatisfy { $0.codec == .zlib && $0.level == 6 })
  }

  func testCKZToCKZRoundTripsAcrossCodecs() throws {
    let original = try CKZTestData.everyDType(largeElements: 300_000)
    let compressed = try CKZReader(
      bytes: try CKZTestData.ckzBytes(original, compression: .init(codec: .zlib, level: 9))
    )
    .checkpoint()
    let stored = try CKZReader(
      bytes: try CKZTestData.ckzBytes(compressed, compression: CompressionSetting.none)
    )
    .checkpoint()
    let again = try CKZReader(
      bytes: try CKZTestData.ckzBytes(stored, compression: .init(codec: .zlib, level: 1))
    )
    .checkpoint()
    try assertSame(original, again)
    XCTAssertEqual(again.metadata, original.metadata)
  }

  /// A verified load hands on each chunk's CRC-32 (what a .ckz writer with the same chunks
  /// reuses); views of part of the bytes do not carry them; the rewritten file's index
  /// holds the same CRCs as the original's.
  func testVerifiedLoadsCarryTheirChunkChecksums() throws {
    let original = try CKZTestData.everyDType(largeElements: 300_000)
    for codec in [CompressionSetting.none, .init(codec: .zlib, level: 6)] {
      let reader = try CKZReader(bytes: try CKZTestData.ckzBytes(original, compression: codec))
      for (index, entry) in reader.entries.enumerated() {
        let bytes = try reader.load(index)
        let checksums = try XCTUnwrap(bytes.checksums, entry.info.name)
        XCTAssertEqual(checksums.chunkSize, entry.chunkSize)
        let computed = try bytes.withUnsafeBytes { raw in
          (0..<entry.chunks.count).map {
            Zlib.crc32(UnsafeRawBufferPointer(rebasing: raw[entry.rawRange(ofChunk: $0)]))
          }
        }
        XCTAssertEqual(checksums.crc32, computed, entry.info.name)
        if bytes.count > 1 { XCTAssertNil(bytes.slice(0..<1).checksums) }
      }
      let rewritten = try CKZReader(
        bytes: try CKZTestData.ckzBytes(try reader.checkpoint(), compression: CompressionSetting.none))
      XCTAssertEqual(
        rewritten.entries.map { $0.chunks.map(\.rawCRC) }, reader.entries.map { $0.chunks.map(\.rawCRC) })
    }
  }

  func testOutputIsDeterministic() throws {
    let checkpoint = try CKZTestData.everyDType(largeElements: 300_000)
    let setting = CompressionSetting(codec: .zlib, level: 6)
    XCTAssertEqual(
      try CKZTestData.ckzBytes(checkpoint, compression: setting),
      try CKZTestData.ckzBytes(checkpoint, compression: setting))
  }

  /// The 2- and 4-byte grouping paths, each forced against the byte-by-byte path: the same
  /// planes, and the same elements back, for every length and alignment.
  func testGroupingPathsEqualTheBytewisePath() {
    var generator = SystemRandomNumberGenerator()
    let source = (0..<4099).map { _ in UInt8.random(in: 0...255, using: &generator) }
    for group in [2, 4, 8] {
      for offset in 0..<3 {
        for count in [1, 2, 3, 15, 16, 17, 255, 1000] where offset + count * group <= source.count {
          source.withUnsafeBytes { all in
            let raw = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + count * group)])
            var fast = [UInt8](repeating: 0, count: raw.count)
            var slow = [UInt8](repeating: 1, count: raw.count)
            fast.withUnsafeMutableBytes { CKZChunkCodec.split(raw, into: $0, group: group) }
            slow.withUnsafeMutableBytes { CKZChunkCodec.splitBytewise(raw, into: $0, group: group) }
            XCTAssertEqual(fast, slow, "split: group \(group), offset \(offset), \(count) elements")
            var merged = [UInt8](repeating: 0, count: raw.count)
            var mergedSlowly = [UInt8](repeating: 1, count: raw.count)
            fast.withUnsafeBytes { planes in
              let pointers = (0..<group).map { planes.baseAddress! + $0 * count }
              merged.withUnsafeMutableBytes { CKZChunkCodec.merge(pointers, count: count, into: $0) }
              mergedSlowly.withUnsafeMutableBytes {
                CKZChunkCodec.mergeBytewise(pointers, count: count, into: $0)
              }
            }
            XCTAssertEqual(merged, Array(raw), "merge: group \(group), offset \(offset), \(count) elements")
            XCTAssertEqual(mergedSlowly, Array(raw), "merge bytewise: group \(group), \(count) elements")
          }
        }
      }
    }
  }

  func testByteGroupingBeatsPlainZlibOnFloats() throws {
    let bytes = CKZTestData.float32(262_144, seed: 3)
    let grouped = try bytes.withUnsafeBytes { try CKZChunkCodec.encode($0, group: 4, level: 6) }
    let plain = try bytes.withUnsafeBytes { try Zlib.compress($0, level: 6, framing: .raw) }
    XCTAssertLessThan(grouped.count, plain.count)
    XCTAssertLessThan(Double(grouped.count) / Double(bytes.count), 0.9)
    var decoded = [UInt8](repeating: 0, count: bytes.count)
    try grouped.withUnsafeBytes { stored in
      try decoded.withUnsafeMutableBytes { try CKZChunkCodec.decode(stored, into: $0, group: 4) }
    }
    XCTAssertEqual(decoded, bytes)
  }

  func testIncompressiblePlanesAreStoredRaw() throws {
    let bytes = CKZTestData.random(1 << 20, seed: 11)
    let stored = try bytes.withUnsafeBytes { try CKZChunkCodec.encode($0, group: 4, level: 6) }
    XCTAssertEqual(stored.count, bytes.count + 16, "four raw planes and the plane table")
    XCTAssertEqual(Array(stored[0..<4]), UInt32(1 << 18).littleEndianBytes)
  }

  func testEffortByLevel() throws {
    let fast = CKZChunkCodec.Effort(level: 1, grouped: true)
    XCTAssertEqual(fast.strategy, .huffmanOnly)
    XCTAssertEqual(fast.probe, 0, "levels 1-3 estimate from the entropy instead of a trial")
    XCTAssertEqual(CKZChunkCodec.Effort(level: 6, grouped: true).strategy, .huffmanOnly)
    XCTAssertEqual(CKZChunkCodec.Effort(level: 9, grouped: true).strategy, .rle)
    XCTAssertEqual(CKZChunkCodec.Effort(level: 1, grouped: false).strategy, .default)
    // Random bytes are not worth Huffman coding; a skewed plane is; runs get run-length matches.
    let random = CKZTestData.random(1 << 16, seed: 5)
    XCTAssertNil(random.withUnsafeBytes { fast.strategy(for: $0) })
    let skewed = (0..<(1 << 16)).map { UInt8(truncatingIfNeeded: $0 % 5 + 60) }
    XCTAssertEqual(skewed.withUnsafeBytes { fast.strategy(for: $0) }, .huffmanOnly)
    let zeros = [UInt8](repeating: 0, count: 1 << 16)
    XCTAssertEqual(zeros.withUnsafeBytes { fast.strategy(for: $0) }, .rle)
    // Level 6 tries what the entropy bound leaves possible (230 values: at most 2% saved),
    // but not random bytes (the bound is 0%).
    let medium = CKZChunkCodec.Effort(level: 6, grouped: true)
    let narrow = (0..<(1 << 16)).map { UInt8(truncatingIfNeeded: ($0 &* 7919) % 230) }
    XCTAssertEqual(narrow.withUnsafeBytes { medium.strategy(for: $0) }, .huffmanOnly, "level 6 tries")
    XCTAssertNil(narrow.withUnsafeBytes { fast.strategy(for: $0) }, "level 1 wants 5%")
    XCTAssertNil(random.withUnsafeBytes { medium.strategy(for: $0) })
  }

  func testEntropyOfKnownDistributions() throws {
    let uniform = (0..<1024).map { UInt8(truncatingIfNeeded: $0) }
    XCTAssertEqual(uniform.withUnsafeBytes { CKZChunkCodec.entropyBits($0) }, 8 * 1024, accuracy: 1e-6)
    let constant = [UInt8](repeating: 7, count: 1001)
    XCTAssertEqual(constant.withUnsafeBytes { CKZChunkCodec.entropyBits($0) }, 0, accuracy: 1e-9)
    let halves = (0..<1000).map { UInt8($0 & 1) }
    XCTAssertEqual(halves.withUnsafeBytes { CKZChunkCodec.entropyBits($0) }, 1000, accuracy: 1e-6)
  }

  func testSplitAndMergeAreInverse() throws {
    for group in [1, 2, 4, 8] {
      let raw = CKZTestData.random(64 * group, seed: UInt64(group))
      var planes = [UInt8](repeating: 0, count: raw.count)
      raw.withUnsafeBytes { r in
        planes.withUnsafeMutableBytes { CKZChunkCodec.split(r, into: $0, group: group) }
      }
      XCTAssertEqual(planes[1], raw[group], "plane 0 holds byte 0 of each element (group \(group))")
      var merged = [UInt8](repeating: 0, count: raw.count)
      planes.withUnsafeBytes { p in
        let pointers = (0..<group).map { p.baseAddress! + $0 * 64 }
        merged.withUnsafeMutableBytes { CKZChunkCodec.merge(pointers, count: 64, into: $0) }
      }
      XCTAssertEqual(merged, raw, "group \(group)")
    }
  }

  func testStoredTensorsAreZeroCopyAndAligned() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/stored.ckz"
      let original = try CKZTestData.everyDType(largeElements: 100_000)
      try CKZFormat.write(original, to: path, options: WriteOptions(compression: CompressionSetting.none))
      let read = try FormatRegistry.read(path: path)
      XCTAssertEqual(read.format, "ckz")
      for tensor in read.tensors where tensor.byteCount > 0 {
        let bytes = try tensor.load()
        bytes.withUnsafeBytes { XCTAssertEqual(Int(bitPattern: $0.baseAddress!) % 64, 0, tensor.name) }
        XCTAssertEqual(tensor.storedByteCount, tensor.byteCount)
      }
      try assertSame(original, read)
    }
  }

  func testProvenanceIsRecordedAndKeptApartFromMetadata() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let source = folder + "/source.bin"
      try TestFixtures.write(Array("abc".utf8), to: source)
      let original = try CKZTestData.everyDType(largeElements: 1000)
      let provenance = Provenance(
        sourcePath: source, sourceFormat: "safetensors", sourceLayout: "hf", tool: "ckpt 0.1.0")
      let bytes = try CKZTestData.ckzBytes(original, compression: nil, provenance: provenance)
      let reader = try CKZReader(bytes: bytes)
      XCTAssertEqual(reader.metadata, original.metadata)
      XCTAssertEqual(
        reader.provenance,
        [
          "source_format": "safetensors", "source_layout": "hf", "tool": "ckpt 0.1.0",
          // SHA-256("abc") from FIPS 180-2, appendix B.1.
          "source_sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ])
      let read = try reader.checkpoint()
      XCTAssertEqual(read.metadata["ckz.source_format"], "safetensors")
      XCTAssertEqual(CKZFormat.userMetadata(read.metadata), original.metadata)
      // Writing a read .ckz again does not turn provenance into user metadata.
      let again = try CKZReader(bytes: try CKZTestData.ckzBytes(read, compression: nil))
      XCTAssertEqual(again.metadata, original.metadata)
      XCTAssertEqual(again.provenance, [:])
    }
  }

  func testFormatIsDetectedByMagicAndExtension() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/weights.bin"
      try CKZFormat.write(try CKZTestData.everyDType(largeElements: 10), to: path, options: WriteOptions())
      XCTAssertEqual(try FormatRegistry.detect(path: path).identifier, "ckz")
      XCTAssertEqual(FormatRegistry.format(forExtensionOf: "x/model.CKZ")?.identifier, "ckz")
      XCTAssertTrue(FormatRegistry.identifiers.contains("ckz"))
    }
  }
}
