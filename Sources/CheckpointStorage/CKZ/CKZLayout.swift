import CheckpointCore

/// Fixed parts of a `.ckz` file: header, footer and alignment (see Docs/ckz-format.md).
enum CKZLayout {
  /// The magic at offset 0: `\x89CKZ\r\n\x1a\n`.
  static let magic: [UInt8] = [0x89, 0x43, 0x4B, 0x5A, 0x0D, 0x0A, 0x1A, 0x0A]
  /// The magic that ends the file: `\x89CKZEND\n`.
  static let endMagic: [UInt8] = [0x89, 0x43, 0x4B, 0x5A, 0x45, 0x4E, 0x44, 0x0A]
  /// The index's own marker, `CKZI`.
  static let indexMagic: [UInt8] = Array("CKZI".utf8)
  /// The major version this code reads and writes.
  static let majorVersion: UInt16 = 1
  /// The minor version this code reads and writes.
  static let minorVersion: UInt16 = 0
  /// Header size; also where the first tensor section starts.
  static let headerSize = 64
  /// Footer size.
  static let footerSize = 32
  /// Alignment of every section and of the index.
  static let alignment = 64

  /// `value` rounded up to a multiple of ``alignment``, or `nil` on overflow.
  static func aligned(_ value: Int) -> Int? {
    let (sum, overflow) = value.addingReportingOverflow(alignment - 1)
    return overflow ? nil : sum - sum % alignment
  }

  /// The header bytes.
  static func header() -> [UInt8] {
    var bytes = magic
    bytes.appendLittleEndian(majorVersion)
    bytes.appendLittleEndian(minorVersion)
    bytes.appendLittleEndian(UInt32(0))  // flags
    bytes += [UInt8](repeating: 0, count: 60 - bytes.count)
    bytes.appendLittleEndian(Zlib.crc32(bytes))
    return bytes
  }

  /// Checks a header read from the start of a file.
  static func checkHeader(_ bytes: [UInt8]) throws {
    guard bytes.count == headerSize, Array(bytes[0..<8]) == magic else {
      throw CheckpointError(.badFormat, "not a .ckz file (bad magic)", offset: 0)
    }
    var reader = ByteReader(bytes)
    try reader.skip(8)
    let major: UInt16 = try reader.read()
    let minor: UInt16 = try reader.read()
    let flags: UInt32 = try reader.read()
    reader.position = 60
    let stored: UInt32 = try reader.read()
    let computed = Zlib.crc32(Array(bytes[0..<60]))
    guard stored == computed else {
      throw CheckpointError(
        .checksumMismatch,
        "header CRC32 mismatch (stored \(hex(stored)), computed \(hex(computed))): the header is corrupt",
        offset: 0)
    }
    guard major == majorVersion, minor <= minorVersion else {
      throw CheckpointError(
        .unsupported,
        ".ckz version \(major).\(minor) is newer than this reader (\(majorVersion).\(minorVersion))",
        offset: 8)
    }
    guard flags == 0 else {
      throw CheckpointError(.unsupported, "unknown header flags \(hex(flags))", offset: 12)
    }
  }

  /// The footer locating the index.
  struct Footer: Equatable {
    var indexOffset: Int
    var indexLength: Int
    var indexCRC: UInt32

    func encoded() -> [UInt8] {
      var bytes: [UInt8] = []
      bytes.appendLittleEndian(UInt64(indexOffset))
      bytes.appendLittleEndian(UInt64(indexLength))
      bytes.appendLittleEndian(indexCRC)
      bytes.appendLittleEndian(Zlib.crc32(bytes))
      return bytes + endMagic
    }

    /// Decodes and checks the footer of a file of `fileSize` bytes, read at `fileSize - 32`.
    init(decoding bytes: [UInt8], fileSize: Int) throws {
      let base = fileSize - footerSize
      guard bytes.count == footerSize, Array(bytes[24..<32]) == endMagic else {
        throw CheckpointError(
          .truncated, "no .ckz end marker in the last 8 bytes: the file is truncated or was never finished",
          offset: base + 24)
      }
      var reader = ByteReader(bytes, baseOffset: base)
      let offset: UInt64 = try reader.read()
      let length: UInt64 = try reader.read()
      let crc: UInt32 = try reader.read()
      let footerCRC: UInt32 = try reader.read()
      let computed = Zlib.crc32(Array(bytes[0..<20]))
      guard footerCRC == computed else {
        throw CheckpointError(
          .checksumMismatch,
          "footer CRC32 mismatch (stored \(hex(footerCRC)), computed \(hex(computed))): the footer is corrupt",
          offset: base)
      }
      guard offset <= UInt64(base), length <= UInt64(base), offset + length == UInt64(base) else {
        throw CheckpointError(
          .corrupt,
          "footer places the index at \(offset) with \(length) bytes, but it must end at byte \(base)",
          offset: base)
      }
      guard Int(offset) >= headerSize, Int(offset) % alignment == 0 else {
        throw CheckpointError(
          .corrupt, "index offset \(offset) is not a multiple of \(alignment) after the header", offset: base)
      }
      self.indexOffset = Int(offset)
      self.indexLength = Int(length)
      self.indexCRC = crc
    }

    init(indexOffset: Int, indexLength: Int, indexCRC: UInt32) {
      self.indexOffset = indexOffset
      self.indexLength = indexLength
      self.indexCRC = indexCRC
    }
  }

  /// `0x1234abcd` style text of a CRC.
  static func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
  }
}
