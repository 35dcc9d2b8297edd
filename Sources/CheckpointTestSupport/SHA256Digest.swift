import CheckpointStorage

/// SHA-256 hex digests for comparing tensor bytes with hashes recorded by fixture generators.
public enum SHA256Digest {
  /// The lowercase hex digest of `bytes` (through CheckpointStorage's ``SHA256``).
  public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    let array = Array(bytes)
    // A digest of bytes in memory cannot fail; an empty string would fail every comparison.
    let digest = (try? array.withUnsafeBytes { try SHA256.digest($0) }) ?? []
    return SHA256.hex(digest)
  }
}
