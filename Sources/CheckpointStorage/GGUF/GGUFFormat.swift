import CheckpointCore

/// GGUF version 3 (llama.cpp/ggml): metadata key-value pairs, tensor infos, aligned data.
///
/// Reading validates the header as strictly as llama.cpp (see ``GGUFHeader``) and maps each
/// tensor to a checkpoint tensor whose shape is the stored dimensions reversed (`ne[0]` is
/// the last, fastest-varying dimension). F32, F16, BF16, F64, I8, I16, I32, I64, Q8_0 and
/// Q4_0 tensors are read; their bytes are the file's bytes. Metadata is rendered as text
/// as ``GGUFMetadata`` documents, with the types and key order kept under
/// ``GGUFMetadata/typesKey``.
///
/// Writing produces what gguf-py's `GGUFWriter` writes: version 3, the metadata pairs
/// (``GGUFMetadata/pairs(from:)``), the tensor infos (dimensions reversed, offsets
/// contiguous and aligned), zero padding to `general.alignment` (default 32) after the
/// header and after every tensor. Tensors stream one at a time. GGUF limits apply:
/// names shorter than 64 bytes, at most 4 dimensions, Q8_0/Q4_0 rows a multiple of 32.
public enum GGUFFormat: CheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `gguf`.
  public static let identifier = "gguf"
  /// The extensions that name this format, when writing and when no magic bytes match: `.gguf`.
  public static let fileExtensions = ["gguf"]
  /// GGUF stores Q8_0 and Q4_0 blocks as they are.
  public static var supportsBlockQuantization: Bool { true }

  /// Whether `prefix`, the file's first bytes, starts the way this format's files do.
  public static func matches(prefix: [UInt8]) -> Bool {
    prefix.starts(with: GGUFHeader.magic)
  }

  /// Reads the checkpoint at `path`, validating it as the type's documentation says; tensor bytes are read
  /// lazily.
  public static func read(path: String) throws -> Checkpoint {
    let file = try InputFile(path: path)
    return try CheckpointError.locating(file: path) {
      let header = try GGUFHeader.read(from: file)
      let tensors = header.tensors.map { info -> Tensor in
        let offset = header.dataOffset + info.offset
        let count = info.byteCount
        return Tensor(
          info: TensorInfo(name: info.name, dtype: info.dtype, shape: info.shape), byteCount: count
        ) {
          try CheckpointError.locating(file: path, offset: offset) {
            count >= 1 << 16
              ? try file.mapBytes(count: count, at: offset) : try file.readBytes(count: count, at: offset)
          }
        }
      }
      return try Checkpoint(
        format: identifier, tensors: tensors, metadata: GGUFMetadata.render(header.metadata))
    }
  }

  /// Writes `checkpoint` to `path` atomically: a temporary file in the same folder, synced, then renamed.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    guard options.shardSize == nil else {
      throw CheckpointError(
        .invalidArgument, "GGUF output is not sharded; --shard-size applies to safetensors", file: path)
    }
    if let compression = options.compression, compression.codec != .none {
      throw CheckpointError(
        .invalidArgument, "GGUF files are not compressed (--compress \(compression))", file: path)
    }
    let pairs = try GGUFMetadata.pairs(from: checkpoint.metadata)
    var alignment = GGUFHeader.defaultAlignment
    if case .uint32(let v)? = pairs.first(where: { $0.key == GGUFMetadata.alignmentKey })?.value {
      alignment = Int(v)
    }
    let header = try encodedHeader(checkpoint, pairs: pairs, alignment: alignment)
    try AtomicFile.write(to: path) { file in
      try file.write(header)
      for tensor in checkpoint.tensors {
        let bytes = try tensor.load()
        try file.write(bytes)
        try file.pad(toMultipleOf: alignment)
      }
    }
  }

  /// The header bytes (magic to the padding before the data section) for `checkpoint`.
  static func encodedHeader(
    _ checkpoint: Checkpoint, pairs: [(key: String, value: GGUFValue)], alignment: Int
  ) throws -> [UInt8] {
    var bytes = GGUFHeader.magic
    bytes.appendLittleEndian(GGUFHeader.version)
    bytes.appendLittleEndian(UInt64(checkpoint.tensors.count))
    bytes.appendLittleEndian(UInt64(pairs.count))
    for (key, value) in pairs {
      GGUFValue.encode(string: key, into: &bytes)
      bytes.appendLittleEndian(value.type.rawValue)
      value.encode(into: &bytes)
    }
    var offset = 0
    for tensor in checkpoint.tensors {
      try CheckpointError.locating(tensor: tensor.name) {
        guard let typeID = GGUFTensorType.id(of: tensor.dtype) else {
          throw CheckpointError(.unsupportedDType, "GGUF cannot store \(tensor.dtype) tensors")
        }
        guard tensor.name.utf8.count < GGUFHeader.maximumNameLength else {
          throw CheckpointError(
            .invalidArgument, "GGUF tensor names must be shorter than \(GGUFHeader.maximumNameLength) bytes")
        }
        guard tensor.shape.count <= GGUFHeader.maximumDimensions else {
          throw CheckpointError(
            .invalidArgument, "GGUF tensors have at most \(GGUFHeader.maximumDimensions) dimensions")
        }
        if tensor.dtype.isBlockQuantized, (tensor.shape.last ?? 1) % tensor.dtype.blockElements != 0 {
          throw CheckpointError(
            .invalidShape, "\(tensor.dtype) rows must be a multiple of \(tensor.dtype.blockElements) elements"
          )
        }
        GGUFValue.encode(string: tensor.name, into: &bytes)
        bytes.appendLittleEndian(UInt32(tensor.shape.count))
        for dim in tensor.shape.reversed() { bytes.appendLittleEndian(UInt64(dim)) }
        bytes.appendLittleEndian(typeID)
        bytes.appendLittleEndian(UInt64(offset))
        offset += tensor.byteCount + (alignment - tensor.byteCount % alignment) % alignment
      }
    }
    bytes.append(contentsOf: repeatElement(0, count: (alignment - bytes.count % alignment) % alignment))
    return bytes
  }
}
