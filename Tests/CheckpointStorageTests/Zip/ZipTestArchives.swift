import CheckpointCore
import CheckpointTestSupport
import XCTest

@testable import CheckpointStorage

/// Builds zip archives for tests and finds their records.
enum ZipTestArchives {
  /// Writes an archive at `path` with what `body` adds; returns the path.
  @discardableResult
  static func make(_ path: String, forceZip64: Bool = false, _ body: (ZipWriter) throws -> Void) throws
    -> String
  {
    try AtomicFile.write(to: path) { file in
      let writer = ZipWriter(file: file, forceZip64: forceZip64)
      try body(writer)
      try writer.finish()
    }
    return path
  }

  /// The offset of the central directory, from a plain (not zip64) end record.
  static func centralDirectoryOffset(_ bytes: [UInt8]) -> Int {
    Int(NumPyTestSupport.readLE(bytes, at: bytes.count - 6, as: UInt32.self))
  }

  /// Offsets of every central directory header, in order.
  static func centralHeaderOffsets(_ bytes: [UInt8]) -> [Int] {
    var offsets: [Int] = []
    var position = centralDirectoryOffset(bytes)
    while position + 4 <= bytes.count,
      NumPyTestSupport.readLE(bytes, at: position, as: UInt32.self) == 0x0201_4B50
    {
      offsets.append(position)
      let name = Int(NumPyTestSupport.readLE(bytes, at: position + 28, as: UInt16.self))
      let extra = Int(NumPyTestSupport.readLE(bytes, at: position + 30, as: UInt16.self))
      let comment = Int(NumPyTestSupport.readLE(bytes, at: position + 32, as: UInt16.self))
      position += 46 + name + extra + comment
    }
    return offsets
  }

  /// Offsets of every local header, in central directory order.
  static func localHeaderOffsets(_ bytes: [UInt8]) -> [Int] {
    centralHeaderOffsets(bytes).map { Int(NumPyTestSupport.readLE(bytes, at: $0 + 42, as: UInt32.self)) }
  }
}
