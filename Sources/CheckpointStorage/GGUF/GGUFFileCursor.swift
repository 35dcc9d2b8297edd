import CheckpointCore

/// Sequential, bounds-checked little-endian reads from a file through a window buffer.
///
/// Every length is checked against the bytes left in the file before anything is
/// allocated, so a corrupt count can never make the reader allocate more than the file holds.
struct GGUFFileCursor {
  let file: InputFile
  /// The file offset of the next byte to read.
  private(set) var position: Int = 0
  private var window: [UInt8] = []
  private var windowStart = 0
  private static let windowSize = 1 << 20

  init(file: InputFile) {
    self.file = file
  }

  /// Bytes left in the file after ``position``.
  var remaining: Int { file.size - position }

  /// Throws `.truncated` unless `count` more bytes exist.
  func require(_ count: Int, _ what: @autoclosure () -> String) throws {
    guard count >= 0, count <= remaining else {
      throw CheckpointError(
        .truncated, "\(what()) needs \(count) bytes, only \(remaining) left in the file", offset: position)
    }
  }

  /// Reads `count` bytes (after checking they exist).
  mutating func bytes(_ count: Int, _ what: @autoclosure () -> String) throws -> ArraySlice<UInt8> {
    try require(count, what())
    let end = windowStart + window.count
    if position < windowStart || position + count > end {
      windowStart = position
      window = try file.read(count: min(max(count, GGUFFileCursor.windowSize), remaining), at: position)
    }
    let start = position - windowStart
    position += count
    return window[start..<start + count]
  }

  /// Reads a little-endian integer.
  mutating func read<T: FixedWidthInteger>(_: T.Type = T.self, _ what: @autoclosure () -> String) throws -> T
  {
    let slice = try bytes(MemoryLayout<T>.size, what())
    var value: T = 0
    for (i, byte) in slice.enumerated() { value |= T(truncatingIfNeeded: byte) << (8 * i) }
    return value
  }

  /// Reads a GGUF string: `u64` length, then that many UTF-8 bytes.
  ///
  /// - Throws: `.corrupt` for lengths over `limit` or invalid UTF-8, `.truncated` past the end.
  mutating func string(_ what: @autoclosure () -> String, limit: Int = GGUFHeader.maximumStringLength) throws
    -> String
  {
    let start = position
    let length = try read(UInt64.self, "\(what()) length")
    guard length <= UInt64(limit) else {
      throw CheckpointError(
        .corrupt, "\(what()) is \(length) bytes long, more than the \(limit)-byte limit", offset: start)
    }
    let raw = try bytes(Int(length), what())
    guard let text = String(validating: raw, as: UTF8.self) else {
      throw CheckpointError(.corrupt, "\(what()) is not valid UTF-8", offset: start + 8)
    }
    return text
  }

  /// Moves to `offset` (within the file).
  mutating func seek(to offset: Int) throws {
    guard offset >= 0, offset <= file.size else {
      throw CheckpointError(.truncated, "offset \(offset) is past the end of the file", offset: position)
    }
    position = offset
  }
}
