import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

final class ZipReaderTests: XCTestCase {
  private typealias Support = NumPyTestSupport

  /// Python's zipfile (through numpy) wrote these; names, methods, sizes and CRCs read back.
  func testReadsNumpyWrittenArchives() throws {
    for (file, method) in [
      ("savez.npz", ZipMethod.stored), ("savez_compressed.npz", .deflate(level: 6)),
      ("zip64.npz", .deflate(level: 6)),
      ("streamed.npz", .deflate(level: 6)),
    ] {
      let archive = try ZipReader(path: TestFixtures.path("numpy/" + file))
      XCTAssertFalse(archive.entries.isEmpty)
      for entry in archive.entries {
        XCTAssertEqual(entry.method, method, file)
        XCTAssertTrue(entry.name.hasSuffix(".npy"))
        let bytes = try archive.read(entry)
        XCTAssertEqual(bytes.count, entry.uncompressedSize)
        XCTAssertEqual(Zlib.crc32(bytes), entry.crc32)
        XCTAssertEqual(Array(bytes.array.prefix(6)), NPYHeader.magic)
      }
    }
    let names = try ZipReader(path: TestFixtures.path("numpy/savez.npz")).entries.map(\.name)
    XCTAssertEqual(
      names,
      ["weight.npy", "layer/bias.npy", "steps.npy", "mask.npy", "bf16.npy", "empty.npy", "fortran.npy"])
    XCTAssertEqual(try ZipReader(path: TestFixtures.path("numpy/empty.npz")).entries.count, 0)
  }

  /// Every truncation of a valid archive is a clean error, never a crash.
  func testEveryTruncationFailsCleanly() throws {
    let bytes = try TestFixtures.bytes("numpy/savez.npz")
    try TestFixtures.withTemporaryFolder { folder in
      for length in 0..<bytes.count {
        let path = try Support.file(Array(bytes[0..<length]), named: "t.npz", in: folder)
        let error = Support.assertError(.badFormat) { try ZipReader(path: path) }
        XCTAssertEqual(error?.file, path)
      }
      // Bytes cut from the middle shift every offset.
      let cut = Array(bytes[0..<300] + bytes[400...])
      let path = try Support.file(cut, named: "cut.npz", in: folder)
      XCTAssertThrowsError(try ZipReader(path: path)) { XCTAssertTrue($0 is CheckpointError) }
    }
  }

  // MARK: - Crafted damage

  /// A two-entry stored archive: "a.npy" and "b.npy", 100 bytes each.
  private func twoEntries(_ folder: String, method: ZipMethod = .stored) throws -> [UInt8] {
    let path = try ZipTestArchives.make(folder + "/two.zip") { zip in
      try zip.add(name: "a.npy", bytes: [UInt8](repeating: 1, count: 100), method: method)
      try zip.add(name: "b.npy", bytes: [UInt8](repeating: 2, count: 100), method: method)
    }
    return try TestFixtures.bytesAt(path)
  }

  private func open(_ bytes: [UInt8], _ folder: String) throws -> ZipReader {
    try ZipReader(path: try Support.file(bytes, named: "damaged.zip", in: folder))
  }

  /// Sets both sizes of entry `index` in its local and central headers.
  private func setSizes(
    _ bytes: inout [UInt8], entry index: Int, compressed: UInt32, uncompressed: UInt32
  ) {
    let local = ZipTestArchives.localHeaderOffsets(bytes)[index]
    let central = ZipTestArchives.centralHeaderOffsets(bytes)[index]
    Support.writeLE(compressed, into: &bytes, at: local + 18)
    Support.writeLE(uncompressed, into: &bytes, at: local + 22)
    Support.writeLE(compressed, into: &bytes, at: central + 20)
    Support.writeLE(uncompressed, into: &bytes, at: central + 24)
  }

  func testBadLocalHeaders() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var bytes = try twoEntries(folder)
      let local = ZipTestArchives.localHeaderOffsets(bytes)[1]
      bytes[local] = 0x51
      Support.assertError(.corrupt, containing: "no local header signature") { try open(bytes, folder) }

