import CheckpointCore

/// Where a `.ckz` reader gets its bytes: a file, or bytes in memory (tests,
/// and files already loaded).
protocol CKZByteSource: Sendable {
  /// A name for error messages (the path).
  var name: String { get }
  /// The total number of bytes.
  var size: Int { get }
  /// Copies `count` bytes at `offset`.
  func read(count: Int, at offset: Int) throws -> [UInt8]
  /// `count` bytes at `offset` as tensor memory: a zero-copy view where possible.
  func view(count: Int, at offset: Int) throws -> TensorBytes
}

extension InputFile: CKZByteSource {
  var name: String { path }

  func view(count: Int, at offset: Int) throws -> TensorBytes {
    try mapBytes(count: count, at: offset)
  }
}

/// A byte source over bytes in memory; views share its storage.
struct CKZMemorySource: CKZByteSource {
  let name: String
  let bytes: TensorBytes

  init(_ bytes: [UInt8], name: String) {
    self.name = name
    self.bytes = TensorBytes(bytes)
  }

  var size: Int { bytes.count }

  func read(count: Int, at offset: Int) throws -> [UInt8] {
    try view(count: count, at: offset).array
  }

  func view(count: Int, at offset: Int) throws -> TensorBytes {
    guard count >= 0, offset >= 0, offset <= size, count <= size - offset else {
      throw CheckpointError(
        .truncated, "needs \(count) bytes but only \(max(0, size - offset)) are left", file: name,
        offset: offset)
    }
    return bytes.slice(offset..<offset + count)
  }
}
