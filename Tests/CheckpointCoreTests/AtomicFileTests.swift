import CheckpointCore
import CheckpointTestSupport
import Foundation
import XCTest

final class AtomicFileTests: XCTestCase {
  struct Boom: Error {}

  func testWritesAndRenames() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/out.bin"
      try AtomicFile.write(to: path) { file in
        try file.write([1, 2, 3])
        try file.pad(toMultipleOf: 8)
        try file.patch([9], at: 0)
        XCTAssertEqual(file.position, 8)
      }
      XCTAssertEqual(try TestFixtures.bytesAt(path), [9, 2, 3, 0, 0, 0, 0, 0])
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["out.bin"])
    }
  }

  func testFailureLeavesNoFileAndKeepsTheOldOne() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/out.bin"
      XCTAssertThrowsError(try AtomicFile.write(to: path) { _ in throw Boom() })
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
      try TestFixtures.write([7], to: path)
      XCTAssertThrowsError(
        try AtomicFile.write(to: path) { file in
          try file.write([UInt8](repeating: 1, count: 3 << 20))
          throw Boom()
        })
      XCTAssertEqual(try TestFixtures.bytesAt(path), [7])
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["out.bin"])
    }
  }

  func testLargeWritesBypassTheBuffer() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/big.bin"
      let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
      try AtomicFile.write(to: path) { file in
        try file.write([0xAA])
        try file.write(big)
        try file.write([0xBB])
      }
      XCTAssertEqual(try TestFixtures.bytesAt(path), [0xAA] + big + [0xBB])
    }
  }

  /// Space reserved beyond what is written is given back: the file has exactly the bytes
  /// written, whether the estimate was too large, too small or exact; writeback starts
  /// along the way (files above 16 MiB) without changing a byte.
  func testReservedSpaceIsTrimmedToWhatWasWritten() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let big = (0..<(20 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131 >> 3) }
      for (name, expected, count) in [
        ("over", 64 << 20, 20 << 20), ("under", 1 << 20, 20 << 20), ("exact", 5, 5), ("empty", 1 << 20, 0),
      ] {
        let path = folder + "/" + name + ".bin"
        try AtomicFile.write(to: path, expectedSize: expected) { file in
          try big.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
          if count > 0 { try file.patch([0x5A], at: 0) }
        }
        let written = try TestFixtures.bytesAt(path)
        XCTAssertEqual(written.count, count, name)
        XCTAssertEqual(written, count == 0 ? [] : [0x5A] + big[1..<count], name)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.size] as? NSNumber)?.intValue, count, name)
      }
    }
  }

  func testReplacingALargeFileKeepsItIntactUntilTheNewOneIsComplete() throws {
    // Large enough for the replaced file's cached pages to be dropped early (content untouched).
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/large.bin"
      let old = (0..<(9 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) }
      try TestFixtures.write(old, to: path)
      struct Interrupted: Error {}
      XCTAssertThrowsError(
        try AtomicFile.write(to: path, expectedSize: 9 << 20) { out in
          try out.write([UInt8](repeating: 7, count: 5 << 20))
          throw Interrupted()
        })
      XCTAssertEqual(try TestFixtures.bytesAt(path), old)
      let new = [UInt8](repeating: 9, count: 10 << 20)
      try AtomicFile.write(to: path, expectedSize: 9 << 20) { out in try out.write(new) }
      XCTAssertEqual(try TestFixtures.bytesAt(path), new)
    }
  }

  func testInputFileReportsTruncation() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let path = folder + "/short.bin"
      try TestFixtures.write([1, 2, 3, 4], to: path)
      let file = try InputFile(path: path)
      XCTAssertEqual(file.size, 4)
      XCTAssertEqual(try file.read(count: 2, at: 1), [2, 3])
      XCTAssertEqual(try file.mapBytes(count: 3, at: 1).array, [2, 3, 4])
      XCTAssertThrowsError(try file.read(count: 4, at: 1)) { error in
        let error = error as? CheckpointError
        XCTAssertEqual(error?.kind, .truncated)
        XCTAssertEqual(error?.offset, 1)
        XCTAssertEqual(error?.file, path)
      }
    }
  }

  func testFileBackedBytesAreCopiedExactly() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let source = folder + "/source.bin"
      let content = (0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 13) }
      try TestFixtures.write(content, to: source)
      let file = try InputFile(path: source)
      // Mapped, read and sliced views all remember where their bytes lie in the file.
      let mapped = try file.mapBytes(count: 3 << 20, at: 4096)
      let read = try file.readBytes(count: 2 << 20, at: 1)
      let sliced = mapped.slice(100..<(100 + (1 << 20) + 3))
      XCTAssertEqual(sliced.origin?.offset, 4196)
      let path = folder + "/copy.bin"
      try AtomicFile.write(to: path) { out in
        try out.write([0xEE])
        try out.write(mapped)
        try out.write(read)
        try out.write(sliced)
        try out.write([0xFF])
        XCTAssertEqual(out.position, 2 + (3 << 20) + (2 << 20) + (1 << 20) + 3)
      }
      let expected =
        [0xEE] + content[4096..<(4096 + (3 << 20))] + content[1..<(1 + (2 << 20))]
        + content[4196..<(4196 + (1 << 20) + 3)] + [0xFF]
      XCTAssertEqual(try TestFixtures.bytesAt(path), Array(expected))
    }
  }
}