      bytes = try twoEntries(folder)
      bytes[local + 30] = UInt8(ascii: "c")  // local name "c.npy", central "b.npy"
      Support.assertError(.corrupt, containing: "does not match central directory name 'b.npy'") {
        try open(bytes, folder)
      }

      bytes = try twoEntries(folder)
      Support.writeLE(UInt32(99), into: &bytes, at: local + 14)  // local CRC
      Support.assertError(.corrupt, containing: "disagrees with the central directory") {
        try open(bytes, folder)
      }
    }
  }

  func testBadCRCIsReportedOnRead() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var bytes = try twoEntries(folder)
      let reader = try open(bytes, folder)
      let entry = reader.entries[1]
      bytes[entry.dataOffset + 50] ^= 0xFF
      let damaged = try open(bytes, folder)
      let error = Support.assertError(.checksumMismatch, containing: "zip entry 'b.npy'") {
        try damaged.read(damaged.entries[1])
      }
      XCTAssertNotNil(error?.file)
      XCTAssertEqual(try damaged.read(damaged.entries[1], verifyCRC: false).count, 100)
      XCTAssertEqual(try damaged.read(damaged.entries[0]).count, 100)
    }
  }

  /// Entry a's data claims to run over entry b's header: the overlapping-entries zip bomb.
  func testOverlappingEntriesAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var bytes = try twoEntries(folder)
      setSizes(&bytes, entry: 0, compressed: 100 + 30 + 5 + 100, uncompressed: 100 + 30 + 5 + 100)
      Support.assertError(.corrupt, containing: "overlap") { try open(bytes, folder) }

      // Two central records for the same local header.
      bytes = try twoEntries(folder)
      let central = ZipTestArchives.centralHeaderOffsets(bytes)
      Support.writeLE(UInt32(0), into: &bytes, at: central[1] + 42)
      XCTAssertThrowsError(try open(bytes, folder)) {
        XCTAssertEqual(($0 as? CheckpointError)?.kind, .corrupt)
      }
    }
  }

  func testHugeDeclaredSizes() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var bytes = try twoEntries(folder)
      setSizes(&bytes, entry: 1, compressed: 0x7FFF_FFFF, uncompressed: 0x7FFF_FFFF)
      Support.assertError(.truncated, containing: "zip entry 'b.npy'") { try open(bytes, folder) }

      bytes = try twoEntries(folder, method: .deflate(level: 6))
      let compressed = try open(bytes, folder).entries[1].compressedSize
      setSizes(&bytes, entry: 1, compressed: UInt32(compressed), uncompressed: 0xFFFF_FFF0)
      Support.assertError(.corrupt, containing: "zip bomb") { try open(bytes, folder) }
    }
  }

  /// Deflate's maximum ratio is honoured exactly: 1032 × compressed + 1 KiB.
  func testZipBombRatioLimit() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let zeros = [UInt8](repeating: 0, count: 2 << 20)
      let path = try ZipTestArchives.make(folder + "/zeros.zip") { zip in
        try zip.add(name: "zeros", bytes: zeros, method: .deflate(level: 9))
      }
      var bytes = try TestFixtures.bytesAt(path)
      let entry = try ZipReader(path: path).entries[0]
      XCTAssertGreaterThan(entry.uncompressedSize / entry.compressedSize, 1000)
      XCTAssertEqual(try ZipReader(path: path).read(entry).count, zeros.count)

      let limit = UInt32(1032 * entry.compressedSize + 1024)
      setSizes(&bytes, entry: 0, compressed: UInt32(entry.compressedSize), uncompressed: limit + 1)
      Support.assertError(.corrupt, containing: "more than deflate can produce") { try open(bytes, folder) }
      setSizes(&bytes, entry: 0, compressed: UInt32(entry.compressedSize), uncompressed: limit)
      let atLimit = try open(bytes, folder)
      Support.assertError(.corrupt) { try atLimit.read(atLimit.entries[0]) }
    }
  }

  /// Extreme 64-bit sizes and offsets in zip64 fields are errors, not arithmetic traps.
  func testExtremeZip64Values() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = try ZipTestArchives.make(folder + "/z.zip", forceZip64: true) { zip in
        try zip.add(name: "a.npy", bytes: [UInt8](repeating: 1, count: 100), method: .deflate(level: 6))
      }
      let original = try TestFixtures.bytesAt(path)
      let central = try XCTUnwrap(
        (0..<original.count - 4).first { Support.readLE(original, at: $0, as: UInt32.self) == 0x0201_4B50 })
      let extra = central + 46 + 5 + 4
      let extremes: [UInt64] = [
        UInt64(Int.max), UInt64(Int.max) - 1000, UInt64(Int.max / 1032) + 1, UInt64.max, 1 << 62, 0,
      ]
      for field in 0..<3 {
        for value in extremes where field < 2 || value != 0 {  // offset 0 is the real one
          var bytes = original
          Support.writeLE(value, into: &bytes, at: extra + 8 * field)
          XCTAssertThrowsError(try open(bytes, folder), "field \(field) = \(value)") {
            XCTAssertTrue($0 is CheckpointError)
          }
        }
      }
    }
  }

  func testEncryptionAndMethodsAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var bytes = try twoEntries(folder)
      let local = ZipTestArchives.localHeaderOffsets(bytes)[1]
      let central = ZipTestArchives.centralHeaderOffsets(bytes)[1]
      bytes[local + 6] |= 1
      bytes[central + 8] |= 1
      Support.assertError(.unsupported, containing: "zip entry 'b.npy' is encrypted") {
        try open(bytes, folder)
      }

      bytes = try twoEntries(folder)
      Support.writeLE(UInt16(12), into: &bytes, at: local + 8)
      Support.writeLE(UInt16(12), into: &bytes, at: central + 10)
      Support.assertError(.unsupported, containing: "zip entry 'b.npy' uses compression method 12") {
        try open(bytes, folder)
      }
    }
  }

  func testDuplicateNamesAreRefused() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var bytes = try twoEntries(folder)
      let local = ZipTestArchives.localHeaderOffsets(bytes)[1]
      let central = ZipTestArchives.centralHeaderOffsets(bytes)[1]
      bytes[local + 30] = UInt8(ascii: "a")
      bytes[central + 46] = UInt8(ascii: "a")
      Support.assertError(.duplicateName, containing: "'a.npy'") { try open(bytes, folder) }
    }
  }

  func testEndRecordDamage() throws {
    try TestFixtures.withTemporaryFolder { folder in
      Support.assertError(.badFormat, containing: "not a zip archive") {
        try open(Array(repeating: 0x41, count: 1000), folder)
      }
      Support.assertError(.badFormat) { try ZipReader(path: TestFixtures.path("numpy/f4.npy")) }

      var bytes = try twoEntries(folder)
      let end = bytes.count - 22
      Support.writeLE(UInt32(0x0FFF_FFFF), into: &bytes, at: end + 16)
      Support.assertError(.corrupt, containing: "central directory") { try open(bytes, folder) }

      bytes = try twoEntries(folder)
      Support.writeLE(UInt16(1), into: &bytes, at: end + 4)
      Support.assertError(.unsupported, containing: "several disks") { try open(bytes, folder) }

      bytes = try twoEntries(folder)
      Support.writeLE(UInt16(9), into: &bytes, at: end + 8)
      Support.writeLE(UInt16(9), into: &bytes, at: end + 10)
      Support.assertError(.corrupt, containing: "cannot hold 9 entries") { try open(bytes, folder) }

      bytes = try twoEntries(folder)
      Support.writeLE(UInt32(0xFFFF_FFFF), into: &bytes, at: end + 12)
      Support.assertError(.corrupt, containing: "no zip64 locator") { try open(bytes, folder) }
    }
  }

  func testInvalidDeflateData() throws {
    try TestFixtures.withTemporaryFolder { folder in
      var bytes = try twoEntries(folder, method: .deflate(level: 6))
      let entry = try open(bytes, folder).entries[0]
      for i in 0..<entry.compressedSize { bytes[entry.dataOffset + i] = 0xFF }
      let damaged = try open(bytes, folder)
      Support.assertError(.corrupt, containing: "zip entry 'a.npy'") { try damaged.read(damaged.entries[0]) }
    }
  }
}
