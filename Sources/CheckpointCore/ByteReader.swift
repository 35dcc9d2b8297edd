/// Reads little-endian integers and byte runs from a buffer, with every
/// access bounds-checked. Failures name the byte offset (relative to
/// ``baseOffset``, typically the buffer's position in its file).
public struct ByteReader {
  /// The bytes being read.
  public let bytes: [UInt8]
  /// The current position in `bytes`.
  public var position: Int = 0
  /// Added to positions in error messages (the buffer's offset in its file).
  public var baseOffset: Int

  /// Creates a reader over `bytes` whose first byte sits at `baseOffset` in its file.
  public init(_ bytes: [UInt8], baseOffset: Int = 0) {
    self.bytes = bytes
    self.baseOffset = baseOffset
  }

  /// Bytes left after the current position.
  public var remaining: Int { bytes.count - position }

  /// Whether all bytes were read.
  public var isAtEnd: Bool { position >= bytes.count }

  /// Throws `.truncated` unless `count` more bytes are available.
  public func require(_ count: Int, _ what: @autoclosure () -> String) throws {
    guard count >= 0, count <= remaining else {
      throw CheckpointError(
        .truncated, "\(what()) needs \(count) bytes, only \(remaining) left",
        offset: baseOffset + position)
    }
  }

  /// Reads a little-endian integer.
  public mutating func read<T: FixedWidthInteger>(
    _: T.Type = T.self, _ what: @autoclosure () -> String = "integer"
  ) throws -> T {
    let size = MemoryLayout<T>.size
    try require(size, what())
    var value: T = 0
    for i in 0..<size {
      value |= T(truncatingIfNeeded: bytes[position + i]) << (8 * i)
    }
    position += size
    return value
  }

  /// Reads `count` raw bytes.
  public mutating func readBytes(_ count: Int, _ what: @autoclosure () -> String = "bytes") throws
    -> ArraySlice<UInt8>
  {
    try require(count, what())
    defer { position += count }
    return bytes[position..<position + count]
  }

  /// Skips `count` bytes.
  public mutating func skip(_ count: Int, _ what: @autoclosure () -> String = "bytes") throws {
    try require(count, what())
    position += count
  }
}

extension FixedWidthInteger {
  /// The value's little-endian bytes.
  public var littleEndianBytes: [UInt8] {
    Swift.withUnsafeBytes(of: self.littleEndian) { Array($0) }
  }
}

extension Array where Element == UInt8 {
  /// Appends `value` in little-endian byte order.
  public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
    Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
  }
}
