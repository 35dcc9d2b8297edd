/// How a zip entry's data is stored.
public enum ZipMethod: Sendable, Equatable {
  /// Uncompressed (method 0).
  case stored
  /// Raw deflate (method 8) at a zlib level 0–9.
  ///
  /// Zip does not record the level. When reading, the level comes from the
  /// general-purpose flag bits 1–2 that Info-ZIP (and ``ZipWriter``) set:
  /// normal → 6, maximum → 9, fast → 2, super fast → 1. Archives whose writer
  /// leaves the bits clear (Python's `zipfile`, so `np.savez_compressed`)
  /// read as level 6.
  case deflate(level: Int)

  /// The method number in zip headers.
  var code: UInt16 {
    switch self {
    case .stored: return 0
    case .deflate: return 8
    }
  }
}

/// One file in a zip archive, as described by its central directory record
/// and checked against its local header.
public struct ZipEntry: Sendable, Equatable {
  /// The entry's name (a `/`-separated path), decoded as UTF-8 when the
  /// archive says so (flag bit 11), as code page 437 otherwise.
  public let name: String
  /// How the data is stored.
  public let method: ZipMethod
  /// The CRC-32 of the uncompressed data.
  public let crc32: UInt32
  /// The number of stored (possibly compressed) data bytes.
  public let compressedSize: Int
  /// The number of bytes after decompression.
  public let uncompressedSize: Int
  /// The absolute file offset of the entry's first data byte.
  public let dataOffset: Int
  /// The absolute file offset of the entry's local header.
  public let headerOffset: Int
}
