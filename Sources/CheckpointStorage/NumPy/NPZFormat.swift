import CheckpointCore

/// NumPy's `.npz` format: a zip archive of `.npy` arrays, the tensor `<name>`
/// in the entry `<name>.npy`, in archive order.
///
/// Reading accepts stored (`np.savez`) and deflated (`np.savez_compressed`)
/// entries, zip64 included, with the dtypes and conventions of
/// ``NPYFormat`` (BF16 is `<V2`). Only `.npy` headers are read when opening;
/// a tensor's entry is read, CRC-checked and decoded when it loads.
///
/// Zip archives are also PyTorch checkpoints, Keras files and more, so
/// detection by magic bytes claims a zip only when it is empty
/// (`PK\x05\x06`) or its first entry's name, visible in the first 64 bytes,
/// ends in `.npy`; other zips are chosen by the `.npz` extension, and then
/// an entry that is not a `.npy` array is a clear `.badFormat` error.
///
/// Writing streams one tensor at a time: stored entries (`np.savez`) by
/// default or with `--compress none`, deflated entries at level N
/// (`np.savez_compressed` uses 6) with `--compress zlib:N`. Stored entries
/// are padded (zip extra field "FB", as PyTorch does) so every array's data
/// starts at a 64-byte-aligned file offset and can be memory-mapped.
///
/// String metadata (safetensors `__metadata__`, ...) travels in the zip
/// archive comment as `ckpt-metadata:` followed by a JSON object of strings,
/// which numpy ignores; so safetensors → npz → safetensors gives back the
/// same file. An archive comment in any other form is ignored on reading.
public enum NPZFormat: CheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `npz`.
  public static let identifier = "npz"
  /// The extensions that name this format, when writing and when no magic bytes match: `.npz`.
  public static let fileExtensions = ["npz"]

  /// The prefix of an archive comment that carries metadata.
  static let metadataPrefix = Array("ckpt-metadata:".utf8)

  /// An empty zip, or a zip whose first local header names a `.npy` entry.
  public static func matches(prefix: [UInt8]) -> Bool {
    if prefix.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return true }
    guard prefix.starts(with: [0x50, 0x4B, 0x03, 0x04]), prefix.count >= 30 else { return false }
    let nameLength = Int(prefix[26]) | Int(prefix[27]) << 8
    guard nameLength > 4, 30 + nameLength <= prefix.count else { return false }
    return prefix[30 + nameLength - 4..<30 + nameLength].elementsEqual(".npy".utf8)
  }

  /// Reads the checkpoint at `path`, validating it as the type's documentation says; tensor bytes are read
  /// lazily.
  public static func read(path: String) throws -> Checkpoint {
    let archive = try ZipReader(path: path)
    let file = archive.file
    return try CheckpointError.locating(file: path) {
      var tensors: [Tensor] = []
      for entry in archive.entries {
        guard entry.name.hasSuffix(".npy") else {
          throw CheckpointError(
            .badFormat,
            "not an npz archive: entry '\(entry.name)' is not a .npy array "
              + "(a PyTorch or other zip-based checkpoint? pass --input-format)",
            offset: entry.headerOffset)
        }
        let name = String(entry.name.dropLast(4))
        tensors.append(
          try CheckpointError.locating(tensor: name, offset: entry.dataOffset) {
            try tensor(name: name, entry: entry, archive: archive, file: file)
          })
      }
      return try Checkpoint(
        format: identifier, tensors: tensors, metadata: metadata(fromComment: archive.comment))
    }
  }

  /// The metadata carried in an archive comment, or none.
  static func metadata(fromComment comment: [UInt8]) throws -> [String: String] {
    guard comment.starts(with: metadataPrefix) else { return [:] }
    let json: JSONValue
    do {
      json = try JSONValue.parse(comment[metadataPrefix.count...])
    } catch let error as JSONValue.ParseError {
      throw CheckpointError(.corrupt, "archive comment metadata: \(error.description)")
    }
    guard let members = json.objectValue else {
      throw CheckpointError(.corrupt, "archive comment metadata is not a JSON object")
    }
    var metadata: [String: String] = [:]
    for (key, value) in members {
      guard let text = value.stringValue else {
        throw CheckpointError(.corrupt, "archive comment metadata '\(key)' is not a string")
      }
      metadata[key] = text
    }
    return metadata
  }

  /// The archive comment that carries `metadata` (empty when there is none).
  static func comment(for metadata: [String: String]) throws -> [UInt8] {
    guard !metadata.isEmpty else { return [] }
    let json = JSONValue.object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    let comment = metadataPrefix + Array(json.compactText.utf8)
    guard comment.count <= Int(UInt16.max) else {
      throw CheckpointError(
        .invalidArgument,
        "metadata of \(comment.count) bytes does not fit in an npz archive comment (65535 at most)")
    }
    return comment
  }

  private static func tensor(name: String, entry: ZipEntry, archive: ZipReader, file: InputFile) throws
    -> Tensor
  {
    let header = try NPYHeader.read(available: entry.uncompressedSize) { count in
      switch entry.method {
      case .stored:
        return try file.read(count: count, at: entry.dataOffset)
      case .deflate:
        var next = entry.dataOffset
        let end = entry.dataOffset + entry.compressedSize
        return try Zlib.decompressPrefix(count: count, framing: .raw) {
          let chunk = try file.read(count: min(4096, end - next), at: next)
          next += chunk.count
          return chunk
        }
      }
    }
    let layout = try NPYArrayLayout(header)
    try NPYFormat.checkDataSize(
      available: entry.uncompressedSize - header.size, layout: layout, tensor: name,
      offset: entry.dataOffset + header.size)
    var tensor = Tensor(
      info: TensorInfo(name: name, dtype: layout.dtype, shape: layout.shape), byteCount: layout.byteCount
    ) {
      let bytes = try archive.read(entry)
      guard (try? NPYHeader(parsing: bytes.slice(0..<header.size).array)) == header else {
        throw CheckpointError(
          .corrupt, "the .npy header of entry '\(entry.name)' changed since the archive was opened",
          file: file.path, offset: entry.dataOffset)
      }
      return layout.canonical(bytes.slice(header.size..<bytes.count))
    }
    if case .deflate = entry.method { tensor.storedByteCount = entry.compressedSize }
    return tensor
  }

  /// Writes `checkpoint` as one archive; `options.shardSize` is refused (npz is not sharded).
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    try NPYFormat.refuseSharding(options, path: path)
    let method: ZipMethod
    switch options.compression?.codec ?? .none {
    case .none: method = .stored
    case .zlib: method = .deflate(level: options.compression?.level ?? 6)
    }
    // Check every dtype first so an unsupported tensor fails before any data is written.
    let headers = try checkpoint.tensors.map { try NPYFormat.encodedHeader(for: $0) }
    let comment = try comment(for: checkpoint.metadata)
    // Stored entries: the tensor bytes plus a few hundred bytes of headers each.
    let expected =
      method == .stored ? checkpoint.byteCount + 512 * checkpoint.tensors.count + comment.count : 0
    try AtomicFile.write(to: path, expectedSize: expected) { file in
      let archive = ZipWriter(file: file)
      for (tensor, header) in zip(checkpoint.tensors, headers) {
        let bytes = try tensor.load()
        try CheckpointError.locating(tensor: tensor.name) {
          try archive.add(
            name: tensor.name + ".npy", header: header, data: bytes, method: method,
            alignment: method == .stored ? 64 : 1)
        }
      }
      try archive.finish(comment: comment)
    }
  }
}
