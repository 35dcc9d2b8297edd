import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

final class ZipWriterTests: XCTestCase {
  private typealias Support = NumPyTestSupport

  private func payload(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
      state = state &* 1_664_525 &+ 1_013_904_223
      return UInt8(truncatingIfNeeded: state >> 24)
    }
  }

  func testStoredAndDeflatedEntriesReadBack() throws {
    let a = payload(1000)
    let b = [UInt8](repeating: 42, count: 5000)
    try TestFixtures.withTemporaryFolder { folder in
      let path = try ZipTestArchives.make(folder + "/t.zip") { zip in
        try zip.add(name: "a.bin", bytes: a)
        try zip.add(name: "dir/b.bin", bytes: b, method: .deflate(level: 9))
        try zip.add(name: "empty", bytes: [], method: .deflate(level: 6))
        try zip.add(name: "empty-stored", bytes: [])
      }
      let archive = try ZipReader(path: path)
      XCTAssertEqual(archive.entries.map(\.name), ["a.bin", "dir/b.bin", "empty", "empty-stored"])
      XCTAssertEqual(
        archive.entries.map(\.method), [.stored, .deflate(level: 9), .deflate(level: 6), .stored])
      XCTAssertEqual(try archive.read(XCTUnwrap(archive.entry(named: "a.bin"))).array, a)
      let deflated = try XCTUnwrap(archive.entry(named: "dir/b.bin"))
      XCTAssertLessThan(deflated.compressedSize, 100)
      XCTAssertEqual(deflated.crc32, Zlib.crc32(b))
      XCTAssertEqual(try archive.read(deflated).array, b)
      XCTAssertEqual(try archive.read(XCTUnwrap(archive.entry(named: "empty"))).count, 0)
      XCTAssertEqual(try archive.read(XCTUnwrap(archive.entry(named: "empty-stored"))).count, 0)
      XCTAssertNil(archive.entry(named: "missing"))
    }
  }

  /// Large stored entries get their CRC from another thread, patched into the local header.
  func testLargeStoredEntryCRC() throws {
    let head = [UInt8](repeating: 9, count: 128)
    let big = payload(ZipWriter.concurrentCRCThreshold + 12_345, seed: 7)
    try TestFixtures.withTemporaryFolder { folder in
      let path = try ZipTestArchives.make(folder + "/big.zip") { zip in
        try head.withUnsafeBytes { h in
          try big.withUnsafeBytes { b in try zip.add(name: "big", parts: [h, b], alignment: 64) }
        }
      }
      let bytes = try TestFixtures.bytesAt(path)
      let archive = try ZipReader(path: path)
      let entry = archive.entries[0]
      XCTAssertEqual(entry.crc32, Zlib.crc32(head + big))
      XCTAssertEqual(Support.readLE(bytes, at: 14, as: UInt32.self), entry.crc32)  // local header patched
      XCTAssertEqual(try archive.read(entry).array, head + big)
    }
  }

  /// Data lands on the asked boundary through an "FB" extra field, like torch's writer.
  func testAlignmentPadsTheLocalExtraField() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for alignment in [1, 2, 3, 8, 64, 4096] {
        let path = try ZipTestArchives.make(folder + "/a\(alignment).zip") { zip in
          for (i, name) in ["x", "archive/data/0", "a-much-longer-entry-name/with/parts.npy"].enumerated() {
            try zip.add(name: name, bytes: payload(17 + i, seed: UInt32(i)), alignment: alignment)
            try zip.add(
              name: name + ".z", bytes: payload(100), method: .deflate(level: 6), alignment: alignment)
          }
        }
        let archive = try ZipReader(path: path)
        XCTAssertEqual(archive.entries.count, 6)
        for entry in archive.entries {
          XCTAssertEqual(entry.dataOffset % alignment, 0, "alignment \(alignment) \(entry.name)")
          XCTAssertEqual(try archive.read(entry).count, entry.uncompressedSize)
        }
        if alignment > 1 {
          let bytes = try TestFixtures.bytesAt(path)
          let name = Int(Support.readLE(bytes, at: 26, as: UInt16.self))
          XCTAssertEqual(Array(bytes[30 + name..<30 + name + 2]), Array("FB".utf8))
        }
      }
    }
  }

  /// Zip64 extras and end records (forced on small data) read back, and Python's layout is followed.
  func testZip64RecordsReadBack() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = try ZipTestArchives.make(folder + "/z.zip", forceZip64: true) { zip in
        try zip.add(name: "a", bytes: payload(300))
        try zip.add(name: "b", bytes: payload(300, seed: 9), method: .deflate(level: 6), alignment: 64)
      }
      let bytes = try TestFixtures.bytesAt(path)
      // End record carries markers; the zip64 record and locator precede it.
      XCTAssertEqual(Support.readLE(bytes, at: bytes.count - 6, as: UInt32.self), 0xFFFF_FFFF)
      XCTAssertEqual(Support.readLE(bytes, at: bytes.count - 22 - 20, as: UInt32.self), 0x0706_4B50)
      XCTAssertEqual(Support.readLE(bytes, at: 18, as: UInt32.self), 0xFFFF_FFFF)
      let archive = try ZipReader(path: path)
      XCTAssertEqual(try archive.read(archive.entries[0]).array, payload(300))
      XCTAssertEqual(try archive.read(archive.entries[1]).array, payload(300, seed: 9))
      XCTAssertEqual(archive.entries[1].dataOffset % 64, 0)
    }
  }

  func testNamesFlagsAndReproducibility() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let make = { (path: String) in
        try ZipTestArchives.make(path) { zip in
          try zip.add(name: "gr\u{00F6}\u{00DF}e.npy", bytes: [1, 2, 3])
          try zip.add(name: "plain.npy", bytes: [4])
        }
      }
      let first = try make(folder + "/1.zip")
      let second = try make(folder + "/2.zip")
      let bytes = try TestFixtures.bytesAt(first)
      XCTAssertEqual(bytes, try TestFixtures.bytesAt(second))
      let central = ZipTestArchives.centralHeaderOffsets(bytes)
      XCTAssertEqual(Support.readLE(bytes, at: central[0] + 8, as: UInt16.self) & 0x800, 0x800)
      XCTAssertEqual(Support.readLE(bytes, at: central[1] + 8, as: UInt16.self) & 0x800, 0)
      // DOS time 00:00, date 1980-01-01.
      XCTAssertEqual(Support.readLE(bytes, at: 10, as: UInt16.self), 0)
      XCTAssertEqual(Support.readLE(bytes, at: 12, as: UInt16.self), 0x21)
      XCTAssertEqual(
        try ZipReader(path: first).entries.map(\.name), ["gr\u{00F6}\u{00DF}e.npy", "plain.npy"])
    }
  }

  func testMisuseIsAnError() throws {
    try TestFixtures.withTemporaryFolder { folder in
      try AtomicFile.write(to: folder + "/m.zip") { file in
        let zip = ZipWriter(file: file)
        try zip.add(name: "a", bytes: [1])
        Support.assertError(.duplicateName) { try zip.add(name: "a", bytes: [2]) }
        Support.assertError(.invalidArgument) { try zip.add(name: "", bytes: [2]) }
        Support.assertError(.invalidArgument) { try zip.add(name: "b", bytes: [2], alignment: 0) }
        Support.assertError(.invalidArgument) {
          try zip.add(name: "b", bytes: [2], method: .deflate(level: 10))
        }
        try zip.finish()
        Support.assertError(.invalidArgument) { try zip.add(name: "c", bytes: [3]) }
        Support.assertError(.invalidArgument) { try zip.finish() }
      }
    }
  }
}
